"""Read the series' YouTube playlist(s) and videos: Data API v3, or yt-dlp without a key.

Two entry points return the same `YouTubeResult`:

- `fetch_youtube_api(...)`: playlistItems.list + videos.list through
  google-api-python-client. Costs ceil(n/50) + ceil((n+m)/50) units for n playlist
  items and m extra page-linked ids. Every page is asked for with its own stored etag
  (`If-None-Match`); a page that answers 304 gives the caller's stored items and only
  its videos named in `refresh` (the caller's cadence) are described again, so an
  unchanged playlist costs its ceil(n/50) pages plus the batches the cadence asks for.
  Batches go out while the next page is on its way (`_batches`).
- `fetch_youtube_ytdlp(...)`: the keyless fallback; slower, no quota, stops at the
  first bot wall or rate limit instead of hammering YouTube.

`result_from_recorded(...)` replays recorded API answers (the offline snapshot).

The work is split along its seams in private modules: `_client` (building the
client, one request and its retries, error sentences), `_http` (the bounded
transport), `_api` (playlists and videos through the API), `_batches` (videos.list
batches, overlapped with the page chain), `_parse` (API JSON to records), `_replay`,
`_ytdlp`, and `_results` (what they return).
"""
from __future__ import annotations

import importlib

# Each public name and the private module it lives in, loaded on first use: a run from
# the snapshot or without YouTube never imports google-api-python-client, httplib2 or
# yt-dlp.
_HOMES = {
    "_api": (
        "PAGE_SIZE",
        "fetch_playlist_items",
        "fetch_videos",
        "fetch_youtube_api",
        "quota_bound",
    ),
    "_parse": ("best_thumbnail", "video_record"),
    "_client": (
        "BACKOFF",
        "DEFAULT_TIMEOUT",
        "api_error_reason",
        "build_client",
        "call_api",
        "execute_request",
        "is_retryable",
        "retry_after_seconds",
    ),
    "_replay": ("result_from_recorded",),
    "_results": ("PlaylistFetch", "Quota", "YouTubeResult"),
    "_ytdlp": (
        "YtdlpLog",
        "classify_ytdlp_message",
        "default_ydl_factory",
        "fetch_youtube_ytdlp",
        "playlist_url",
        "ytdlp_video_record",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def load_api_client_in_background() -> None:
    """Start importing google-api-python-client on a thread of its own (~0.1 s), for a run
    that will need it: the import then overlaps what the run does before its first
    request (reading the pages: their network waits release the GIL)."""
    import threading

    def load() -> None:
        importlib.import_module(f"{__name__}._client").load_client_modules()
        importlib.import_module(f"{__name__}._api")

    threading.Thread(target=load, name="import API client", daemon=True).start()


def __getattr__(name: str):
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later reads (and monkeypatching) see a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME_OF))


__all__ = [
    "BACKOFF",
    "DEFAULT_TIMEOUT",
    "PAGE_SIZE",
    "PlaylistFetch",
    "Quota",
    "YouTubeResult",
    "YtdlpLog",
    "api_error_reason",
    "best_thumbnail",
    "build_client",
    "call_api",
    "classify_ytdlp_message",
    "default_ydl_factory",
    "execute_request",
    "fetch_playlist_items",
    "fetch_videos",
    "fetch_youtube_api",
    "fetch_youtube_ytdlp",
    "is_retryable",
    "playlist_url",
    "quota_bound",
    "result_from_recorded",
    "retry_after_seconds",
    "video_record",
    "ytdlp_video_record",
]
