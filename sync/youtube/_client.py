"""The Data API client: building it, running one request, retries, and error sentences.

Every request goes through `execute_request` (tenacity owns the retries; the
client's own `num_retries` stays 0 because it ignores Retry-After). Every message
and log line goes through `redact()`: request URIs carry `key=...`.
"""
from __future__ import annotations

import contextlib
import email.utils
import http.client
import importlib.abc
import importlib.util
import json
import logging
import os
import sys
import threading
import warnings
from datetime import datetime, timezone
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

from googleapiclient.errors import HttpError  # light; discovery and httplib2 load with a client (_http)
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from sync.core.errors import BadApiKey, FetchError, PlaylistNotFound, QuotaExceeded, ResponseError
from sync.core.limits import DEFAULT_REQUEST_TIMEOUT, MAX_RESPONSE_BYTES
from sync.core.redact import redact

from ._capped import RequestTooSlow, ResponseTooLarge
from ._results import Quota

log = logging.getLogger("talks.youtube")

DEFAULT_TIMEOUT = DEFAULT_REQUEST_TIMEOUT  # s per HTTP request, first byte to last; then retried
PAGE_SIZE = 50  # the API's maximum for playlistItems.maxResults and for videos.list ids
MAX_ATTEMPTS = 5
MAX_RETRY_SECONDS = 120  # give up rather than sleep past this (also a longer Retry-After)
BACKOFF = wait_exponential_jitter(initial=1, max=60)

RETRYABLE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
BAD_KEY_REASONS = {"keyInvalid", "keyExpired"}

# --------------------------------------------------------------------------- client


