"""The Data API sync: playlistItems.list pages and videos.list batches (mapping: `_parse`)."""
from __future__ import annotations

import math
import os
from typing import Callable, Iterable, Iterator

from sync.core.errors import ResponseError, TalksError
from sync.core.deadlines import DeadlineReached
from sync.core.limits import MAX_PLAYLIST_PAGES
from sync.core.records import Playlist, PlaylistItem, VideoRecord
from sync.core.signals import Interrupted

from ._batches import VIDEO_PARTS, VideoBatches
from ._clean import clean_item, clean_result, secret_keys
from ._client import DEFAULT_TIMEOUT, PAGE_SIZE, Executor, _NotModified, build_client, call_api, execute_request
from ._parse import _collect_page, videos_answered
from ._results import PlaylistFetch, Quota, YouTubeResult, unique

PLAYLIST_PARTS = "snippet,contentDetails,status"

# --------------------------------------------------------------------------- playlists


def _playlist_page_request(playlist_items, playlist_id: str, page_token: str | None, etag: str | None):
    # A fresh request per page: list_next() copies the request shallowly, so a header
    # set on page 1 would ride along on every later page (and it logs the key).
    request = playlist_items.list(
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
    playlist_items = client.playlistItems()  # once: building a resource costs milliseconds
    for _ in range(MAX_PLAYLIST_PAGES):
        first = page_token is None
        request = _playlist_page_request(playlist_items, playlist_id, page_token, etag if first else None)
        page = call_api(request, quota, execute=execute, playlist_id=playlist_id)
        yield page
        page_token = page.get("nextPageToken")
        if not page_token:
            return
        if page_token in tokens_seen:  # a looping token would spend the day's quota
            raise ResponseError(f"YouTube API playlistItems repeated page token {page_token!r} for playlist {playlist_id}.")
        tokens_seen.add(page_token)
    raise ResponseError(
        f"YouTube API playlistItems kept sending page tokens for playlist {playlist_id} past "
        f"{MAX_PLAYLIST_PAGES} pages (5,000 videos, the most a playlist holds); stopped."
    )


def fetch_playlist_items(
    client,
    playlist_id: str,
    quota: Quota,
    etag: str | None = None,
    *,
    execute: Executor = execute_request,
    on_page: Callable[[PlaylistFetch, int, bool], None] | None = None,
) -> PlaylistFetch:
    """Every item of a playlist, with stubs for its private and deleted entries.

    With the `etag` of the previous sync's first page, an unchanged playlist costs
    one unit and comes back as `unchanged=True` with no items. `on_page(fetched,
    first_new_item, more_pages)` runs after each page, before the next is asked for.
    """
    fetched = PlaylistFetch(playlist=Playlist(playlist_id=playlist_id, etag=etag))
    try:
        for page_number, page in enumerate(_iter_playlist_pages(client, playlist_id, quota, etag, execute=execute)):
            if page_number == 0:
                fetched.playlist.etag = page.get("etag")
            start = len(fetched.items)
            _collect_page(fetched, page)
            if on_page is not None:
                on_page(fetched, start, bool(page.get("nextPageToken")))
    except _NotModified:
        fetched.unchanged = True
        fetched.items.clear()
        fetched.unavailable.clear()
    return fetched


# --------------------------------------------------------------------------- videos

def _batches(ids: list[str], size: int = PAGE_SIZE) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]

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
    ids = unique(video_ids)
    found: dict[str, VideoRecord] = {}
    videos = client.videos()  # once: building a resource costs milliseconds
    for batch in _batches(ids):
        request = videos.list(part=VIDEO_PARTS, id=",".join(batch), maxResults=PAGE_SIZE)
        found.update(videos_answered(call_api(request, quota, execute=execute), batch))
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
    refresh: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] | None = None,
    client=None,
    overlap: bool = True,
    on_described: Callable[[list[VideoRecord]], None] | None = None,
    on_items: Callable[[str, list[PlaylistItem]], None] | None = None,
) -> YouTubeResult:
    """Read the playlists, then every video they hold or the pages link to.

    `etags[playlist_id]` is the stored etag of a playlist's first page; it is sent as
    If-None-Match only when `known_items[playlist_id]` lists the stored video ids.
    A playlist that answers 304 has its known videos described again: all of them,
    or with `refresh` given only those it names (the caller's cadence; the others
    keep what the caller stored). Linked ids and changed playlists' videos are
    always described. `sleep` replaces the retry sleep (tests pass `recorded.append`).

    videos.list batches that fill up while playlist pages are still coming go out from
    a worker thread on a second connection (`_batches`); `overlap=False` sends every
    request from this thread, in a fixed order (the same requests either way).
    `on_described(records)` gets each videos.list answer's records, cleaned, as it
    arrives (from that worker too), and `on_items(playlist_id, items)` each page's
    items, cleaned; the result still holds every record and item.
    """
    etags = etags or {}
    known_items = known_items or {}
    refresh = None if refresh is None else set(refresh)
    execute = execute_request.retry_with(sleep=sleep) if sleep else execute_request
    own_client = client is None
    client = client or build_client(api_key, endpoint, timeout=timeout)
    quota = Quota()
    result = YouTubeResult(source="api")
    unavailable: dict[str, VideoRecord] = {}
    unchanged_video_ids: set[str] = set()
    worker_http = None
    if own_client and overlap:
        from ._http import BoundedHttp  # a second connection, for the videos.list worker

        worker_http = BoundedHttp(timeout)
    secrets = tuple(k for k in (api_key, os.environ.get("YOUTUBE_API_KEY")) if k)
    keys = secret_keys(secrets)
    batches = VideoBatches(client, quota, execute, worker_http=worker_http, secrets=secrets, on_described=on_described)

    try:
        try:
            playlists = unique(playlist_ids)
            for number, playlist_id in enumerate(playlists):
                later = number + 1 < len(playlists)  # another playlist's pages are to come

                def on_page(fetched: PlaylistFetch, start: int, more_pages: bool) -> None:
                    items = [clean_item(item, secrets, keys) for item in fetched.items[start:]]
                    # private/deleted entries are absent from videos.list anyway: don't pay for them
                    batches.add(
                        [i.video_id for i in items if i.video_id not in fetched.unavailable and i.video_id not in unavailable],
                        more_pages=more_pages or later,
                    )
                    if on_items is not None and items:
                        on_items(fetched.playlist.playlist_id, items)

                etag = etags.get(playlist_id) if playlist_id in known_items else None
                fetched = fetch_playlist_items(client, playlist_id, quota, etag, execute=execute, on_page=on_page)
                result.playlists.append(fetched.playlist)
                if fetched.unchanged:
                    result.unchanged_playlists.add(playlist_id)
                    known = known_items[playlist_id]
                    kept = known if refresh is None else [i for i in known if i in refresh]
                    batches.add([i for i in kept if i not in unavailable], more_pages=later)
                    unchanged_video_ids.update(known)
                    continue
                result.items += fetched.items
                unavailable.update(fetched.unavailable)
            batches.add([i for i in linked_video_ids if i not in unavailable], more_pages=False)
            found = batches.finish()
        except Interrupted:
            batches.close(at_once=True)  # SIGTERM: stop within moments, not after the request in flight
            raise
        finally:
            batches.close()  # the worker stopped; its requests are in `quota`

        for video_id in batches.order:
            if video_id in unavailable:  # a later page said private or deleted: its stub, below
                continue
            record = found.get(video_id) or VideoRecord(video_id=video_id, availability="not_found")
            if record.availability == "not_found" and video_id in unchanged_video_ids:
                # the 304 playlist still lists it, so it exists: private or deleted, not "not found"
                result.kept_unavailable.add(video_id)
            else:
                result.videos[video_id] = record
        result.videos.update(unavailable)
    except (TalksError, DeadlineReached, Interrupted) as error:
        error.charged(quota.requests, quota.units)
        raise
    finally:
        result.requests, result.units = quota.requests, quota.units
        if own_client:
            client.close()  # the keep-alive sockets
    # videos and items were cleaned as they came (`_batches`, on_page); stubs carry no text
    return clean_result(result, secrets, videos=False, items=False)


def quota_bound(playlist_sizes: Iterable[int], extra_linked_count: int) -> int:
    """The most units `fetch_youtube_api` spends when nothing fails.

    One page per 50 items of each playlist (an empty playlist still costs its one
    page), plus one videos.list per 50 distinct ids. For a single playlist of n
    items and m extra linked ids: ceil(n/50) + ceil((n+m)/50).
    """
    sizes = list(playlist_sizes)
    pages = sum(max(1, math.ceil(n / PAGE_SIZE)) for n in sizes)
    return pages + math.ceil((sum(sizes) + extra_linked_count) / PAGE_SIZE)

