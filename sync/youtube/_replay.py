"""Replay of recorded Data API answers (the offline snapshot) through the API path's parsers."""
from __future__ import annotations

from sync.core.records import Playlist, VideoRecord

from ._parse import _collect_page, video_record
from ._clean import clean_result
from ._results import PlaylistFetch, YouTubeResult


def result_from_recorded(recorded: dict) -> YouTubeResult:
    """Replay recorded Data API responses (the offline snapshot) through the same parsers.

    `recorded` = {"playlistItems": {playlist_id: [page, ...]}, "videos": [response, ...]}
    where each page/response is a playlistItems.list / videos.list JSON body as the
    API sent it. A playlist video missing from every recorded videos response is
    "unavailable", as a live sync says (or its private/deleted stub). Costs nothing:
    requests and units are 0.
    """
    result = YouTubeResult(source="snapshot")
    unavailable: dict[str, VideoRecord] = {}
    for playlist_id, pages in (recorded.get("playlistItems") or {}).items():
        fetched = PlaylistFetch(playlist=Playlist(playlist_id=playlist_id, etag=(pages[0].get("etag") if pages else None)))
        # no `pages` kept: a replay is no answer a later live sync may ask to confirm
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
            result.videos[item.video_id] = unavailable.get(item.video_id) or VideoRecord(item.video_id, "unavailable")
    return clean_result(result)
