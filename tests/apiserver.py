"""A local stand-in for the YouTube Data API v3, for tests.

Serves `/youtube/v3/playlistItems` and `/youtube/v3/videos` on 127.0.0.1 from plain
data, in the JSON shapes YouTube sends, and misbehaves on request:

    from tests.apiserver import api_server, make_video, private_item, deleted_item, Fault  # noqa: F401

    def test_something(api_server):
        api_server.add_playlist("PL1", [make_video("aaaaaaaaaaa", "Talk"), private_item("bbbbbbbbbbb")])
        api_server.add_videos(make_video("ccccccccccc", "Linked from a page only"))
        api_server.faults.append(Fault.backend_error())        # next request: 503
        api_server.faults.append(Fault.quota_exceeded(at=3))   # 3rd request onwards: 403
        result = fetch_youtube_api(["PL1"], [...], api_key=api_server.api_key,
                                   endpoint=api_server.endpoint, sleep=waits.append)
        assert api_server.count("playlistItems") == 1
        assert api_server.requests[0].params["maxResults"] == "50"

Or without pytest: `with running_api_server() as server: ...`.

Every request is recorded in `server.requests` (a `Seen`: endpoint, params without
the key, the conditional header, the status answered, the fault applied), faulty
ones included, so tests can count units exactly as Google would charge them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, Optional
from urllib.parse import parse_qs, urlsplit

import pytest

TEST_KEY = "TEST-KEY-123"
API_PREFIX = "/youtube/v3/"
MAX_RESULTS = 50
DEFAULT_MAX_RESULTS = 5  # what YouTube uses when maxResults is not sent
CHANNEL_ID = "UCdatasets0looking0glass"
CHANNEL_TITLE = "Datasets through the Looking-Glass"

# ------------------------------------------------------------------ resource builders


def _thumbnails(video_id: str, sizes=("default", "medium", "high", "standard", "maxres")) -> dict:
    dims = {"default": (120, 90), "medium": (320, 180), "high": (480, 360), "standard": (640, 480), "maxres": (1280, 720)}
    names = {"default": "default", "medium": "mqdefault", "high": "hqdefault", "standard": "sddefault", "maxres": "maxresdefault"}
    return {
        size: {"url": f"https://i.ytimg.com/vi/{video_id}/{names[size]}.jpg", "width": dims[size][0], "height": dims[size][1]}
        for size in sizes
    }


def make_video(
    video_id: str,
    title: str = "A talk",
    *,
    description: str = "",
    published_at: str = "2023-09-18T15:00:04Z",
    duration: str = "PT52M11S",
    views: Optional[int] = 123,
    caption: bool = False,
    privacy: str = "public",
    channel_id: str = CHANNEL_ID,
    channel_title: str = CHANNEL_TITLE,
    thumbnail_sizes: tuple[str, ...] = ("default", "medium", "high", "standard", "maxres"),
    added_at: Optional[str] = None,
) -> dict:
    """A videos.list resource, as YouTube sends it with all four parts.

    `added_at` is when it joined a playlist (the playlist item's publishedAt).
    """
    video = {
        "kind": "youtube#video",
        "etag": _etag(video_id, title, privacy),
        "id": video_id,
        "snippet": {
            "publishedAt": published_at,
            "channelId": channel_id,
            "title": title,
            "description": description,
            "thumbnails": _thumbnails(video_id, thumbnail_sizes),
            "channelTitle": channel_title,
            "categoryId": "28",
            "liveBroadcastContent": "none",
            "localized": {"title": title, "description": description},
        },
        "contentDetails": {
            "duration": duration,
            "dimension": "2d",
            "definition": "hd",
            "caption": "true" if caption else "false",
            "licensedContent": False,
            "contentRating": {},
            "projection": "rectangular",
        },
        "statistics": {"likeCount": "7", "favoriteCount": "0", "commentCount": "1"},
        "status": {
            "uploadStatus": "processed",
            "privacyStatus": privacy,
            "license": "youtube",
            "embeddable": True,
            "publicStatsViewable": True,
            "madeForKids": False,
        },
    }
    if views is not None:
        video["statistics"]["viewCount"] = str(views)  # YouTube sends counts as strings
    if added_at:
        video["_added_at"] = added_at  # stand-in bookkeeping, never served
    return video


def playlist_item_for(video: dict) -> dict:
    """The playlist item YouTube shows for a listed public/unlisted video."""
    snippet = video["snippet"]
    return {
        "kind": "youtube#playlistItem",
        "snippet": {
            "publishedAt": video.get("_added_at") or snippet["publishedAt"],
            "channelId": CHANNEL_ID,
            "title": snippet["title"],
            "description": snippet["description"],
            "thumbnails": snippet["thumbnails"],
            "channelTitle": CHANNEL_TITLE,
            "resourceId": {"kind": "youtube#video", "videoId": video["id"]},
            "videoOwnerChannelTitle": snippet["channelTitle"],
            "videoOwnerChannelId": snippet["channelId"],
        },
        "contentDetails": {"videoId": video["id"], "videoPublishedAt": snippet["publishedAt"]},
        "status": {"privacyStatus": video["status"]["privacyStatus"]},
    }


def _unavailable_item(video_id: str, title: str, description: str, privacy: str, added_at: str) -> dict:
    return {
        "kind": "youtube#playlistItem",
        "snippet": {
            "publishedAt": added_at,
            "channelId": CHANNEL_ID,
            "title": title,
            "description": description,
            "thumbnails": {},
            "channelTitle": CHANNEL_TITLE,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        },
        "contentDetails": {"videoId": video_id},
        "status": {"privacyStatus": privacy},
    }


def private_item(video_id: str, *, added_at: str = "2022-01-10T10:00:00Z") -> dict:
    """A private video's entry in a playlist (no owner channel, no publication date)."""
    return _unavailable_item(video_id, "Private video", "This video is private.", "private", added_at)


def deleted_item(video_id: str, *, added_at: str = "2022-01-10T10:00:00Z") -> dict:
    """A deleted video's entry in a playlist."""
    return _unavailable_item(
        video_id, "Deleted video", "This video is unavailable.", "privacyStatusUnspecified", added_at
    )


def video_ids(n: int, prefix: str = "v") -> list[str]:
    """n distinct 11-character video ids: v0000000000, v0000000001, ..."""
    return [f"{prefix}{i:0{11 - len(prefix)}d}" for i in range(n)]


def _etag(*parts: object) -> str:
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:27]


