"""Read the series' YouTube playlist(s) and videos: Data API v3, or yt-dlp without a key.

Two entry points return the same `YouTubeResult`:

- `fetch_youtube_api(...)`: playlistItems.list + videos.list through
  google-api-python-client. Costs ceil(n/50) + ceil((n+m)/50) units for n playlist
  items and m extra page-linked ids; a playlist whose first page answers 304 to
  `If-None-Match` costs one unit and keeps the caller's stored items.
- `fetch_youtube_ytdlp(...)`: the keyless fallback; slower, no quota, stops at the
  first bot wall or rate limit instead of hammering YouTube.

Every request goes through `execute_request` (tenacity owns the retries; the
client's own `num_retries` stays 0 because it ignores Retry-After). Every message
and log line goes through `redact()`: request URIs carry `key=...`.
"""
from __future__ import annotations

import email.utils
import http.client
import json
import logging
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Optional
from urllib.parse import parse_qs, urlsplit

import httplib2
import isodate
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from sync.errors import (
    BadApiKey,
    TalksError,
    BotWall,
    FetchError,
    PlaylistNotFound,
    QuotaExceeded,
    ResponseError,
)
from sync.records import Playlist, PlaylistItem, VideoRecord
from sync.redact import redact

log = logging.getLogger("talks.youtube")

DEFAULT_TIMEOUT = 30.0  # seconds per HTTP request; a slower answer raises and is retried
PAGE_SIZE = 50  # the API's maximum for playlistItems.maxResults and for videos.list ids
MAX_ATTEMPTS = 5
MAX_RETRY_SECONDS = 120  # give up rather than sleep past this (also a longer Retry-After)
BACKOFF = wait_exponential_jitter(initial=1, max=60)

PLAYLIST_PARTS = "snippet,contentDetails,status"
VIDEO_PARTS = "snippet,contentDetails,statistics,status"
THUMBNAIL_PREFERENCE = ("maxres", "standard", "high", "medium", "default")
AVAILABILITY_BY_PRIVACY = {"public": "public", "unlisted": "unlisted", "private": "private"}

RETRYABLE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
BAD_KEY_REASONS = {"keyInvalid", "keyExpired"}


# --------------------------------------------------------------------------- results


@dataclass
class Quota:
    """What a sync spent: HTTP requests made and API units charged.

    Every attempt counts, failed, retried and 304 ones included: Google charges
    them all.
    """

    requests: int = 0
    units: int = 0

    def spend(self, units: int = 1) -> None:
        self.requests += 1
        self.units += units


@dataclass
class PlaylistFetch:
    """One playlist as `fetch_playlist_items` read it."""

    playlist: Playlist
    items: list[PlaylistItem] = field(default_factory=list)
    # private/deleted entries, known from the playlist alone (videos.list omits them)
    unavailable: dict[str, VideoRecord] = field(default_factory=dict)
    unchanged: bool = False  # the first page answered 304: keep the stored items


@dataclass
class YouTubeResult:
    """Everything one sync learnt from YouTube.

    `items` holds the items of changed playlists only; for a playlist in
    `unchanged_playlists` the caller keeps what it stored. `videos` covers every
    video of the playlists (unchanged ones through `known_items`) and every
    page-linked id, except the `kept_unavailable` ones.
    """

    playlists: list[Playlist] = field(default_factory=list)
    items: list[PlaylistItem] = field(default_factory=list)
    videos: dict[str, VideoRecord] = field(default_factory=dict)
    unchanged_playlists: set[str] = field(default_factory=set)
    # ids of unchanged playlists that videos.list left out: still listed, so private or
    # deleted as the caller stored them (a stored "public" one has gone: treat as not_found)
    kept_unavailable: set[str] = field(default_factory=set)
    requests: int = 0
    units: int = 0
    warnings: list[str] = field(default_factory=list)
    source: str = "api"  # "api" or "yt-dlp"


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
    _redact_client_logs()
    return build(
        "youtube",
        "v3",
        developerKey=api_key,
        http=httplib2.Http(timeout=timeout),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": endpoint} if endpoint else None,
    )


# --------------------------------------------------------------------------- errors


class _NotModified(Exception):
    """The server answered 304 to If-None-Match."""


class _MalformedResponse(ValueError):
    """A 2xx answer whose body is not the JSON object the API sends."""

    def __init__(self, endpoint: str):
        super().__init__(f"malformed JSON from {endpoint}")
        self.endpoint = endpoint


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
    httplib2.ServerNotFoundError,
    _MalformedResponse,  # truncated JSON with a consistent Content-Length
)


