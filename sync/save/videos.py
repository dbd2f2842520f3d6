"""save_* for what YouTube said: playlists, their items and the videos."""
from __future__ import annotations

import json
import logging
from typing import Iterable, Optional

from db.store import RowsPlan, RunContext, live_count, mark_removed, save_row, save_rows
from sync.core.records import Playlist, PlaylistItem, VideoRecord
from sync.core.video_ids import watch_url

from .guards import check_shrink
from .pages import save_playlist_pages

log = logging.getLogger("talks.sync")


def save_playlist(db, run: RunContext, playlist: Playlist) -> None:
    values = {
        "playlist_id": playlist.playlist_id,
        "url": f"https://www.youtube.com/playlist?list={playlist.playlist_id}",
    }
    if playlist.title is not None:
        values["title"] = playlist.title
    if playlist.etag is not None:
        values["etag"] = playlist.etag
    save_row(db, run, "playlists", values)


def retire_playlists(db, run: RunContext, read_ids: Iterable[str], allow_shrink: bool = False) -> list[str]:
    """Playlists this run did not read (the page now links another, or --playlist replaced
    them) are no longer sources: they and their items get removed_at, rows kept.

    A run that read no playlist at all (a page that lost its playlist link) is the
    shrink guard's business, not a replacement.
    """
    read = list(read_ids)
    if not read:
        check_shrink(db, "webinar page's playlist links", live_count(db, "playlists"), 0, allow_shrink)
    retired = mark_removed(db, run, "playlists", read)
    for playlist_id in retired:
        mark_removed(db, run, "playlist_items", (), "playlist_id = ?", [playlist_id])
    return retired


def playlist_item_rows(items: Iterable[PlaylistItem]) -> list[dict]:
    return [
        {"playlist_id": item.playlist_id, "video_id": item.video_id, "position": item.position,
         "added_at": item.added_at}
        for item in items
    ]


def playlist_items_plan(db, run: RunContext, playlist_id: str) -> RowsPlan:
    """A `RowsPlan` of a playlist's items, to be fed page by page and handed to `save_playlist_items`."""
    return RowsPlan(db, run, "playlist_items", "playlist_id = ?", [playlist_id])


def save_playlist_items(
    db, run: RunContext, playlist_id: str, items: list[PlaylistItem], allow_shrink: bool = False,
    plan: Optional[RowsPlan] = None,
) -> None:
    """Save a playlist's items; `plan`, if given, holds them already (`playlist_items_plan`,
    fed and maybe applied page by page: the shrink guard counts what it read first)."""
    if plan is None:
        plan = playlist_items_plan(db, run, playlist_id)
        plan.add(playlist_item_rows(items))
    check_shrink(db, f"playlist {playlist_id}", plan.live_before, len(items), allow_shrink)
    plan.apply()
    seen = [f"{item.playlist_id}/{item.video_id}" for item in items]  # row_key of playlist_items
    mark_removed(db, run, "playlist_items", seen, "playlist_id = ?", [playlist_id])


def mark_checked(db, run: RunContext, video_ids: Iterable[str]) -> None:
    """YouTube described these videos in this run (`videos.checked_run`, the refresh cadence).

    Bookkeeping like last_seen_run: nothing goes to `changes`.
    """
    db.conn.executemany("UPDATE videos SET checked_run = ? WHERE video_id = ?", [(run.run_id, i) for i in video_ids])


