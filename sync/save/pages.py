"""The playlist page cache (`playlist_pages`): each playlistItems page as the Data API last
answered it, so the next sync can ask for every page conditionally and reuse the ones
that answer 304 (their items and next-page token).

A cache, not a source: a changed page's row is rewritten, pages past a playlist's end are
deleted, and nothing goes to `changes` (`playlist_items` is the record of what a playlist
held). It is written in the sync's data transaction, so it always describes the items
that transaction stored.
"""
from __future__ import annotations

import json
import logging
from typing import Iterable

from db.store import RunContext
from sync.core.records import PlaylistItem, PlaylistPage

log = logging.getLogger("talks.sync")

_GONE_STATES = ("private", "deleted")


def _items_json(page: PlaylistPage) -> str:
    rows = []
    for item in page.items:
        row = {"video_id": item.video_id, "position": item.position, "added_at": item.added_at}
        state = page.gone.get(item.video_id)
        if state:
            row["state"] = state
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _page_of(playlist_id: str, number: int, etag, next_page_token, items_text) -> PlaylistPage:
    """A stored row as a page; ValueError when it is not what this module wrote."""
    rows = json.loads(items_text)
    if not isinstance(rows, list):
        raise ValueError("items is not a list")
    items, gone = [], {}
    for row in rows:
        video_id, position, added_at = row["video_id"], row["position"], row.get("added_at")
        if not (isinstance(video_id, str) and isinstance(position, int) and (added_at is None or isinstance(added_at, str))):
            raise ValueError(f"unusable item {row!r:.80}")
        items.append(PlaylistItem(playlist_id, video_id, position, added_at))
        if row.get("state") in _GONE_STATES:
            gone[video_id] = row["state"]
    if not all(value is None or isinstance(value, str) for value in (etag, next_page_token)):
        raise ValueError("no usable etag or next page token")
    return PlaylistPage(playlist_id, number, etag, next_page_token, items, gone, fresh=False)


def stored_playlist_pages(db, playlist_ids: Iterable[str]) -> dict[str, list[PlaylistPage]]:
    """The stored pages of these playlists, first page first, as far as they run unbroken:
    a row that cannot be read (edited by hand, say) and every page after it are asked
    for without an etag, which only costs the re-read of those pages. A page kept
    without an etag (its answer had none usable) is asked for unconditionally."""
    pages: dict[str, list[PlaylistPage]] = {}
    for playlist_id in dict.fromkeys(playlist_ids):
        kept: list[PlaylistPage] = []
        for number, etag, token, items_text in db.execute(
            "SELECT page_number, etag, next_page_token, items FROM playlist_pages WHERE playlist_id = ?"
            " ORDER BY page_number", [playlist_id]
        ).fetchall():
            if number != len(kept) + 1:  # a gap: the rest is asked for unconditionally
                break
            try:
                kept.append(_page_of(playlist_id, number, etag, token, items_text))
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                log.warning("playlist %s: stored page %s is unreadable (%s); asking for it again", playlist_id, number, error)
                break
        if kept:
            pages[playlist_id] = kept
    return pages


def save_playlist_pages(db, run: RunContext, playlist_id: str, pages: list[PlaylistPage]) -> None:
    """Store the pages that answered 200 this run (a 304 page's row is already what it
    says) and forget stored pages past the playlist's end."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO playlist_pages (playlist_id, page_number, etag, next_page_token, items, item_count,"
        " fetched_run) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(playlist_id, page.number, page.etag, page.next_page_token, _items_json(page), len(page.items), run.run_id)
         for page in pages if page.fresh],
    )
    db.execute("DELETE FROM playlist_pages WHERE playlist_id = ? AND page_number > ?", [playlist_id, len(pages)])
