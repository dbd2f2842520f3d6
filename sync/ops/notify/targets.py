"""Notification URLs (Apprise's: json://, mailto://, tgram://, ntfy://, ...) and their
delivery. A URL carries secrets (tokens, passwords): it is never stored, logged or
shown. The database keeps a fingerprint (sync.ops.notify.state), people see a label
(`json:// 3f2a9c1b`), and every part of the URL that could be a secret is handed to
sync.core.redact, which blanks it in every log line and error sentence.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional
from urllib.parse import unquote, unquote_plus

from sync.core.redact import keep_secret, redact

ENV = "TALKS_NOTIFY"  # Apprise URLs separated by spaces
SITE_ENV = "TALKS_SITE_URL"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31})://")
# Shorter pieces are no secret worth the name, and blanking them would blank letters of every line.
MIN_SECRET_CHARS = 4
MIN_TOKEN_CHARS = 12  # a piece this long is a token to blank in every line of the process
MAX_ERROR_CHARS = 300


class NotifyConfigError(ValueError):
    """A notification URL that cannot be used; str() names it without showing it."""


@dataclass(frozen=True)
class NotifyUrl:
    url: str = field(repr=False)  # the secret: never in repr, logs or the database
    scheme: str

    def __str__(self) -> str:
        return f"{self.scheme}://…"


def _pieces(url: str) -> tuple[str, list[str]]:
    """(the password, every piece that could be a secret: user, password, host, path
    segments, query values, fragment)."""
    rest = url.split("://", 1)[-1]
    head, _, fragment = rest.partition("#")
    head, _, query = head.partition("?")
    netloc, _, path = head.partition("/")
    userinfo, _, host = netloc.rpartition("@")
    values = [pair.partition("=")[2] for pair in query.split("&")]
    return userinfo.partition(":")[2], [rest, fragment, *userinfo.split(":"), host, *host.split(":"),
                                        *path.split("/"), *values]


def _forms(pieces, shortest: int) -> set[str]:
    return {v for p in pieces if len(p) >= shortest for v in (p, unquote(p), unquote_plus(p))}


def secret_parts(url: str) -> list[str]:
    """The URL and every piece of it that could be a secret, as written and decoded:
    blanked in whatever Apprise says about a delivery before it goes anywhere."""
    return sorted(_forms([url, *_pieces(url)[1]], MIN_SECRET_CHARS), key=len, reverse=True)


def process_secrets(url: str) -> list[str]:
    """What every log line, error sentence and stored error of this process blanks: the
    URL, its password and its long pieces (tokens). Short ones (a host, a word of a path)
    are left readable there: nothing of ours prints a URL, and Apprise's own words are
    blanked whole by `secret_parts`."""
    password, pieces = _pieces(url)
    return sorted(_forms([url, password], MIN_SECRET_CHARS) | _forms(pieces, MIN_TOKEN_CHARS), key=len, reverse=True)


def from_sources(options: Iterable[str], environ=os.environ) -> list[NotifyUrl]:
    """The URLs of --notify (each may hold several, space-separated) and TALKS_NOTIFY,
    each once, each checked with Apprise. Raises NotifyConfigError naming the bad one
    by its place and scheme only."""
    found: list[tuple[str, str]] = []
    for where, text in [*(("--notify", o) for o in options), (ENV, environ.get(ENV, ""))]:
        found += [(where, url) for url in (text or "").split()]
    for _, url in found:  # before anything can print them
        keep_secret(*process_secrets(url))
    urls: list[NotifyUrl] = []
    for number, (where, url) in enumerate(found, 1):
        scheme = _SCHEME.match(url)
        if not scheme:
            raise NotifyConfigError(f"{where}: notification URL {number} is no URL (scheme://...)")
        if any(u.url == url for u in urls):
            continue
        candidate = NotifyUrl(url, scheme.group(1).lower())
        if not _usable(candidate):
            raise NotifyConfigError(f"{where}: notification URL {number} ({candidate}) is not one Apprise can use;"
                                    " see Apprise's list of services")
        urls.append(candidate)
    return urls


def site_url(option: Optional[str], environ=os.environ) -> Optional[str]:
    """--site-url or TALKS_SITE_URL, checked: an http(s) address, without its last slash."""
    value = (option or environ.get(SITE_ENV) or "").strip()
    if not value:
        return None
    if not re.match(r"https?://[^\s/?#]+(/[^\s?#]*)?$", value):
        raise NotifyConfigError(f"the site's address must be an http(s) URL with no query, not {value[:80]!r}")
    return value.rstrip("/")


@contextlib.contextmanager
def _apprise_log():
    """Apprise's own log lines (which name hosts, paths and, at debug, whole URLs) are
    caught here, never printed; the last warning or error says why a delivery failed."""
    logger = logging.getLogger("apprise")
    caught: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record):
            caught.append(record.getMessage())

    handler = Catch(logging.WARNING)
    saved = logger.handlers[:], logger.propagate, logger.level
    logger.handlers[:], logger.propagate = [handler], False
    logger.setLevel(logging.WARNING)
    try:
        yield caught
    finally:
        logger.handlers[:], logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])


def _apprise(url: NotifyUrl):
    import apprise

    box = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))  # no files of its own
    return box if box.add(url.url) else None


def _usable(url: NotifyUrl) -> bool:
    with _apprise_log():
        try:
            return _apprise(url) is not None
        except Exception:  # a plugin that fails on this URL: unusable (its message could quote it)
            return False


def send(url: NotifyUrl, title: str, body: str) -> Optional[str]:
    """Deliver one message; None when the service took it, else why not (redacted)."""
    import apprise

    with _apprise_log() as caught:
        try:
            box = _apprise(url)
            ok = bool(box and box.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
        except Exception as exc:  # a bug or an odd answer in a plugin: a failed delivery, retried next run
            caught.append(f"{type(exc).__name__}: {exc}")
            ok = False
    if ok:
        return None
    reason = caught[-1] if caught else "the service did not take it"
    return redact(" ".join(reason.split()), tuple(secret_parts(url.url)))[:MAX_ERROR_CHARS]