def is_retryable(error: BaseException) -> bool:
    """Worth another attempt: server trouble, throttling, a broken transfer."""
    if isinstance(error, HttpError):
        status = error.resp.status
        if status >= 500 or status == 429:
            return True
        return status == 403 and api_error_reason(error) in RETRYABLE_REASONS
    return isinstance(error, TRANSIENT_TRANSPORT_ERRORS)


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
        return "malformed JSON"
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
    except UnicodeDecodeError:
        raise _MalformedResponse(_endpoint_of(request.uri)) from None
    # JsonModel hands back the raw text when the body is not JSON (a truncated page)
    if not isinstance(response, dict):
        raise _MalformedResponse(_endpoint_of(request.uri))
    return response


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
            f"YouTube API {error.endpoint} answered with malformed JSON "
            f"({_attempts_text(_attempts(execute))})."
        )
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


# --------------------------------------------------------------------------- playlists


def _is_unavailable_item(item: dict) -> bool:
    """Private and deleted entries lack the owner channel and the publication date."""
    snippet = item.get("snippet") or {}
    details = item.get("contentDetails") or {}
    return not snippet.get("videoOwnerChannelId") and not details.get("videoPublishedAt")


def _unavailable_stub(item: dict, video_id: str) -> VideoRecord:
    privacy = (item.get("status") or {}).get("privacyStatus")
    # YouTube's placeholder title ("Private video") is not the video's: leave title empty
    return VideoRecord(video_id=video_id, availability="private" if privacy == "private" else "deleted")


def _item_video_id(item: dict) -> str:
    details = item.get("contentDetails") or {}
    snippet = item.get("snippet") or {}
    video_id = details.get("videoId") or (snippet.get("resourceId") or {}).get("videoId")
    if not isinstance(video_id, str) or not video_id:
        raise KeyError("videoId")
    return video_id


def _playlist_item(playlist_id: str, item: dict, fallback_position: int) -> PlaylistItem:
    snippet = item.get("snippet") or {}
    position = snippet.get("position")
    return PlaylistItem(
        playlist_id=playlist_id,
        video_id=_item_video_id(item),
        position=position if isinstance(position, int) else fallback_position,
        added_at=snippet.get("publishedAt"),
    )


def _playlist_page_request(client, playlist_id: str, page_token: str | None, etag: str | None):
    # A fresh request per page: list_next() copies the request shallowly, so a header
    # set on page 1 would ride along on every later page (and it logs the key).
    request = client.playlistItems().list(
        part=PLAYLIST_PARTS, playlistId=playlist_id, maxResults=PAGE_SIZE, pageToken=page_token
    )
    if etag:
        request.headers["If-None-Match"] = etag
    return request


def _iter_playlist_pages(
    client, playlist_id: str, quota: Quota, etag: str | None = None, *, execute: Executor = execute_request
) -> Iterator[dict]:
    """Yield each playlistItems page; raises `_NotModified` if page 1 answers 304 to `etag`."""
    page_token = None
    tokens_seen: set[str] = set()
    while True:
        first = page_token is None
        request = _playlist_page_request(client, playlist_id, page_token, etag if first else None)
        page = call_api(request, quota, execute=execute, playlist_id=playlist_id)
        yield page
        page_token = page.get("nextPageToken")
        if not page_token:
            return
        if page_token in tokens_seen:  # a looping token would spend the day's quota
            raise ResponseError(f"YouTube API playlistItems repeated page token {page_token!r} for playlist {playlist_id}.")
        tokens_seen.add(page_token)


def fetch_playlist_items(
    client, playlist_id: str, quota: Quota, etag: str | None = None, *, execute: Executor = execute_request
) -> PlaylistFetch:
    """Every item of a playlist, with stubs for its private and deleted entries.

    With the `etag` of the previous sync's first page, an unchanged playlist costs
    one unit and comes back as `unchanged=True` with no items.
    """
    fetched = PlaylistFetch(playlist=Playlist(playlist_id=playlist_id, etag=etag))
    try:
        for page_number, page in enumerate(_iter_playlist_pages(client, playlist_id, quota, etag, execute=execute)):
            if page_number == 0:
                fetched.playlist.etag = page.get("etag")
            _collect_page(fetched, page)
    except _NotModified:
        fetched.unchanged = True
        fetched.items.clear()
        fetched.unavailable.clear()
    return fetched


