"""`save_*(db, run, ...)`: records in, tracked rows out (every change in the ledger).

    talks     save_talks (and their speakers), speakers_text
    videos    save_youtube: playlists, their items, videos; settle_videos, mark_checked
    pages     the playlist page cache: stored_playlist_pages, save_playlist_pages
    matches   save_matches, save_decision
    guards    check_shrink, check_mass_disappearance: what a save refuses
    stream    StreamedVideos: the API path saves videos while pages are still read
"""
from .guards import check_mass_disappearance, check_shrink, watchable_video_ids
from .matches import save_decision, save_matches
from .pages import save_playlist_pages, stored_playlist_pages
from .talks import save_talks, speakers_text
from .videos import (
    mark_checked,
    playlist_item_rows,
    playlist_items_plan,
    referenced_video_ids,
    retire_playlists,
    save_playlist,
    save_playlist_items,
    save_videos,
    save_youtube,
    settle_videos,
)

__all__ = [
    "check_mass_disappearance",
    "check_shrink",
    "mark_checked",
    "playlist_item_rows",
    "playlist_items_plan",
    "referenced_video_ids",
    "retire_playlists",
    "save_decision",
    "save_matches",
    "save_playlist",
    "save_playlist_items",
    "save_playlist_pages",
    "save_talks",
    "save_videos",
    "save_youtube",
    "settle_videos",
    "speakers_text",
    "stored_playlist_pages",
    "watchable_video_ids",
]
