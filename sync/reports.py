"""What organizers ask of the database: missing recordings, and their decisions."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlite_utils

from db.runs import finish_run, fold_wal, open_database, start_run, utc_now
from db.schema import missing_recordings_sql
from db.store import RunContext

from .errors import TalksError
from .pipeline import rematch, sync_lock


def missing_recordings(db_path: str, today: Optional[dt.date] = None) -> list[dict]:
    """Rows of the missing_recordings view, counted from `today` when given."""
    db = sqlite_utils.Database(db_path)
    try:
        if today is None:
            return [dict(r) for r in db["missing_recordings"].rows]
        sql = missing_recordings_sql(":today")
        return [dict(r) for r in db.query(sql, {"today": today.isoformat()})]
    finally:
        db.close()


def record_decision(db_path: str, code: str, video_id: str, action: str) -> None:
    """Store an organizer's pin or reject and apply it at once with a re-match."""
    code = code.upper()
    with sync_lock(db_path):
        db = open_database(db_path)
        try:
            talks = list(db["talks"].rows_where("code = ?", [code], limit=1))
            if not talks:
                raise TalksError(f"no talk has the code {code}; see the talks table for codes")
            talk_id = talks[0]["id"]
            run_id = start_run(db, source="match", today=dt.date.today().isoformat())
            run = RunContext(run_id, utc_now())
            with db.atomic():
                db["match_decisions"].upsert(
                    {"talk_id": talk_id, "code": code, "video_id": video_id, "action": action,
                     "decided_at": run.now},
                    pk=("talk_id", "video_id"),
                )
                if action == "pin":
                    # One pin per talk: a new pin replaces the old one.
                    db.execute(
                        "DELETE FROM match_decisions WHERE talk_id = ? AND action = 'pin' AND video_id != ?",
                        [talk_id, video_id],
                    )
                rematch(db, run)
            finish_run(db, run_id, "ok", rows_changed=run.rows_changed)
        finally:
            fold_wal(db)
            db.close()
