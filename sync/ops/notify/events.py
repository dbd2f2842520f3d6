"""What organizers are told about, read from what the sync already knows.

Problems come from the report views (`missing_recordings`, `stale_links`,
`unmatched_videos`) and from `talks status`' health, so whatever the views decide a
problem is, notifications say the same; a new recording comes from the ledger
(`changes`: a talk's `video_id` set by a sync). Each event has a stable identity, so a
problem is announced once and its end can be announced as solved. Reads only.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from db.syncs import kind_sql, last_sync

HEALTH = "health:unhealthy"


@dataclass(frozen=True)
class Event:
    key: str  # the identity: missing:S03E02:private, stale:S03E02:<video>, orphan:<video>, ...
    kind: str  # health | missing | stale | orphan | recording
    talk_id: Optional[int] = None
    code: Optional[str] = None
    title: Optional[str] = None
    video_id: Optional[str] = None
    reason: Optional[str] = None  # missing/stale: the view's reason; orphan: availability; health: the problem
    replacement: Optional[str] = None  # stale: the video to link instead

    @property
    def subject(self) -> str:
        """What the event is about, whatever its reason: a talk's missing recording whose
        reason changes (private, then deleted) is one subject under two identities."""
        return self.key.rsplit(":", 1)[0] if self.kind == "missing" else self.key

    def as_row(self) -> dict:
        return {"event": self.key, "kind": self.kind, "talk_id": self.talk_id, "code": self.code,
                "title": self.title, "video_id": self.video_id, "reason": self.reason,
                "replacement": self.replacement}

    @classmethod
    def from_row(cls, row: dict) -> "Event":
        return cls(key=row["event"], kind=row["kind"], talk_id=row["talk_id"], code=row["code"],
                   title=row["title"], video_id=row["video_id"], reason=row["reason"],
                   replacement=row["replacement"])


def _rows(db, sql: str, params=()) -> list[dict]:
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _talk(row: dict) -> str:
    """A talk in an identity: its code, or #<id> for a talk with none."""
    return row.get("code") or f"#{row.get('talk_id')}"


def problems(db, db_path: str, max_age: dt.timedelta, now: Optional[dt.datetime] = None) -> dict[str, Event]:
    """Every problem open now, by identity: the job's health, then the views' rows."""
    from sync.ops.status import read_status

    found: list[Event] = []
    status = read_status(db_path, max_age, now)
    if not status.healthy:
        found.append(Event(HEALTH, "health", reason=status.problem))
    for row in _rows(db, "SELECT * FROM missing_recordings"):
        found.append(Event(f"missing:{_talk(row)}:{row.get('reason')}", "missing", row.get("talk_id"),
                           row.get("code"), row.get("title"), row.get("video_id") or row.get("linked_video_id"),
                           row.get("reason")))
    for row in _rows(db, "SELECT * FROM stale_links"):
        recording = row.get("video_id")
        found.append(Event(f"stale:{_talk(row)}:{row.get('page_video_id')}", "stale", row.get("talk_id"),
                           row.get("code"), row.get("title"), row.get("page_video_id"), row.get("reason"),
                           recording if recording and recording != row.get("page_video_id") else None))
    for row in _rows(db, "SELECT * FROM unmatched_videos"):
        found.append(Event(f"orphan:{row.get('video_id')}", "orphan", video_id=row.get("video_id"),
                           title=row.get("title"), reason=row.get("availability")))
    return {event.key: event for event in found}


def ledger_baseline(db) -> int:
    """Where a database's first notification pass starts reading the ledger: recordings
    matched before the newest sync are the archive, not news, and so are those of a
    database's very first sync (it built the archive)."""
    newest = last_sync(db)
    if newest.run is None:
        return 0
    before = last_sync(db, before=newest.id)
    return before.id if before.run is not None else newest.id


def new_recordings(db, after_run: int) -> list[Event]:
    """Talks a sync after run `after_run` gave a recording that is still theirs and that
    the reports do not call missing (a talk whose new recording is private is reported
    missing instead)."""
    latest: dict[str, Optional[str]] = {}
    for row in _rows(db, f"""
        SELECT c.row_key, c.new_value FROM changes c JOIN sync_runs ON sync_runs.id = c.run_id
        WHERE c.table_name = 'talks' AND c.column_name = 'video_id' AND c.run_id > ?
          AND {kind_sql(db)} = 'sync'
        ORDER BY c.id""", [after_run]):
        latest[row["row_key"]] = row["new_value"]
    if not latest:
        return []
    missing = {row["talk_id"] for row in _rows(db, "SELECT talk_id FROM missing_recordings")}
    events = []
    for talk in _rows(db, "SELECT id AS talk_id, code, title, video_id FROM talks WHERE removed_at IS NULL"
                          " AND video_id IS NOT NULL ORDER BY date, code, id"):
        if latest.get(str(talk["talk_id"])) == talk["video_id"] and talk["talk_id"] not in missing:
            events.append(Event(f"recording:{_talk(talk)}:{talk['video_id']}", "recording", talk["talk_id"],
                                talk["code"], talk["title"], talk["video_id"]))
    return events