def settle_videos(db, run: RunContext, described: set[str], referenced: Iterable[str]) -> None:
    """After `save_videos`: which stored videos this run saw, and which it saw nowhere.

    `referenced` are the ids a live playlist item or a live talk's page link points to
    once this run's talks and items are saved. Their stored rows are seen by this run,
    also when the source left them undescribed (a playlist page that answered 304, a
    video yt-dlp knew already or could not read); `described` are the ids `save_videos`
    just saved. Every other stored video is referenced by nothing any more: it keeps
    its row and gets removed_at (even if described this run, as a link the previous
    page version had is checked once more).
    """
    referenced = list(dict.fromkeys(referenced))
    stored = dict(db.execute("SELECT video_id, removed_at FROM videos").fetchall())
    rows, sighted = [], []
    for video_id in referenced:
        if video_id in described or video_id not in stored:
            continue  # saved (and so seen) by save_videos, or nothing known of it: no row to invent
        if stored[video_id] is None:
            sighted.append((run.run_id, video_id))  # seen, nothing changed: bookkeeping only
        else:
            rows.append({"video_id": video_id})  # seen again: removed_at cleared, in the ledger
    # What save_rows would do for these, without reading every stored video into Python.
    db.conn.executemany("UPDATE videos SET last_seen_run = ? WHERE video_id = ?", sighted)
    if rows:
        save_rows(db, run, "videos", rows, "video_id IN (SELECT value FROM json_each(?))",
                  [json.dumps([r["video_id"] for r in rows])])
    mark_removed(db, run, "videos", referenced)


def save_videos(db, run: RunContext, videos: Iterable[VideoRecord]) -> int:
    rows = []
    for video in videos:
        values = {
            "video_id": video.video_id,
            "availability": video.availability,
            "url": watch_url(video.video_id),
        }
        # A private or vanished video keeps the title and facts seen while it was public.
        for column in (
            "title", "description", "published_at", "duration_seconds", "channel",
            "channel_id", "thumbnail_url", "view_count",
        ):
            value = getattr(video, column)
            if value is not None:
                values[column] = value
        if video.has_captions is not None:
            values["has_captions"] = int(video.has_captions)
        rows.append(values)
    # Read back only the stored rows of these videos (a 304 run describes a few of thousands).
    save_rows(db, run, "videos", rows, "video_id IN (SELECT value FROM json_each(?))",
              [json.dumps([r["video_id"] for r in rows])])
    return len(rows)


def save_youtube(
    db, run: RunContext, result, allow_shrink: bool, saved: Optional[dict] = None, item_plans: Optional[dict] = None
) -> int:
    """Save what `result` holds. From a read that streamed (`StreamedVideos`): `saved`
    maps the ids of videos saved meanwhile to those records (only the others are saved
    now), and `item_plans` holds each playlist's items, worked out."""
    for playlist in result.playlists:
        save_playlist(db, run, playlist)
        items = [i for i in result.items if i.playlist_id == playlist.playlist_id]
        plan = (item_plans or {}).get(playlist.playlist_id)
        save_playlist_items(db, run, playlist.playlist_id, items, allow_shrink, plan)
        if playlist.playlist_id in result.pages:
            save_playlist_pages(db, run, playlist.playlist_id, result.pages[playlist.playlist_id])
    for playlist_id in retire_playlists(db, run, [p.playlist_id for p in result.playlists], allow_shrink):
        log.warning("playlist %s is no longer read: its items are marked removed", playlist_id)
    saved = saved or {}
    rest = [v for video_id, v in result.videos.items() if saved.get(video_id) is not v]
    if rest:
        save_videos(db, run, rest)
    count = len(result.videos)
    # After this run's talks and items are saved (save_talks runs first), so the
    # references are this run's.
    settle_videos(db, run, set(result.videos), referenced_video_ids(db))
    return count


def referenced_video_ids(db) -> list[str]:
    """Videos something live points to: a playlist item, a talk's page link, an organizer's pin."""
    return [r[0] for r in db.execute(
        "SELECT video_id FROM playlist_items WHERE removed_at IS NULL"
        " UNION SELECT page_video_id FROM talks WHERE removed_at IS NULL AND page_video_id IS NOT NULL"
        " UNION SELECT talks_page_video_id FROM talks WHERE removed_at IS NULL AND talks_page_video_id IS NOT NULL"
        " UNION SELECT video_id FROM match_decisions WHERE action = 'pin'"
    ).fetchall()]
