"""`save_*(db, run, ...)`: records in, tracked rows out.

Which stored talk a parsed record is comes from sync.pages.identity.find_talk; a
coded record takes over the row of its announcement instead of adding a second.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Iterable, Optional

import sqlite_utils

from db.store import RowsPlan, RunContext, live_count, mark_removed, row_key, save_row, save_rows

from sync.core.errors import ShrinkRefused
from sync.pages.identity import find_talk, settle_duplicate_codes
from sync.core.records import AbstractRecord, Match, Person, Playlist, PlaylistItem, TalkRecord, VideoRecord
from sync.core.text import fold
from sync.core.video_ids import watch_url

# A source that suddenly shows less than this share of what is stored is more
# likely broken (the real page once became a "we moved" notice) than truthful.
SHRINK_RATIO = 0.5

# Columns a newer page version may leave out without meaning "now empty": the
# talks page drops old abstracts, an announcement has no code. A page link that
# disappears, by contrast, is news and is recorded.
STICKY = {"title", "date", "date_text", "affiliation", "abstract", "bio", "topic", "talks_page_video_id"}


def speakers_text(speakers: Iterable[Person]) -> str:
    """ "A", "A and B", "A, B and C": how the pages themselves join names."""
    names = [p.name for p in speakers]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _talk_values(record: TalkRecord, status: str) -> dict:
    names = speakers_text(record.speakers)
    values = {
        "status": status,
        "title": record.title,
        "date": record.date,
        "date_text": record.date_text,
        "speakers": names or None,
        "speakers_ascii": fold(names) or None,
        "affiliation": record.affiliation,
        "abstract": record.abstract,
        "bio": record.bio,
        "topic": record.topic,
        "page_video_id": record.page_video_id,
        "talks_page_video_id": record.talks_page_video_id,
    }
    if record.code:
        values.update(code=record.code, season=record.season, episode=record.episode)
    return values


def save_speakers(db, run: RunContext, talk_id: int, speakers: list[Person]) -> None:
    seen = []
    for position, person in enumerate(speakers):
        values = {"name": person.name, "name_ascii": fold(person.name)}
        if person.honorific:
            values["honorific"] = person.honorific
        if person.url:
            values["url"] = person.url
        existing = list(db["speakers"].rows_where("name = ?", [person.name], limit=1))
        if existing:
            values["id"] = existing[0]["id"]
        speaker = save_row(db, run, "speakers", values)
        link = {"talk_id": talk_id, "speaker_id": speaker["id"], "position": position}
        save_row(db, run, "talk_speakers", link)
        seen.append(row_key("talk_speakers", link))
    mark_removed(db, run, "talk_speakers", seen, "talk_id = ?", [talk_id])


def save_talk(
    db, run: RunContext, record: TalkRecord, status: Optional[str], claimed: set[int],
    page_code: Optional[str] = None,
) -> dict:
    """Save one talk; status None (a talks-page section) keeps a stored talk's status.
    `page_code`: the code the webinar page printed on its line (even one another talk holds)."""
    existing = find_talk(db, record, claimed, section=status is None)
    if status is None:
        status = existing["status"] if existing is not None else "unlisted"
    if record.code and existing is not None and existing["id"] in claimed:
        # The same page gave this code to two talks (it happened in November
        # 2025): the first line keeps it; this one is saved by identity alone.
        record = replace(record, code=None, season=None, episode=None)
        existing = find_talk(db, record, claimed)
        status = existing["status"] if existing is not None else "upcoming"
    values = _talk_values(record, status)
    if page_code:
        values["page_code"] = page_code
    announcement_of_listed = existing is not None and existing["code"] and not record.code
    if existing is not None:
        values["id"] = existing["id"]
        if announcement_of_listed:
            # Never let an announcement overwrite what the listing says.
            values = {"id": existing["id"]}
        else:
            # Fields a page leaves empty keep what an earlier version said.
            values = {k: v for k, v in values.items() if v is not None or k not in STICKY}
    row = save_row(db, run, "talks", values)
    claimed.add(row["id"])
    if record.speakers and not announcement_of_listed:
        save_speakers(db, run, row["id"], record.speakers)
    return row


def check_shrink(db, what: str, stored: int, seen: int, allow_shrink: bool) -> None:
    if allow_shrink or stored == 0:
        return
    if seen < stored * SHRINK_RATIO:
        raise ShrinkRefused(
            f"the {what} now shows {seen} where the database holds {stored}; refusing to mark"
            " them removed (rerun with --allow-shrink if this is real)"
        )


def save_talks(
    db: sqlite_utils.Database,
    run: RunContext,
    listed: list[TalkRecord],
    upcoming: list[TalkRecord],
    unattached: list[AbstractRecord],
    allow_shrink: bool = False,
    warnings: Optional[list[str]] = None,
) -> list[int]:
    """Save one version of the pages' talks; returns the ids of the talks seen. Warnings
    (a code given to two talks) are appended to `warnings`."""
    check_shrink(db, "webinar page", live_count(db, "talks", "status = 'listed'"), len(listed), allow_shrink)
    claimed: set[int] = set()
    settled, duplicates = settle_duplicate_codes(db, listed)
    if warnings is not None:
        warnings += duplicates
    for printed, record in zip(listed, settled):
        save_talk(db, run, record, "listed", claimed, page_code=printed.code)
    for record in upcoming:
        save_talk(db, run, record, "upcoming", claimed)
    for section in unattached:
        record = TalkRecord(
            status="unlisted",
            speakers=section.speakers,
            code=section.code,
            affiliation=section.affiliation,
            title=section.title,
            abstract=section.abstract,
            bio=section.bio,
            talks_page_video_id=section.video_id,
        )
        save_talk(db, run, record, None, claimed)
    seen = [str(i) for i in claimed]
    # Announced talks that vanished unlisted were never given a code. This run did not
    # see them: a derived update, so last_seen_run stays the run that last showed them.
    for row in list(db["talks"].rows_where("status = 'upcoming' AND removed_at IS NULL")):
        if row["id"] not in claimed:
            save_row(db, run, "talks", {"id": row["id"], "status": "unlisted"}, seen=False)
    mark_removed(db, run, "talks", seen)
    retire_speakers(db, run)
    return sorted(claimed)


def retire_speakers(db, run: RunContext) -> None:
    """Speakers of no live talk any more get removed_at (kept, like every sourced row);
    one who speaks again is seen again by save_speakers."""
    live = [str(r[0]) for r in db.execute(
        "SELECT DISTINCT ts.speaker_id FROM talk_speakers ts JOIN talks t ON t.id = ts.talk_id"
        " WHERE ts.removed_at IS NULL AND t.removed_at IS NULL"
    ).fetchall()]
    mark_removed(db, run, "speakers", live)


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


def confirm_playlist_items(db, run: RunContext, playlist_id: str) -> None:
    """A playlist answered 304 (unchanged): its live items were seen by this run.

    Bookkeeping only: nothing changed, so nothing goes to `changes`.
    """
    db.execute(
        "UPDATE playlist_items SET last_seen_run = ? WHERE playlist_id = ? AND removed_at IS NULL",
        [run.run_id, playlist_id],
    )


def mark_checked(db, run: RunContext, video_ids: Iterable[str]) -> None:
    """YouTube described these videos in this run (`videos.checked_run`, the refresh cadence).

    Bookkeeping like last_seen_run: nothing goes to `changes`.
    """
    db.conn.executemany("UPDATE videos SET checked_run = ? WHERE video_id = ?", [(run.run_id, i) for i in video_ids])


# Availabilities YouTube can leave out of videos.list while a playlist still lists the video.
LISTED_BUT_HIDDEN = {"private", "deleted"}


def settle_videos(
    db,
    run: RunContext,
    described: set[str],
    referenced: Iterable[str],
    kept_unavailable: Iterable[str] = (),
) -> None:
    """After `save_videos`: which stored videos this run saw, and which it saw nowhere.

    `referenced` are the ids a live playlist item or a live talk's page link points to
    once this run's talks and items are saved. Their stored rows are seen by this run,
    also when the source left them undescribed (a playlist that answered 304, a video
    yt-dlp knew already or could not read); `described` are the ids `save_videos` just
    saved. `kept_unavailable` are ids of a 304 playlist that videos.list left out:
    stored as private or deleted they stay so; stored as anything else the video has
    gone since, so it becomes not_found. Every other stored video is referenced by
    nothing any more: it keeps its row and gets removed_at (even if described this run,
    as a link the previous page version had is checked once more).
    """
    kept = set(kept_unavailable)
    referenced = list(dict.fromkeys([*referenced, *kept]))
    stored = {r[0]: r[1:] for r in db.execute("SELECT video_id, availability, removed_at FROM videos")}
    rows, sighted = [], []
    for video_id in referenced:
        if video_id in described and video_id not in kept:
            continue  # saved (and so seen) by save_videos
        if video_id not in stored:
            continue  # nothing known of it yet: no row to invent
        availability, removed_at = stored[video_id]
        values = {"video_id": video_id}
        if video_id in kept and availability not in LISTED_BUT_HIDDEN:
            values["availability"] = "not_found"
        elif removed_at is None:
            sighted.append((run.run_id, video_id))  # seen, nothing changed: bookkeeping only
            continue
        rows.append(values)
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


def save_matches(db, run: RunContext, matches: list[Match]) -> None:
    """Store the matcher's decisions and each talk's chosen recording."""
    chosen = {m.talk_key: m for m in matches}
    codes = dict(db.execute("SELECT id, code FROM talks").fetchall())
    talk_rows = []
    for talk_id in codes:
        match = chosen.get(talk_id)
        video_id = match.video_id if match else None
        talk_rows.append({"id": talk_id, "video_id": video_id, "recording_url": watch_url(video_id)})
    save_rows(db, run, "talks", talk_rows, seen=False)
    availability = dict(db.execute("SELECT video_id, availability FROM videos").fetchall())
    rows = [
        {"talk_id": match.talk_key, "code": codes[match.talk_key], "video_id": match.video_id,
         "method": match.method, "score": round(match.score, 3), "evidence": match.evidence,
         "availability": availability.get(match.video_id)}
        for match in matches
    ]
    save_rows(db, run, "matches", rows)
    seen = [str(match.talk_key) for match in matches]
    mark_removed(db, run, "matches", seen)


def save_decision(
    db, run: RunContext, talk_id: int, code: str, video_id: str, action: str, decided_at: str
) -> None:
    """An organizer's pin or reject of (talk, video), as the latest decision on that pair.

    Decisions are never deleted: a pin makes earlier pins of the same talk, and pins of
    the same video for other talks, "superseded" (kept, ignored by the matcher), so
    rejecting the newer pin later does not bring an older one back."""
    decision = {"talk_id": talk_id, "code": code, "video_id": video_id, "action": action, "decided_at": decided_at}
    save_row(db, run, "match_decisions", decision)
    if action != "pin":
        return
    for row in db.execute(
        "SELECT talk_id, code, video_id FROM match_decisions WHERE action = 'pin'"
        " AND ((talk_id = ? AND video_id != ?) OR (video_id = ? AND talk_id != ?))",
        [talk_id, video_id, video_id, talk_id],
    ).fetchall():
        save_row(db, run, "match_decisions", {"talk_id": row[0], "code": row[1], "video_id": row[2],
                                              "action": "superseded", "decided_at": decided_at})