class _RedactKeyFilter(logging.Filter):
    """googleapiclient logs request URLs (with key=...) at DEBUG: blank the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


_KEY_FILTER = _RedactKeyFilter()


def _redact_client_logs() -> None:
    for name in ("googleapiclient.discovery", "googleapiclient.http", "googleapiclient.model"):
        logger = logging.getLogger(name)
        if _KEY_FILTER not in logger.filters:
            logger.addFilter(_KEY_FILTER)


# google-api-python-client imports these at its top, for service-account credentials
# (which pull in `cryptography`), HTTP auth challenges (`pyparsing`) and regional
# access boundaries (`asyncio`); a client built with an API key never runs them.
# Loaded lazily, on first use, they stop costing ~70 ms of every API sync's start
# (the scale bench's unchanged re-sync).
_DEFERRED_MODULES = frozenset({"google.oauth2.service_account", "httplib2.auth", "google.auth._regional_access_boundary_utils"})


class _DeferredFinder(importlib.abc.MetaPathFinder):
    """Finds `_DEFERRED_MODULES` as the other finders do, with a LazyLoader around their loader."""

    def find_spec(self, name, path, target=None):
        if name not in _DEFERRED_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


@contextlib.contextmanager
def _deferred_imports():
    finder = _DeferredFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


_GOOGLE_SUPPORT_NOTICES = r"google\.api_core\._python_version_support"  # the module that warns


def load_client_modules() -> None:
    """Import google-api-python-client and httplib2 (late: a run without the API never
    pays for them), leaving out what a key-only client never runs (_DEFERRED_MODULES)."""
    # google-api-core warns on import, every run, as a Python nears or passes Google's
    # support dates (3.10 since 2026-10, 3.11 from 2027-07): no fault of this run, and it
    # would break a healthy nightly's quiet and the one-JSON-object-a-line logs.
    warnings.filterwarnings("ignore", category=FutureWarning, module=_GOOGLE_SUPPORT_NOTICES)
    with _IMPORT_LOCK, _deferred_imports():
        import googleapiclient.discovery  # noqa: F401

        from . import _http  # noqa: F401  (httplib2)


_IMPORT_LOCK = threading.Lock()  # one _DeferredFinder at a time (a background load may run)


def build_client(
    api_key: Optional[str] = None,
    endpoint: Optional[str] = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
):
    """A YouTube Data API v3 client built from the discovery document in the package.

    `endpoint` is a base URL such as "http://127.0.0.1:8080" (without /youtube/v3);
    defaults come from YOUTUBE_API_KEY and YOUTUBE_API_ENDPOINT.
    """
    api_key = api_key or os.environ.get("YOUTUBE_API_KEY")
    endpoint = endpoint or os.environ.get("YOUTUBE_API_ENDPOINT") or None
    if not api_key:
        raise BadApiKey("No YouTube API key given: set YOUTUBE_API_KEY (or sync without the API).")
    load_client_modules()
    from googleapiclient.discovery import build

    from ._http import BoundedHttp

    _redact_client_logs()
    return build(
        "youtube",
        "v3",
        developerKey=api_key,
        http=BoundedHttp(timeout),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": endpoint} if endpoint else None,
    )


# --------------------------------------------------------------------------- errors


class _NotModified(Exception):
    """The server answered 304 to If-None-Match."""


class _MalformedResponse(ValueError):
    """A 2xx answer that is not the list response asked for: not JSON, an error body, no items."""

    def __init__(self, endpoint: str, what: str = "malformed JSON"):
        super().__init__(f"{what} from {endpoint}")
        self.endpoint = endpoint
        self.what = what


LIST_KINDS = {"playlistItems": "youtube#playlistItemListResponse", "videos": "youtube#videoListResponse"}


def check_list_response(response: object, endpoint: str) -> dict:
    """`response` if it is a readable list response of `endpoint`, else `_MalformedResponse`.

    Never conclude from an unreadable answer: an error body sent with HTTP 200, or a
    list without `items`, would otherwise read as "no such videos" and wipe them.
    """
    if not isinstance(response, dict):
        raise _MalformedResponse(endpoint)  # JsonModel hands back raw text that is not JSON
    if "error" in response:
        raise _MalformedResponse(endpoint, "an error document with a success status")
    expected = LIST_KINDS.get(endpoint)
    if expected and response.get("kind") != expected:
        raise _MalformedResponse(endpoint, f"something other than a {endpoint} list (kind {str(response.get('kind'))[:60]!r})")
    items = response.get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _MalformedResponse(endpoint, "a list response without a readable items list")
    token = response.get("nextPageToken")
    if token is not None and not (isinstance(token, str) and 0 < len(token) <= 200):
        raise _MalformedResponse(endpoint, "an unusable nextPageToken")
    return response


def _endpoint_of(uri: object) -> str:
    """'playlistItems' style name of a request URI, never its query (which holds the key)."""
    path = urlsplit(str(uri or "")).path
    return path.rsplit("/", 1)[-1] or "the YouTube API"


def _key_in(uri: object) -> tuple[str, ...]:
    """The API key a request URI carries, to blank it wherever the server echoes it."""
    return tuple(parse_qs(urlsplit(str(uri or "")).query).get("key", ()))


def _error_body(error: HttpError) -> dict:
    try:
        body = json.loads(error.content)
    except (TypeError, ValueError):
        return {}
    inner = body.get("error") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}  # OAuth-style errors are a bare string


def api_error_reason(error: HttpError) -> Optional[str]:
    """The machine reason ("quotaExceeded", "keyInvalid", ...) of an API error, if any."""
    try:
        return _error_body(error)["errors"][0]["reason"]
    except (KeyError, IndexError, TypeError):
        return None


def _api_error_message(error: HttpError) -> str:
    message = _error_body(error).get("message")
    return redact(message if isinstance(message, str) else error.resp.reason)


def _is_bad_key(status: int, reason: Optional[str], message: str) -> bool:
    """Invalid, missing or unusable key (API not enabled for its project, referer lock)."""
    if reason in BAD_KEY_REASONS:
        return True
    if status in (400, 403) and "api key" in message.lower():
        return True  # "API key not valid" (400 badRequest), "missing a valid API key" (403)
    return status == 403 and reason in {"accessNotConfigured", "ipRefererBlocked"}


TRANSIENT_TRANSPORT_ERRORS = (
    TimeoutError,  # socket.timeout: the server did not answer within the client's timeout
    ConnectionError,  # reset, refused, aborted, broken pipe
    http.client.HTTPException,  # IncompleteRead (truncated body), RemoteDisconnected
    _MalformedResponse,  # truncated JSON with a consistent Content-Length, a 200 error body
)


def is_retryable(error: BaseException) -> bool:
    """Worth another attempt: server trouble, throttling, a broken transfer."""
    if isinstance(error, HttpError):
        status = error.resp.status
        if status >= 500 or status == 429:
            return True
        return status == 403 and api_error_reason(error) in RETRYABLE_REASONS
    if isinstance(error, ResponseTooLarge):
        return False  # it would be as large again
    return isinstance(error, TRANSIENT_TRANSPORT_ERRORS + _httplib2_errors("ServerNotFoundError"))


def _httplib2_errors(name: str = "HttpLib2Error") -> tuple:
    """httplib2's error class, once a client loaded httplib2 (before, none can be raised)."""
    httplib2 = sys.modules.get("httplib2")
    return (getattr(httplib2, name),) if httplib2 is not None else ()


def retry_after_seconds(error: BaseException | None) -> Optional[float]:
    """The server's Retry-After (seconds or HTTP date) on an HttpError, else None."""
    if not isinstance(error, HttpError):
        return None
    value = (error.resp or {}).get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _wait_retry_after_or_backoff(retry_state) -> float:
    seconds = retry_after_seconds(retry_state.outcome.exception())
    return seconds if seconds is not None else BACKOFF(retry_state)


def _describe_failure(error: BaseException | None) -> str:
    if isinstance(error, HttpError):
        reason = api_error_reason(error)
        return f"HTTP {error.resp.status}" + (f" {reason}" if reason else "")
    if isinstance(error, _MalformedResponse):
        return error.what
    if isinstance(error, (RequestTooSlow, ResponseTooLarge)):
        return str(error)
    return type(error).__name__