def _collect_page(fetched: PlaylistFetch, page: dict) -> None:
    playlist_id = fetched.playlist.playlist_id
    try:
        for item in page.get("items") or []:
            record = _playlist_item(playlist_id, item, len(fetched.items))
            fetched.items.append(record)
            if _is_unavailable_item(item):
                fetched.unavailable[record.video_id] = _unavailable_stub(item, record.video_id)
    except (AttributeError, KeyError, TypeError) as error:
        raise ResponseError(
            redact(f"YouTube API playlistItems sent an item without a usable video id for playlist {playlist_id} ({error!r}).")
        ) from None


# --------------------------------------------------------------------------- videos


def _duration_seconds(text: object) -> Optional[int]:
    if not isinstance(text, str) or not text:
        return None
    try:
        return int(isodate.parse_duration(text).total_seconds())
    except (isodate.ISO8601Error, ValueError, AttributeError):
        return None


def _int_or_none(value: object) -> Optional[int]:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def best_thumbnail(thumbnails: object) -> Optional[str]:
    if not isinstance(thumbnails, dict):
        return None
    for size in THUMBNAIL_PREFERENCE:
        url = (thumbnails.get(size) or {}).get("url")
        if url:
            return url
    return None


def video_record(resource: dict) -> VideoRecord:
    """Map one videos.list resource to a VideoRecord."""
    snippet = resource.get("snippet") or {}
    details = resource.get("contentDetails") or {}
    statistics = resource.get("statistics") or {}
    privacy = (resource.get("status") or {}).get("privacyStatus")
    caption = details.get("caption")
    return VideoRecord(
        video_id=resource["id"],
        availability=AVAILABILITY_BY_PRIVACY.get(privacy, "public"),
        title=snippet.get("title"),
        description=snippet.get("description"),
        published_at=snippet.get("publishedAt"),
        duration_seconds=_duration_seconds(details.get("duration")),
        channel=snippet.get("channelTitle"),
        channel_id=snippet.get("channelId"),
        thumbnail_url=best_thumbnail(snippet.get("thumbnails")),
        view_count=_int_or_none(statistics.get("viewCount")),
        has_captions=None if caption is None else caption == "true",
    )


def _batches(ids: list[str], size: int = PAGE_SIZE) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i))


def fetch_videos(
    client,
    video_ids: Iterable[str],
    quota: Quota,
    *,
    known_unavailable: dict[str, VideoRecord] | None = None,
    execute: Executor = execute_request,
) -> list[VideoRecord]:
    """videos.list in batches of 50; an id YouTube leaves out becomes "not_found",
    unless the playlist already said it is private or deleted (then that stub)."""
    known_unavailable = known_unavailable or {}
    ids = _unique(video_ids)
    found: dict[str, VideoRecord] = {}
    for batch in _batches(ids):
        request = client.videos().list(part=VIDEO_PARTS, id=",".join(batch), maxResults=PAGE_SIZE)
        response = call_api(request, quota, execute=execute)
        try:
            for resource in response.get("items") or []:
                record = video_record(resource)
                found[record.video_id] = record
        except (AttributeError, KeyError, TypeError) as error:
            raise ResponseError(f"YouTube API videos sent a video without an id ({error!r}).") from None
    return [found.get(i) or known_unavailable.get(i) or VideoRecord(video_id=i, availability="not_found") for i in ids]


# --------------------------------------------------------------------------- the API sync


