"""Reading the series' pages from a local path, an http(s) URL or the bundled snapshot."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import tenacity

from sync.core.errors import DeadlineExceeded, FetchError, PageError
from sync.core.deadlines import Deadline, time_limit
from sync.core.limits import MAX_PAGE_BYTES

log = logging.getLogger("talks.pages")

RAW_BASE = "https://raw.githubusercontent.com/medical-datasets/medical-datasets.github.io/main"
DEFAULT_WEBINAR_PAGE = f"{RAW_BASE}/_pages/webinar.md"
DEFAULT_TALKS_PAGE = f"{RAW_BASE}/_pages/webinar_talks.md"



def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _retryable_http(exc: BaseException) -> bool:
    import httpx  # late, as everywhere here: a run from files or the snapshot never needs it

    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, (httpx.TransportError, DeadlineExceeded))


@tenacity.retry(
    retry=tenacity.retry_if_exception(_retryable_http),
    wait=tenacity.wait_exponential_jitter(initial=1, max=30),
    stop=tenacity.stop_after_attempt(4),
    before_sleep=tenacity.before_sleep_log(log, logging.WARNING),
    reraise=True,
)
def _get(url: str, timeout: float) -> bytes:
    import httpx

    # httpx's timeout bounds each read; the deadline bounds the whole request, so a
    # server dripping a byte at a time cannot hold the sync
    deadline = Deadline(timeout, "each attempt", " (--timeout)")
    with time_limit(deadline), httpx.Client(timeout=timeout, follow_redirects=True) as client:
        with client.stream("GET", url) as response:
            response.raise_for_status()
            too_large = PageError(f"{url} is larger than {MAX_PAGE_BYTES // 2**20} MB; not a page")
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_PAGE_BYTES:
                raise too_large  # refused unread
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_PAGE_BYTES:
                    raise too_large
                deadline.check()  # off the main thread, where no alarm interrupts a read
            return bytes(body)


def read_page_bytes(source: str, timeout: float = 30.0) -> bytes:
    """The raw bytes of a page, from a URL (retried) or a local path."""
    if _is_url(source):
        import httpx

        try:
            return _get(source, timeout)
        except httpx.InvalidURL as exc:
            raise PageError(f"{source} is not a valid URL ({exc})") from None
        except httpx.HTTPStatusError as exc:
            raise FetchError(f"{source} answered HTTP {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{source} could not be fetched: {type(exc).__name__}") from None
        except DeadlineExceeded as exc:
            raise FetchError(f"{source} could not be fetched in 4 attempts: {str(exc).rstrip('.')}.") from None
    path = Path(source)
    if not path.is_file():
        raise PageError(f"{source}: no such file")
    if path.stat().st_size > MAX_PAGE_BYTES:
        raise PageError(f"{source} is larger than {MAX_PAGE_BYTES // 2**20} MB; not a page")
    return path.read_bytes()


@dataclass
class Snapshot:
    """The bundled offline snapshot: real pages as of `date`, plus a recorded playlist."""

    date: str
    webinar_page: str
    talks_page: str
    youtube: dict  # recorded API responses, see sync/snapshot/README in snapshot.json
    webinar_source: str
    talks_source: str


def load_snapshot() -> Snapshot:
    base = resources.files("sync") / "snapshot"
    meta = json.loads((base / "snapshot.json").read_text("utf-8"))
    return Snapshot(
        date=meta["date"],
        webinar_page=(base / "webinar.md").read_text("utf-8"),
        talks_page=(base / "webinar_talks.md").read_text("utf-8"),
        youtube=meta.get("youtube", {}),
        webinar_source=meta["webinar_source"],
        talks_source=meta["talks_source"],
    )