def error_body(code: int, reason: str, message: str, domain: str = "global", status: str = "") -> dict:
    """The JSON error document of the Data API."""
    body = {"error": {"code": code, "message": message, "errors": [{"message": message, "domain": domain, "reason": reason}]}}
    if status:
        body["error"]["status"] = status
    return body


QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your '
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)
BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
MISSING_KEY_MESSAGE = "The request is missing a valid API key."
PLAYLIST_NOT_FOUND_MESSAGE = "The playlist identified with the request's <code>playlistId</code> parameter cannot be found."

# ------------------------------------------------------------------ faults


@dataclass
class Fault:
    """One scripted misbehaviour; the server applies the first matching queued fault.

    kind: "status" (answer `status` with a Data API error body), "reset" (close the
    socket with a TCP RST, no answer), "truncate" (promise more body than is sent,
    then close), "slow" (wait `delay` seconds, then answer normally), "hold" (wait until
    the test calls `ApiServer.release()`, then answer normally), "malformed"
    (200 with a body that is not JSON, correct Content-Length), "body" (200 with the
    JSON document `body`: an error document, a list without items, another kind),
    "drip" (the real answer, one byte every `delay` seconds), "huge" (200 promising
    `size` bytes, streamed until the client hangs up; `size` None: no Content-Length),
    "redirect" (302 to the same URL, for ever), "endless_tokens" (a valid playlistItems
    page whose nextPageToken is new every time).
    `at`: only from the Nth request of the server's life on (1-based).
    `endpoint`: only for "playlistItems" or "videos". `times`: how often it fires
    (None: for ever).
    """

    kind: str = "status"
    status: int = 503
    reason: str = "backendError"
    message: str = "Backend Error"
    domain: str = "global"
    retry_after: Optional[str] = None
    delay: float = 0.0
    at: Optional[int] = None
    endpoint: Optional[str] = None
    times: Optional[int] = 1
    body: Optional[dict] = None
    size: Optional[int] = None

    @classmethod
    def backend_error(cls, status: int = 503, **kw) -> "Fault":
        return cls(status=status, reason="backendError", message="Backend Error", **kw)

    @classmethod
    def rate_limited(cls, retry_after: Optional[float] = None, **kw) -> "Fault":
        return cls(
            status=429,
            reason="rateLimitExceeded",
            message="Resource has been exhausted (e.g. check quota).",
            retry_after=None if retry_after is None else str(retry_after),
            **kw,
        )

    @classmethod
    def user_rate_limited(cls, **kw) -> "Fault":
        return cls(status=403, reason="userRateLimitExceeded", message="User Rate Limit Exceeded", domain="usageLimits", **kw)

    @classmethod
    def quota_exceeded(cls, at: Optional[int] = None, times: Optional[int] = None, **kw) -> "Fault":
        # quota stays spent until midnight Pacific: by default it fires for ever
        return cls(status=403, reason="quotaExceeded", message=QUOTA_MESSAGE, domain="youtube.quota", at=at, times=times, **kw)

    @classmethod
    def bad_key(cls, **kw) -> "Fault":
        return cls(status=400, reason="badRequest", message=BAD_KEY_MESSAGE, **kw)

    @classmethod
    def reset(cls, **kw) -> "Fault":
        return cls(kind="reset", **kw)

    @classmethod
    def truncated(cls, **kw) -> "Fault":
        return cls(kind="truncate", **kw)

    @classmethod
    def slow(cls, delay: float, **kw) -> "Fault":
        return cls(kind="slow", delay=delay, **kw)

    @classmethod
    def held(cls, **kw) -> "Fault":
        return cls(kind="hold", **kw)

    @classmethod
    def malformed(cls, **kw) -> "Fault":
        return cls(kind="malformed", **kw)

    @classmethod
    def body_200(cls, body: dict, **kw) -> "Fault":
        return cls(kind="body", body=body, **kw)

    @classmethod
    def drip(cls, delay: float, **kw) -> "Fault":
        return cls(kind="drip", delay=delay, **kw)

    @classmethod
    def huge(cls, size: Optional[int], **kw) -> "Fault":
        return cls(kind="huge", size=size, **kw)

    @classmethod
    def redirect_loop(cls, **kw) -> "Fault":
        return cls(kind="redirect", **kw)

    @classmethod
    def endless_tokens(cls, **kw) -> "Fault":
        return cls(kind="endless_tokens", endpoint="playlistItems", **kw)

    def matches(self, number: int, endpoint: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.at is not None and number < self.at:
            return False
        return self.endpoint is None or self.endpoint == endpoint


@dataclass
class Seen:
    """One request as the stand-in received it."""

    number: int
    endpoint: str  # "playlistItems", "videos", or the unknown path
    params: dict[str, str]  # query parameters, `key` removed
    if_none_match: Optional[str]
    key: Optional[str]  # compare with server.api_key; never print it in a test message
    status: Optional[int] = None  # None when the fault answered nothing (reset)
    fault: Optional[str] = None
    sent: Optional[int] = None  # body bytes a "huge" fault got out before the client hung up
    finished: threading.Event = dataclasses.field(default_factory=threading.Event)  # "huge" done sending

    @property
    def ids(self) -> list[str]:
        return [i for i in self.params.get("id", "").split(",") if i]


# ------------------------------------------------------------------ the server


class ApiServer:
    """The Data API's data and behaviour; `start()` serves it on 127.0.0.1."""

    def __init__(self, api_key: str = TEST_KEY):
        self.api_key = api_key
        self.playlists: dict[str, list[dict]] = {}  # playlist id -> items (playlist item dicts)
        self.videos: dict[str, dict] = {}  # video id -> videos.list resource
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.latency = 0.0  # seconds an answer takes at least, its making included: a network's round trip, for the bench
        self._lock = threading.Lock()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._released = threading.Event()  # ends every "hold" fault

    # -- data

    def add_videos(self, *videos: dict) -> None:
        with self._lock:
            for video in videos:
                self.videos[video["id"]] = video

    def add_playlist(self, playlist_id: str, entries: list[dict]) -> None:
        """Entries are `make_video(...)` resources (also served by /videos) or
        `private_item(...)` / `deleted_item(...)` / ready playlist item dicts."""
        items = []
        for entry in entries:
            if entry.get("kind") == "youtube#video":
                self.add_videos(entry)
                items.append(playlist_item_for(entry))
            else:
                items.append(entry)
        with self._lock:
            self.playlists[playlist_id] = items

    def append_to_playlist(self, playlist_id: str, entry: dict) -> None:
        if entry.get("kind") == "youtube#video":
            self.add_videos(entry)
            entry = playlist_item_for(entry)
        with self._lock:
            self.playlists[playlist_id].append(entry)

    # -- observations

    def count(self, endpoint: Optional[str] = None) -> int:
        return sum(1 for seen in self.requests if endpoint is None or seen.endpoint == endpoint)

    def seen(self, endpoint: Optional[str] = None) -> list[Seen]:
        return [seen for seen in self.requests if endpoint is None or seen.endpoint == endpoint]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- lifecycle

    @property
    def endpoint(self) -> str:
        """The base URL to give the client (`client_options={"api_endpoint": ...}`)."""
        assert self._httpd, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "ApiServer":
        handler = type("BoundHandler", (_Handler,), {"api": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        # a short poll interval: shutdown() waits up to one interval (default 0.5 s a test)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="youtube-api-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def release(self) -> None:
        """Let requests held by a "hold" fault be answered."""
        self._released.set()

    def stop(self) -> None:
        self._stopping.set()  # wake handlers sleeping in a slow fault
        self._released.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    # -- request handling (called from handler threads)

    def _next_fault(self, number: int, endpoint: str) -> Optional[Fault]:
        with self._lock:
            for fault in self.faults:
                if fault.matches(number, endpoint):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _record(self, endpoint: str, params: dict[str, str], headers) -> Seen:
        with self._lock:
            seen = Seen(
                number=len(self.requests) + 1,
                endpoint=endpoint,
                params={k: v for k, v in params.items() if k != "key"},
                if_none_match=headers.get("If-None-Match"),
                key=params.get("key"),
            )
            self.requests.append(seen)
            return seen

    def answer(self, seen: Seen) -> tuple[int, dict, dict]:
        """(status, JSON body, extra headers) for a request that met no fault."""
        if seen.key is None:
            return 403, error_body(403, "forbidden", MISSING_KEY_MESSAGE, status="PERMISSION_DENIED"), {}
        if seen.key != self.api_key:
            return 400, error_body(400, "badRequest", BAD_KEY_MESSAGE, status="INVALID_ARGUMENT"), {}
        if seen.endpoint == "playlistItems":
            return self._playlist_items(seen)
        if seen.endpoint == "videos":
            return self._videos(seen)
        return 404, error_body(404, "notFound", "Not Found"), {}

    def _playlist_items(self, seen: Seen) -> tuple[int, dict, dict]:
        params = seen.params
        playlist_id = params.get("playlistId")
        if not playlist_id:
            return 400, error_body(400, "invalidParameter", "No filter selected. Expected one of: playlistId, id"), {}
        with self._lock:
            items = list(self.playlists.get(playlist_id) or []) if playlist_id in self.playlists else None
        if items is None:
            body = error_body(404, "playlistNotFound", PLAYLIST_NOT_FOUND_MESSAGE, domain="youtube.playlistItem")
            return 404, body, {}
        size = min(int(params.get("maxResults", DEFAULT_MAX_RESULTS)), MAX_RESULTS)
        token = params.get("pageToken")
        offset = _offset_of(token) if token else 0
        if offset is None or offset > len(items):
            return 400, error_body(400, "invalidPageToken", "The request specifies an invalid page token."), {}
        page_items = [
            _served_item(item, playlist_id, offset + n, params.get("part", "")) for n, item in enumerate(items[offset : offset + size])
        ]
        body = {"kind": "youtube#playlistItemListResponse"}
        if offset + size < len(items):
            body["nextPageToken"] = _token_for(offset + size)
        if offset:
            body["prevPageToken"] = _token_for(max(0, offset - size))
        body["items"] = page_items
        body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": size}
        # changes whenever anything on the page (or the total) changes: each item's etag
        # covers that item whole
        etag = _etag({k: v for k, v in body.items() if k != "items"}, [i["etag"] for i in page_items], params.get("part", ""))
        body = {"kind": body.pop("kind"), "etag": etag, **body}
        if _etag_matches(seen.if_none_match, etag):
            return 304, {}, {"ETag": f'"{etag}"'}
        return 200, body, {"ETag": f'"{etag}"'}

    def _videos(self, seen: Seen) -> tuple[int, dict, dict]:
        ids = seen.ids
        if not ids:
            return 400, error_body(400, "missingRequiredParameter", "No filter selected."), {}
        if len(ids) > MAX_RESULTS:
            return 400, error_body(400, "invalidFilters", "The request specifies an invalid filter parameter."), {}
        parts = set(seen.params.get("part", "").split(","))
        with self._lock:
            # private videos are invisible to an API key, like deleted ones
            found = [self.videos[i] for i in ids if i in self.videos and self.videos[i]["status"]["privacyStatus"] != "private"]
        items = [_with_parts(video, parts) for video in found]
        body = {"kind": "youtube#videoListResponse", "etag": _etag(items), "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}}
        return 200, body, {}


def _token_for(offset: int) -> str:
    return f"PT{offset:05d}"


def _offset_of(token: str) -> Optional[int]:
    if token.startswith("PT") and token[2:].isdigit():
        return int(token[2:])
    return None


def _etag_matches(if_none_match: Optional[str], etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return any(c.removeprefix("W/").strip('"') == etag for c in candidates)


def _with_parts(resource: dict, parts: set[str]) -> dict:
    """A resource as served: only the requested parts, no stand-in bookkeeping."""
    served = {k: v for k, v in resource.items() if k in ("kind", "etag", "id")}
    served.update({k: v for k, v in resource.items() if k in parts})
    return served


def _served_item(item: dict, playlist_id: str, position: int, part: str) -> dict:
    # New top levels over the stored item's nested parts, which are only read: the
    # answer is serialized before anything can change them (a test editing its playlist).
    snippet = {**item["snippet"], "playlistId": playlist_id, "position": position}
    served = {**item, "snippet": snippet, "id": _etag("item", playlist_id, snippet["resourceId"]["videoId"])}
    served["etag"] = _etag(served)
    return _with_parts(served, set(part.split(",")))


def _json_payload(status: int, body: dict) -> bytes:
    return b"" if status == 304 else json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httplib2 expects
    api: ApiServer  # set on the bound subclass

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without this, Nagle + delayed ACK add ~40 ms a request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        endpoint = url.path[len(API_PREFIX):] if url.path.startswith(API_PREFIX) else url.path
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        seen = self.api._record(endpoint, params, self.headers)
        arrived = time.monotonic()
        fault = self.api._next_fault(seen.number, endpoint)
        if fault:
            if self.api.latency:
                self.api._stopping.wait(self.api.latency)
            seen.fault = fault.kind
            if fault.kind == "slow":
                self.api._stopping.wait(fault.delay)
            elif fault.kind == "hold":
                self.api._released.wait()
            else:
                self._misbehave(seen, fault)
                return
        status, body, headers = self.api.answer(seen)
        payload = _json_payload(status, body)
        if self.api.latency:
            # The answer leaves `latency` after the request came, its making included (a
            # page's items, etags and JSON text): the stand-in's own work is not the client's
            # to pay for.
            self.api._stopping.wait(max(0.0, self.api.latency - (time.monotonic() - arrived)))
        self._send_raw(seen, status, payload, {"Content-Type": "application/json; charset=UTF-8", **headers})

    def _misbehave(self, seen: Seen, fault: Fault) -> None:
        if fault.kind == "reset":
            self._reset_connection()
        elif fault.kind == "truncate":
            payload = json.dumps({"kind": "youtube#playlistItemListResponse", "items": [{"id": "x" * 40}]}).encode()
            self._send_raw(seen, 200, payload[: len(payload) // 2], {"Content-Type": "application/json; charset=UTF-8"}, length=len(payload))
            self.close_connection = True
        elif fault.kind == "malformed":
            self._send_raw(seen, 200, b'{"kind": "youtube#playlistItemListResponse", "items": [', {"Content-Type": "application/json; charset=UTF-8"})
        elif fault.kind == "body":
            self._send_json(seen, 200, fault.body, {})
        elif fault.kind == "drip":
            status, body, headers = self.api.answer(seen)
            payload = json.dumps(body).encode()
            seen.status = status
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                for n in range(len(payload)):
                    if self.api._stopping.wait(fault.delay):
                        break
                    self.wfile.write(payload[n : n + 1])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif fault.kind == "huge":
            self._send_huge(seen, fault.size)
        elif fault.kind == "redirect":
            seen.status = 302
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif fault.kind == "endless_tokens":
            first_page = dataclasses.replace(seen, params={k: v for k, v in seen.params.items() if k != "pageToken"},
                                             if_none_match=None)
            status, body, headers = self.api.answer(first_page)
            body["nextPageToken"] = f"ENDLESS{seen.number:06d}"
            self._send_json(seen, status, body, {})
        elif fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            body = error_body(fault.status, fault.reason, fault.message, fault.domain)
            self._send_json(seen, fault.status, body, headers)
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}")

    def _send_huge(self, seen: Seen, size: Optional[int]) -> None:
        """A list response of `size` bytes, made while sent: the test never holds it whole."""
        seen.status = 200
        head = b'{"kind": "youtube#videoListResponse", "items": [], "padding": "'
        sent = 0
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            if size is None:
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(head)
            sent = len(head)
            chunk = b"x" * 65536
            while (size is None or sent < size) and not self.api._stopping.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client refused to read on: what a capped client does
        seen.sent = sent
        seen.finished.set()
        self.close_connection = True

    def _reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees ECONNRESET, not a clean EOF
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the makefile() reference would keep the socket open
        self.connection.close()
        self.close_connection = True

    def _send_json(self, seen: Seen, status: int, body: dict, headers: dict) -> None:
        self._send_raw(seen, status, _json_payload(status, body), {"Content-Type": "application/json; charset=UTF-8", **headers})

    def _send_raw(self, seen: Seen, status: int, payload: bytes, headers: dict, length: Optional[int] = None) -> None:
        seen.status = status
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(payload) if length is None else length))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a slow fault outlived its timeout)


# ------------------------------------------------------------------ pytest / context manager


@contextlib.contextmanager
def running_api_server(api_key: str = TEST_KEY) -> Iterator[ApiServer]:
    server = ApiServer(api_key).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api_server() -> Iterator[ApiServer]:
    """A fresh stand-in per test; import it into a test module to use it."""
    with running_api_server() as server:
        yield server


__all__ = [
    "ApiServer",
    "Fault",
    "Seen",
    "TEST_KEY",
    "api_server",
    "deleted_item",
    "error_body",
    "make_video",
    "playlist_item_for",
    "private_item",
    "running_api_server",
    "video_ids",
]
