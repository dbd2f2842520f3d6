"""What a sync reads: both pages (parsed, abstracts attached), and YouTube by the path chosen."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import sqlite_utils

from sync import youtube
from sync.core.records import AbstractRecord, WebinarPage
from sync.pages.identity import attach_abstracts
from sync.pages.parse import decode_page, parse_talks_page, parse_webinar_page
from sync.pages.sources import load_snapshot, read_page_bytes
from sync.save import stored_playlist_pages

from .options import SyncOptions
from .refresh import api_refresh, ytdlp_recheck


@dataclass
class PageInput:
    page: WebinarPage
    unattached: list[AbstractRecord]
    sources: str
    snapshot_date: Optional[str] = None
    recorded_youtube: Optional[dict] = None


def read_pages(options: SyncOptions) -> PageInput:
    if options.snapshot:
        snap = load_snapshot()
        webinar_text, talks_text = snap.webinar_page, snap.talks_page
        names = (snap.webinar_source, snap.talks_source)
    elif options.page_bytes is not None:
        names = (options.webinar_page, options.talks_page)
        webinar_bytes, talks_bytes = options.page_bytes
        webinar_text = decode_page(webinar_bytes, options.webinar_page)
        talks_text = decode_page(talks_bytes, options.talks_page) if talks_bytes is not None else None
    else:
        names = (options.webinar_page, options.talks_page)
        webinar_text = decode_page(read_page_bytes(options.webinar_page, options.timeout), options.webinar_page)
        talks_text = None
        if options.talks_page:
            talks_text = decode_page(read_page_bytes(options.talks_page, options.timeout), options.talks_page)
    page = parse_webinar_page(webinar_text, names[0])
    abstracts = parse_talks_page(talks_text, names[1]) if talks_text is not None else []
    unattached = attach_abstracts(page.listed + page.upcoming, abstracts)
    result = PageInput(page, unattached, " + ".join(n for n in names if n))
    if options.snapshot:
        result.snapshot_date, result.recorded_youtube = snap.date, snap.youtube
    return result


def linked_video_ids(db: sqlite_utils.Database, pages: PageInput) -> list[str]:
    """Every video a page links to now, or did at the last sync."""
    ids = []
    for talk in pages.page.listed + pages.page.upcoming:
        ids += [talk.page_video_id, talk.talks_page_video_id]
    ids += [a.video_id for a in pages.unattached]
    for row in db.execute(
        "SELECT page_video_id, talks_page_video_id FROM talks WHERE removed_at IS NULL"
    ).fetchall():
        ids += list(row)
    # A pinned recording may sit in no playlist: look it up so its availability stays current.
    ids += [r[0] for r in db.execute("SELECT video_id FROM match_decisions WHERE action = 'pin'").fetchall()]
    return list(dict.fromkeys(i for i in ids if i))


def fetch_youtube(db, options: SyncOptions, pages: PageInput, source: str, stream=None):
    playlist_ids = list(options.playlists) or pages.page.playlist_ids
    linked = linked_video_ids(db, pages)
    if source == "snapshot":
        result = youtube.result_from_recorded(pages.recorded_youtube or {})
        for playlist in result.playlists:
            playlist.title = f"reconstructed from the webinar page's links ({pages.snapshot_date})"
        return result
    if source == "api":
        previously = dict(db.execute(
            "SELECT video_id, availability FROM videos WHERE video_id IN (SELECT value FROM json_each(?))",
            [json.dumps(linked)]).fetchall())
        return youtube.fetch_youtube_api(
            playlist_ids,
            linked,
            stored_pages=stored_playlist_pages(db, playlist_ids),
            previously=previously,
            api_key=options.api_key,
            endpoint=options.api_endpoint,
            refresh=api_refresh(db, linked),
            timeout=options.timeout,
            on_described=stream.add if stream is not None else None,
            on_items=stream.add_items if stream is not None else None,
        )
    known = {r[0] for r in db.execute("SELECT video_id FROM videos WHERE title IS NOT NULL").fetchall()}
    return youtube.fetch_youtube_ytdlp(
        playlist_ids, linked, known_video_ids=known, recheck=ytdlp_recheck(db, linked), timeout=options.timeout
    )
