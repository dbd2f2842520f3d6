"""Data API JSON -> records: playlist items and videos (pure; no client, no network).

The replay of recorded answers uses these too, so it needs no API client loaded.
"""
from __future__ import annotations

from typing import Optional

import isodate

from sync.core.errors import ResponseError
from sync.core.records import PlaylistItem, VideoRecord
from sync.core.redact import redact

from ._results import PlaylistFetch, int_or_none

THUMBNAIL_PREFERENCE = ("maxres", "standard", "high", "medium", "default")
AVAILABILITY_BY_PRIVACY = {"public": "public", "unlisted": "unlisted", "private": "private"}


def _is_unavailable_item(item: dict) -> bool:
    """Private and deleted entries lack the owner channel and the publication date."""
    snippet = item.get("snippet") or {}
    details = item.get("contentDetails") or {}
    return not snippet.get("videoOwnerChannelId") and not details.get("videoPublishedAt")


def _stub_state(item: dict) -> str:
    """What YouTube's stub of an entry nobody can watch says: "private" or "deleted"."""
    return "private" if (item.get("status") or {}).get("privacyStatus") == "private" else "deleted"


def unavailable_stub(video_id: str, state: str) -> VideoRecord:
    # YouTube's placeholder title ("Private video") is not the video's: leave title empty
    return VideoRecord(video_id=video_id, availability=state)


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
        position=position if int_or_none(position) == position and isinstance(position, int) else fallback_position,
        added_at=snippet.get("publishedAt"),
    )


def page_items(playlist_id: str, page: dict, first_position: int) -> tuple[list[PlaylistItem], dict[str, str]]:
    """A playlistItems page's items, and its stubs of entries nobody can watch (video id ->
    "private" or "deleted"); an item without a position gets its place in the playlist."""
    items: list[PlaylistItem] = []
    gone: dict[str, str] = {}
    try:
        for item in page.get("items") or []:
            record = _playlist_item(playlist_id, item, first_position + len(items))
            items.append(record)
            if _is_unavailable_item(item):
                gone[record.video_id] = _stub_state(item)
    except (AttributeError, KeyError, TypeError) as error:
        raise ResponseError(
            redact(f"YouTube API playlistItems sent an item without a usable video id for playlist {playlist_id} ({error!r}).")
        ) from None
    return items, gone


def _collect_page(fetched: PlaylistFetch, page: dict) -> None:
    items, gone = page_items(fetched.playlist.playlist_id, page, len(fetched.items))
    fetched.items += items
    fetched.unavailable.update((video_id, unavailable_stub(video_id, state)) for video_id, state in gone.items())


def _duration_seconds(text: object) -> Optional[int]:
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    try:
        return int_or_none(isodate.parse_duration(text).total_seconds())
    except (isodate.ISO8601Error, ValueError, AttributeError, ArithmeticError, TypeError):
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
        view_count=int_or_none(statistics.get("viewCount")),
        has_captions=None if caption is None else caption == "true",
    )


def videos_answered(response: dict, batch: list[str]) -> dict[str, VideoRecord]:
    """The records of a videos.list answer, by id: only ids the batch asked for (an answer
    may not invent videos); a resource without an id makes the answer unusable."""
    asked = set(batch)
    found: dict[str, VideoRecord] = {}
    try:
        for resource in response["items"]:
            record = video_record(resource)
            if record.video_id in asked:
                found[record.video_id] = record
    except (AttributeError, KeyError, TypeError) as error:
        raise ResponseError(f"YouTube API videos sent a video without an id ({error!r}).") from None
    return found