def _log_retry(retry_state) -> None:
    error = retry_state.outcome.exception()
    request = retry_state.args[0] if retry_state.args else None
    uri = getattr(request, "uri", "")
    log.warning(
        redact(
            "YouTube API %s: %s; retrying in %.1f s (attempt %d of %d)"
            % (
                _endpoint_of(uri),
                _describe_failure(error),
                retry_state.upcoming_sleep,
                retry_state.attempt_number + 1,
                MAX_ATTEMPTS,
            ),
            _key_in(uri),
        )
    )


def _forget_connections(http_obj: Any) -> None:
    """After a broken transfer, make the next attempt start on a fresh socket."""
    connections = getattr(http_obj, "connections", None)
    if not isinstance(connections, dict):
        return
    for conn in list(connections.values()):
        try:
            conn.close()
        except OSError:
            pass
    connections.clear()


@retry(
    retry=retry_if_exception(is_retryable),
    wait=_wait_retry_after_or_backoff,
    stop=stop_after_attempt(MAX_ATTEMPTS) | stop_before_delay(MAX_RETRY_SECONDS),
    before_sleep=_log_retry,
    reraise=True,
)
def execute_request(request, quota: Quota) -> dict:
    """Run one API request once; the single place that talks to the network.

    Retried by tenacity; tests replace the sleep with
    `execute_request.retry_with(sleep=recorded.append)`.
    """
    quota.spend(1)
    try:
        response = request.execute(num_retries=0)
    except (OSError, http.client.HTTPException):
        _forget_connections(getattr(request, "http", None))
        raise
    except (UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise _MalformedResponse(_endpoint_of(request.uri)) from None
    return check_list_response(response, _endpoint_of(request.uri))


Executor = Callable[[Any, Quota], dict]


def _attempts(execute: Executor) -> int:
    """How many attempts the last call of a tenacity-wrapped `execute` made."""
    return getattr(execute, "statistics", {}).get("attempt_number", 1)


def _attempts_text(n: int) -> str:
    return f"{n} attempt" + ("s" if n != 1 else "")


def call_api(request, quota: Quota, *, execute: Executor = execute_request, playlist_id: str | None = None) -> dict:
    """`execute(request, quota)`, with every failure turned into a sync error sentence."""
    endpoint = _endpoint_of(request.uri)
    try:
        return execute(request, quota)
    except HttpError as error:
        if error.resp.status == 304:
            raise _NotModified() from None
        sync_error = _translate_http_error(error, endpoint, playlist_id, _attempts(execute))
    except _MalformedResponse as error:
        sync_error = ResponseError(
            f"YouTube API {error.endpoint} answered with {error.what} "
            f"({_attempts_text(_attempts(execute))})."
        )
    except ResponseTooLarge:
        sync_error = ResponseError(
            f"YouTube API {endpoint} sent an answer larger than {MAX_RESPONSE_BYTES // 2**20} MB; refused unread."
        )
    except RequestTooSlow as error:
        sync_error = FetchError(
            f"YouTube API {endpoint} gave {error} after {_attempts_text(_attempts(execute))}."
        )
    except _httplib2_errors() as error:  # an undecodable body, a malformed redirect
        sync_error = ResponseError(f"YouTube API {endpoint} answered unusably: {type(error).__name__}.")
    except TRANSIENT_TRANSPORT_ERRORS as error:
        sync_error = FetchError(
            f"Could not reach the YouTube API ({endpoint}) after {_attempts_text(_attempts(execute))}: "
            f"{type(error).__name__}: {error}"
        )
    # `from None`: the HttpError in __context__ would carry the full URI, key included
    raise type(sync_error)(redact(sync_error, _key_in(request.uri))) from None


def _translate_http_error(error: HttpError, endpoint: str, playlist_id: str | None, attempts: int) -> Exception:
    """The sync error for an HttpError that retrying did not (or cannot) fix; `call_api` redacts it."""
    status = error.resp.status
    reason = api_error_reason(error)
    message = _api_error_message(error)
    if 300 <= status < 400:
        return ResponseError(
            f"YouTube API {endpoint} answered with a redirect (HTTP {status}), which the API never sends; not followed."
        )
    if reason in QUOTA_REASONS:
        return QuotaExceeded(
            "YouTube API quota exceeded (403 quotaExceeded); "
            "it resets at midnight Pacific time; try again then."
        )
    if _is_bad_key(status, reason, message):
        return BadApiKey(f"YouTube rejected the API key ({message}): check YOUTUBE_API_KEY.")
    if reason == "playlistNotFound" or (status == 404 and playlist_id):
        return PlaylistNotFound(
            f"YouTube has no playlist {playlist_id} (it does not exist or is private): "
            "check the id given with --playlist or linked from the webinar page."
        )
    if is_retryable(error):
        wait = retry_after_seconds(error)
        too_long = ""
        if wait and wait > MAX_RETRY_SECONDS:
            too_long = f"; it asked to wait {wait:.0f} s (Retry-After), longer than a sync waits"
        return FetchError(
            f"YouTube API {endpoint} kept failing ({_describe_failure(error)}) after {_attempts_text(attempts)}{too_long}."
        )
    return ResponseError(f"YouTube API {endpoint} refused the request: HTTP {status} {reason or '-'}: {message}")