def fetch_youtube_api(
    playlist_ids: Iterable[str],
    linked_video_ids: Iterable[str],
    *,
    api_key: str | None,
    endpoint: str | None = None,
    etags: dict[str, str] | None = None,
    known_items: dict[str, list[str]] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] | None = None,
    client=None,
) -> YouTubeResult:
    """Read the playlists, then every video they hold or the pages link to.

    `etags[playlist_id]` is the stored etag of a playlist's first page; it is sent as
    If-None-Match only when `known_items[playlist_id]` lists the stored video ids,
    because an unchanged playlist still needs its videos refreshed. `sleep`
    replaces the retry sleep (tests pass `recorded.append`).
    """
    etags = etags or {}
    known_items = known_items or {}
    execute = execute_request.retry_with(sleep=sleep) if sleep else execute_request
    own_client = client is None
    client = client or build_client(api_key, endpoint, timeout=timeout)
    quota = Quota()
    result = YouTubeResult(source="api")
    unavailable: dict[str, VideoRecord] = {}
    playlist_video_ids: list[str] = []
    unchanged_video_ids: set[str] = set()

    try:
        for playlist_id in _unique(playlist_ids):
            etag = etags.get(playlist_id) if playlist_id in known_items else None
            fetched = fetch_playlist_items(client, playlist_id, quota, etag, execute=execute)
            result.playlists.append(fetched.playlist)
            if fetched.unchanged:
                result.unchanged_playlists.add(playlist_id)
                playlist_video_ids += known_items[playlist_id]
                unchanged_video_ids.update(known_items[playlist_id])
                continue
            result.items += fetched.items
            unavailable.update(fetched.unavailable)
            playlist_video_ids += [item.video_id for item in fetched.items]

        # private/deleted entries are absent from videos.list anyway: don't pay for them
        wanted = [i for i in _unique([*playlist_video_ids, *linked_video_ids]) if i not in unavailable]
        for record in fetch_videos(client, wanted, quota, execute=execute):
            if record.availability == "not_found" and record.video_id in unchanged_video_ids:
                # the 304 playlist still lists it, so it exists: private or deleted, not "not found"
                result.kept_unavailable.add(record.video_id)
            else:
                result.videos[record.video_id] = record
        result.videos.update(unavailable)
    except TalksError as error:
        _charge(error, quota.requests, quota.units)
        raise
    finally:
        result.requests, result.units = quota.requests, quota.units
        if own_client:
            client.close()  # the keep-alive sockets
    return result


def _charge(error: TalksError, requests: int, units: int) -> None:
    """A failed sync still spent requests and quota: the error carries them to the run ledger."""
    error.requests = requests  # type: ignore[attr-defined]
    error.units = units  # type: ignore[attr-defined]


def quota_bound(playlist_sizes: Iterable[int], extra_linked_count: int) -> int:
    """The most units `fetch_youtube_api` spends when nothing fails.

    One page per 50 items of each playlist (an empty playlist still costs its one
    page), plus one videos.list per 50 distinct ids. For a single playlist of n
    items and m extra linked ids: ceil(n/50) + ceil((n+m)/50).
    """
    sizes = list(playlist_sizes)
    pages = sum(max(1, math.ceil(n / PAGE_SIZE)) for n in sizes)
    return pages + math.ceil((sum(sizes) + extra_linked_count) / PAGE_SIZE)


def result_from_recorded(recorded: dict) -> YouTubeResult:
    """Replay recorded Data API responses (the offline snapshot) through the same parsers.

    `recorded` = {"playlistItems": {playlist_id: [page, ...]}, "videos": [response, ...]}
    where each page/response is a playlistItems.list / videos.list JSON body as the
    API sent it. A playlist video missing from every recorded videos response is
    "not_found" (or its private/deleted stub). Costs nothing: requests and units are 0.
    """
    result = YouTubeResult(source="snapshot")
    unavailable: dict[str, VideoRecord] = {}
    for playlist_id, pages in (recorded.get("playlistItems") or {}).items():
        fetched = PlaylistFetch(playlist=Playlist(playlist_id=playlist_id, etag=(pages[0].get("etag") if pages else None)))
        for page in pages:
            _collect_page(fetched, page)
        result.playlists.append(fetched.playlist)
        result.items += fetched.items
        unavailable.update(fetched.unavailable)
    for response in recorded.get("videos") or []:
        for resource in response.get("items") or []:
            record = video_record(resource)
            result.videos[record.video_id] = record
    for item in result.items:
        if item.video_id not in result.videos:
            result.videos[item.video_id] = unavailable.get(item.video_id) or VideoRecord(item.video_id, "not_found")
    return result


# --------------------------------------------------------------------------- yt-dlp (no key)

MAX_UNEXPLAINED_FAILURES = 3  # in a row: YouTube or the network is down, stop asking
PRIVATE_PLACEHOLDER = "[Private video]"
DELETED_PLACEHOLDER = "[Deleted video]"


def playlist_url(playlist_id: str) -> str:
    return f"https://www.youtube.com/playlist?list={playlist_id}"


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def classify_ytdlp_message(message: str) -> Optional[str]:
    """"bot_wall", "rate_limited", "private", "unavailable" or None for a yt-dlp message."""
    text = message.lower()
    if "not a bot" in text:  # "Sign in to confirm you’re not a bot" (U+2019 apostrophe)
        return "bot_wall"
    if "content isn't available, try again later" in text.replace("\u2019", "'"):
        return "rate_limited"
    if "private video" in text or "this video is private" in text:
        return "private"
    if "video unavailable" in text or "does not exist" in text:
        return "unavailable"
    return None


