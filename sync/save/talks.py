"""save_* for talks and their speakers. Which stored talk a parsed record is comes from
sync.pages.identity.find_talk; a coded record takes over the row of its announcement
instead of adding a second."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Optional

import sqlite_utils

from db.store import RunContext, live_count, mark_removed, save_row
from sync.core.records import AbstractRecord, Person, TalkRecord
from sync.core.text import fold
from sync.pages.identity import find_talk, settle_duplicate_codes

from .guards import check_shrink
from .speakers import SpeakerBook, retire_speakers, save_speakers


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


def save_talk(
    db, run: RunContext, record: TalkRecord, status: Optional[str], claimed: set[int],
    page_code: Optional[str] = None, book: Optional[SpeakerBook] = None,
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
        save_speakers(db, run, row["id"], record.speakers, book or SpeakerBook(db))
    return row


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
    book = SpeakerBook(db)
    settled, duplicates = settle_duplicate_codes(db, listed)
    if warnings is not None:
        warnings += duplicates
    for printed, record in zip(listed, settled):
        save_talk(db, run, record, "listed", claimed, page_code=printed.code, book=book)
    for record in upcoming:
        save_talk(db, run, record, "upcoming", claimed, book=book)
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
        save_talk(db, run, record, None, claimed, book=book)
    seen = [str(i) for i in claimed]
    # Announced talks that vanished unlisted were never given a code. This run did not
    # see them: a derived update, so last_seen_run stays the run that last showed them.
    for row in list(db["talks"].rows_where("status = 'upcoming' AND removed_at IS NULL")):
        if row["id"] not in claimed:
            save_row(db, run, "talks", {"id": row["id"], "status": "unlisted"}, seen=False)
    mark_removed(db, run, "talks", seen)
    retire_speakers(db, run, book)
    return sorted(claimed)
