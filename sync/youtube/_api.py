"""The Data API sync: playlistItems.list pages and videos.list batches (mapping: `_parse`)."""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Callable, Iterable, Iterator

from db import reports
from sync.core.errors import ResponseError, TalksError
from sync.core.deadlines import DeadlineReached
from sync.core.limits import MAX_ETAG_CHARS, MAX_PLAYLIST_PAGES
from sync.core.records import Playlist, PlaylistItem, PlaylistPage, VideoRecord
from sync.core.signals import Interrupted

from ._batches import VIDEO_PARTS, VIDEO_WORKERS, VideoBatches
from ._clean import clean_page, clean_result, secret_keys
from ._client import DEFAULT_TIMEOUT, PAGE_SIZE, Executor, _NotModified, build_client, call_api, execute_request
from ._parse import page_items, unavailable_stub, videos_answered
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


def _usable_etag(value: object) -> str | None:
    """An etag worth sending back: a short string (anything else: ask unconditionally)."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ETAG_CHARS else None


def _iter_playlist_pages(
    client, playlist_id: str, quota: Quota, stored: list[PlaylistPage] = (), *, execute: Executor = execute_request
) -> Iterator[PlaylistPage]:
    """Yield each playlistItems page in order. Every page is asked for, each with its own
    stored etag (`stored[n]` is page n + 1 as a previous sync got it): an etag describes
    the one response it came with, so page 1 unchanged says nothing of page 2. A page
    that answers 304 is the stored one (fresh=False), with its items and next token."""
    page_token = None
    tokens_seen: set[str] = set()
    position = 0
    playlist_items = client.playlistItems()  # once: building a resource costs milliseconds
    for number in range(1, MAX_PLAYLIST_PAGES + 1):
        kept = stored[number - 1] if number <= len(stored) else None
        request = _playlist_page_request(playlist_items, playlist_id, page_token, kept.etag if kept else None)
        try:
            answer = call_api(request, quota, execute=execute, playlist_id=playlist_id)
        except _NotModified:
            if kept is None:
                raise ResponseError(f"YouTube API playlistItems answered 304 (not modified) to a request that"
                                    f" sent no etag, for page {number} of playlist {playlist_id}.") from None
            page = dataclasses.replace(kept, fresh=False)
        else:
            items, gone = page_items(playlist_id, answer, position)
            page = PlaylistPage(playlist_id, number, _usable_etag(answer.get("etag")), answer.get("nextPageToken"),
                                items, gone)
        position += len(page.items)
        yield page
        page_token = page.next_page_token
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
    stored: list[PlaylistPage] | None = None,
    *,
    execute: Executor = execute_request,
    on_page: Callable[[PlaylistFetch, PlaylistPage], None] | None = None,
) -> PlaylistFetch:
    """Every item of a playlist, with stubs for its private and deleted entries.

    `stored` are the playlist's pages as a previous sync got them (`playlist_pages`):
    each is asked for with its etag, and one that answers 304 gives its stored items
    (one unit a page either way). `on_page(fetched, page)` runs after each page, before
    the next is asked for.
    """
    fetched = PlaylistFetch(playlist=Playlist(playlist_id=playlist_id))
    for page in _iter_playlist_pages(client, playlist_id, quota, stored or [], execute=execute):
        if page.number == 1:
            fetched.playlist.etag = page.etag
        fetched.pages.append(page)
        fetched.items += page.items
        fetched.unavailable.update((video_id, unavailable_stub(video_id, state)) for video_id, state in page.gone.items())
        if on_page is not None:
            on_page(fetched, page)
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
    stored_pages: dict[str, list[PlaylistPage]] | None = None,
    previously: dict[str, str] | None = None,
    refresh: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] | None = None,
    client=None,
    overlap: bool = True,
    on_described: Callable[[list[VideoRecord]], None] | None = None,
    on_items: Callable[[str, list[PlaylistItem]], None] | None = None,
) -> YouTubeResult:
    """Read the playlists, then the videos they hold or the pages link to.

    Every page of every playlist is asked for, each with its etag from
    `stored_pages[playlist_id]` (as the previous sync got them); a page that answers 304
    gives its stored items. The videos of a changed page (200) are all described; of an
    unchanged one only those `refresh` names (the caller's cadence; all of them without
    `refresh`), the others keep what the caller stored. Linked ids are always described.
    A private or deleted playlist entry is its page's stub, never asked about.

    A video videos.list leaves out is what the playlist says of it: a playlist that
    lists it as a plain entry says it exists, so it is "unavailable" (private or deleted:
    the API cannot tell); one outside every playlist is "unavailable" too when
    `previously[video_id]` (its stored availability) says YouTube described it before
    (private or deleted stay so), else "not_found". `sleep` replaces the retry sleep
    (tests pass `recorded.append`).

    videos.list batches that fill up while playlist pages are still coming go out from
    a worker thread on a second connection (`_batches`); `overlap=False` sends every
    request from this thread, in a fixed order (the same requests either way).
    `on_described(records)` gets each videos.list answer's records, cleaned, as it
    arrives (from that worker too), and `on_items(playlist_id, items)` each page's
    items, cleaned; the result still holds every record, item and page.
    """
    stored_pages = stored_pages or {}
    previously = previously or {}
    refresh = None if refresh is None else set(refresh)
    execute = execute_request.retry_with(sleep=sleep) if sleep else execute_request
    own_client = client is None
    client = client or build_client(api_key, endpoint, timeout=timeout)
    quota = Quota()
    result = YouTubeResult(source="api")
    unavailable: dict[str, VideoRecord] = {}
    listed: set[str] = set()
    worker_https = []
    if own_client and overlap:
        from ._http import BoundedHttp  # connections of their own, for the videos.list workers

        worker_https = [BoundedHttp(timeout) for _ in range(VIDEO_WORKERS)]
    secrets = tuple(k for k in (api_key, os.environ.get("YOUTUBE_API_KEY")) if k)
    keys = secret_keys(secrets)
    batches = VideoBatches(client, quota, execute, worker_https=worker_https, secrets=secrets, on_described=on_described)

    try:
        try:
            playlists = unique(playlist_ids)
            for number, playlist_id in enumerate(playlists):
                later = number + 1 < len(playlists)  # another playlist's pages are to come

                def on_page(fetched: PlaylistFetch, page: PlaylistPage) -> None:
                    if page.fresh:
                        clean_page(page, secrets, keys)
                    unavailable.update((i, unavailable_stub(i, state)) for i, state in page.gone.items())
                    listed.update(item.video_id for item in page.items)
                    # private/deleted entries are absent from videos.list anyway: don't pay for them
                    batches.add(
                        [i.video_id for i in page.items if i.video_id not in unavailable
                         and (page.fresh or refresh is None or i.video_id in refresh)],
                        more_pages=bool(page.next_page_token) or later,
                    )
                    if on_items is not None and page.items:
                        on_items(page.playlist_id, page.items)

                fetched = fetch_playlist_items(client, playlist_id, quota, stored_pages.get(playlist_id),
                                               execute=execute, on_page=on_page)
                result.playlists.append(fetched.playlist)
                result.items += fetched.items
                result.pages[playlist_id] = fetched.pages
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
            result.videos[video_id] = found.get(video_id) or VideoRecord(
                video_id=video_id, availability=_left_out(video_id, listed, previously))
        result.videos.update(unavailable)
    except (TalksError, DeadlineReached, Interrupted) as error:
        error.charged(quota.requests, quota.units)
        raise
    finally:
        result.requests, result.units = quota.requests, quota.units
        if own_client:
            client.close()  # the keep-alive sockets
    # videos, items and pages were cleaned as they came (`_batches`, on_page); stubs carry no text
    return clean_result(result, secrets, videos=False, items=False)


def _left_out(video_id: str, listed: set[str], previously: dict[str, str]) -> str:
    """The availability of a video videos.list did not return (db/reports.py)."""
    if video_id in listed:
        return "unavailable"  # a playlist lists it as a plain entry: it exists, nobody can see it
    before = previously.get(video_id)
    if before in reports.GONE:
        return before  # what YouTube said last still holds: not returned is what it is
    return "unavailable" if reports.is_watchable(before) else reports.NOT_FOUND


def quota_bound(playlist_sizes: Iterable[int], extra_linked_count: int) -> int:
    """The most units `fetch_youtube_api` spends when nothing fails.

    One page per 50 items of each playlist (an empty playlist still costs its one
    page), plus one videos.list per 50 distinct ids. For a single playlist of n
    items and m extra linked ids: ceil(n/50) + ceil((n+m)/50).
    """
    sizes = list(playlist_sizes)
    pages = sum(max(1, math.ceil(n / PAGE_SIZE)) for n in sizes)
    return pages + math.ceil((sum(sizes) + extra_linked_count) / PAGE_SIZE)