class _YtdlpLog:
    """yt-dlp's `logger`: keeps warnings and errors so a run can read what went wrong.

    With ignore_no_formats_error, YouTube's refusal reason (bot wall, private,
    unavailable) arrives as a warning, not as a DownloadError.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        self.messages.append(msg)

    def error(self, msg: str) -> None:
        self.messages.append(msg)

    def take(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken


def _ytdlp_params(ytdlp_log: _YtdlpLog, *, listing: bool) -> dict:
    params: dict = {
        "quiet": True,
        "no_warnings": False,
        "skip_download": True,
        "logger": ytdlp_log,
        "cachedir": False,
    }
    if listing:
        params["extract_flat"] = "in_playlist"
    else:
        params.update({"ignore_no_formats_error": True, "noplaylist": True})
    return params


def _default_ydl_factory(params: dict):
    import yt_dlp  # imported late: only the keyless path needs it

    return yt_dlp.YoutubeDL(params)


def _download_error_types() -> tuple[type[BaseException], ...]:
    from yt_dlp.utils import DownloadError, ExtractorError

    return (DownloadError, ExtractorError)


def _iso_upload_date(info: dict) -> Optional[str]:
    timestamp = info.get("timestamp")
    if isinstance(timestamp, (int, float)):
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    date = info.get("upload_date")
    if isinstance(date, str) and len(date) == 8 and date.isdigit():
        return f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return None


def _has_tracks(tracks: object) -> bool:
    return isinstance(tracks, dict) and any(lang != "live_chat" and formats for lang, formats in tracks.items())


def ytdlp_video_record(info: dict) -> VideoRecord:
    """Map a full yt-dlp info dict to a VideoRecord."""
    duration = info.get("duration")
    return VideoRecord(
        video_id=info["id"],
        availability="unlisted" if info.get("availability") == "unlisted" else "public",
        title=info.get("title"),
        description=info.get("description"),
        published_at=_iso_upload_date(info),
        duration_seconds=int(duration) if isinstance(duration, (int, float)) else None,
        channel=info.get("channel") or info.get("uploader"),
        channel_id=info.get("channel_id"),
        thumbnail_url=info.get("thumbnail"),
        view_count=_int_or_none(info.get("view_count")),
        has_captions=_has_tracks(info.get("subtitles")) or _has_tracks(info.get("automatic_captions")),
    )


def _flat_entry_stub(entry: dict) -> Optional[VideoRecord]:
    title = entry.get("title")
    if title == PRIVATE_PLACEHOLDER:
        return VideoRecord(video_id=entry["id"], availability="private")
    if title == DELETED_PLACEHOLDER:
        return VideoRecord(video_id=entry["id"], availability="deleted")
    return None


def _stop_on_refusal(kind: Optional[str], message: str) -> None:
    """Refusals that no later request would get past: end the whole run now."""
    if kind == "bot_wall":
        raise BotWall(
            redact(
                "YouTube asked yt-dlp to sign in to confirm it is not a bot; stopped. "
                "Set YOUTUBE_API_KEY to use the Data API, or try again later. "
                f"(yt-dlp said: {message.strip()})"
            )
        )
    if kind == "rate_limited":
        raise FetchError(
            redact(
                "YouTube rate-limited yt-dlp (\"This content isn't available, try again later\"); "
                "stopped. Try again in an hour."
            )
        )


def _first_refusal(messages: list[str]) -> tuple[Optional[str], str]:
    for message in messages:
        kind = classify_ytdlp_message(message)
        if kind:
            return kind, message
    return None, ""


def _list_playlist_ytdlp(ydl, ytdlp_log: _YtdlpLog, playlist_id: str, result: YouTubeResult) -> list[dict]:
    """Flat entries of one playlist; records the playlist and its items in `result`."""
    result.requests += 1
    ytdlp_log.take()
    try:
        info = ydl.extract_info(playlist_url(playlist_id), download=False)
    except _download_error_types() as error:
        kind, message = classify_ytdlp_message(str(error)), str(error)
        _stop_on_refusal(kind, message)
        if kind == "unavailable":
            raise PlaylistNotFound(
                redact(
                    f"YouTube has no playlist {playlist_id}: check the id given with --playlist or linked "
                    f"from the webinar page (yt-dlp: {message.strip()})."
                )
            ) from None
        raise FetchError(redact(f"yt-dlp could not list playlist {playlist_id}: {message.strip()}")) from None
    _stop_on_refusal(*_first_refusal(ytdlp_log.take()))
    if not isinstance(info, dict):
        raise ResponseError(f"yt-dlp returned nothing for playlist {playlist_id}.")
    entries = [e for e in (info.get("entries") or []) if isinstance(e, dict) and e.get("id")]
    result.playlists.append(Playlist(playlist_id=playlist_id, title=info.get("title")))
    result.items += [PlaylistItem(playlist_id=playlist_id, video_id=e["id"], position=n) for n, e in enumerate(entries)]
    return entries


def _extract_video_ytdlp(ydl, ytdlp_log: _YtdlpLog, video_id: str, in_playlist: bool, result: YouTubeResult) -> Optional[VideoRecord]:
    """Full metadata of one video, a private/unavailable record, or None (warned)."""
    result.requests += 1
    ytdlp_log.take()
    missing = "deleted" if in_playlist else "not_found"
    try:
        info = ydl.extract_info(watch_url(video_id), download=False)
    except _download_error_types() as error:
        kind, message = classify_ytdlp_message(str(error)), str(error)
        info = None
    else:
        kind, message = _first_refusal(ytdlp_log.take())
    _stop_on_refusal(kind, message)
    if kind == "private":
        return VideoRecord(video_id=video_id, availability="private")
    if kind == "unavailable":
        return VideoRecord(video_id=video_id, availability=missing)
    if not isinstance(info, dict) or info.get("id") != video_id:
        result.warnings.append(redact(f"yt-dlp gave no metadata for video {video_id}: {message.strip() or 'no result'}"))
        return None
    return ytdlp_video_record(info)


def fetch_youtube_ytdlp(
    playlist_ids: Iterable[str],
    linked_video_ids: Iterable[str],
    *,
    known_video_ids: set[str] | frozenset[str] = frozenset(),
    ydl_factory: Callable[[dict], Any] | None = None,
) -> YouTubeResult:
    """The keyless path: list playlists flat, then extract each video not yet known.

    Videos in `known_video_ids` are not extracted again (their stored metadata
    stands), except that a playlist's "[Private video]"/"[Deleted video]" entry is
    always reported. `requests` counts extract_info calls; `units` stays 0.
    A bot wall raises BotWall and rate limiting FetchError at the first sight.
    """
    result = YouTubeResult(source="yt-dlp")
    try:
        _fetch_ytdlp_into(result, playlist_ids, linked_video_ids, known_video_ids, ydl_factory or _default_ydl_factory)
    except TalksError as error:
        _charge(error, result.requests, 0)
        raise
    return result


def _fetch_ytdlp_into(result: YouTubeResult, playlist_ids, linked_video_ids, known_video_ids, factory) -> None:
    ytdlp_log = _YtdlpLog()

    in_playlist: set[str] = set()
    with factory(_ytdlp_params(ytdlp_log, listing=True)) as ydl:
        for playlist_id in _unique(playlist_ids):
            for entry in _list_playlist_ytdlp(ydl, ytdlp_log, playlist_id, result):
                in_playlist.add(entry["id"])
                stub = _flat_entry_stub(entry)
                if stub:
                    result.videos[stub.video_id] = stub

    wanted = [
        i
        for i in _unique([*(item.video_id for item in result.items), *linked_video_ids])
        if i not in result.videos and i not in known_video_ids
    ]
    failures_in_a_row = 0
    with factory(_ytdlp_params(ytdlp_log, listing=False)) as ydl:
        for video_id in wanted:
            record = _extract_video_ytdlp(ydl, ytdlp_log, video_id, video_id in in_playlist, result)
            failures_in_a_row = 0 if record else failures_in_a_row + 1
            if failures_in_a_row >= MAX_UNEXPLAINED_FAILURES:
                raise FetchError(
                    redact(f"yt-dlp failed on {failures_in_a_row} videos in a row; stopped. Last: {result.warnings[-1]}")
                )
            if record:
                result.videos[video_id] = record


__all__ = [
    "DEFAULT_TIMEOUT",
    "PlaylistFetch",
    "Quota",
    "YouTubeResult",
    "api_error_reason",
    "best_thumbnail",
    "build_client",
    "call_api",
    "classify_ytdlp_message",
    "execute_request",
    "fetch_playlist_items",
    "fetch_videos",
    "fetch_youtube_api",
    "fetch_youtube_ytdlp",
    "is_retryable",
    "quota_bound",
    "result_from_recorded",
    "retry_after_seconds",
    "video_record",
    "ytdlp_video_record",
]
