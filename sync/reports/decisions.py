"""Organizers' decisions: `talks match pin|reject`, stored and applied at once."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from db.runs import checkpoint, finish_run, open_database, start_run, utc_now
from db.store import RunContext
from sync.core.errors import TalksError
from sync.core.lock import sync_lock
from sync.core.signals import Interrupted
from sync.core.video_ids import is_video_id, video_id_from_url
from sync.pages.parse import normalize_code
from sync.pipeline import rematch
from sync.save import save_decision


@dataclass
class DecisionOutcome:
    """What an organizer's decision did: the talk's recording after it, and what is
    known of the video decided on (availability None: no sync has seen it)."""

    code: str
    video_id: str
    action: str
    availability: Optional[str]
    recording: Optional[str]
    method: Optional[str]


def normalize_video_id(text: str) -> str:
    """A bare 11-character id, or the id of a YouTube URL; TalksError otherwise."""
    text = (text or "").strip()
    if is_video_id(text):
        return text
    found = video_id_from_url(text) if ("/" in text or "." in text) else None
    if found:
        return found
    raise TalksError(f"{text!r} is not a YouTube video id (11 characters) nor a YouTube video URL")


def record_decision(db_path: str, code: str, video_id: str, action: str) -> DecisionOutcome:
    """Store an organizer's pin or reject (save_decision) and apply it at once with a
    re-match, as one run of its own: every change is in `changes` under that run.

    Decisions are never deleted. One row per (talk, video) holds the latest decision on
    that pair and when it was taken.
    """
    if action not in ("pin", "reject"):
        raise ValueError(f"action must be 'pin' or 'reject', not {action!r}")
    written, code = code, normalize_code(code)  # "s3e2", "S0302", "[S03E02]" -> "S03E02"
    if code is None:
        raise TalksError(f"{written.strip()!r} is not an episode code (like S03E02)")
    video_id = normalize_video_id(video_id)
    with sync_lock(db_path):
        db = open_database(db_path)
        try:
            talks = list(db["talks"].rows_where("code = ?", [code], limit=1))
            if not talks:
                raise TalksError(f"no talk has the code {code}; see the talks table for codes")
            talk_id = talks[0]["id"]
            # A decision is no sync: it leaves `today` unset, so the reports keep counting
            # from the last sync's.
            run_id = start_run(db, "decision", source="match")
            run = RunContext(run_id, utc_now())
            try:
                with db.atomic():
                    save_decision(db, run, talk_id, code, video_id, action, _decision_time(db))
                    rematch(db, run)
                    finish_run(db, run_id, "ok", rows_changed=run.rows_changed)  # commits with the decision
            except Interrupted as stop:
                if finish_run(db, run_id, "interrupted", error=f"{stop}; the decision was not stored"):
                    raise stop.says(f"{stop}; the decision was not stored") from None
                raise
            except Exception as exc:
                finish_run(db, run_id, "failed", error=f"{type(exc).__name__}: {exc}")
                raise
            video = db["videos"].get(video_id) if db["videos"].count_where("video_id = ?", [video_id]) else None
            match = list(db["matches"].rows_where("talk_id = ? AND removed_at IS NULL", [talk_id], limit=1))
            return DecisionOutcome(
                code=code,
                video_id=video_id,
                action=action,
                availability=video["availability"] if video else None,
                recording=match[0]["video_id"] if match else None,
                method=match[0]["method"] if match else None,
            )
        finally:
            checkpoint(db)
            db.close()


def _decision_time(db) -> str:
    """Now, in microseconds, and strictly after every stored decision: the latest wins."""
    now = dt.datetime.now(dt.timezone.utc)
    (latest,) = db.execute("SELECT max(decided_at) FROM match_decisions").fetchone()
    if latest:
        try:
            before = dt.datetime.fromisoformat(latest)
        except ValueError:
            before = None
        if before is not None and before.tzinfo is not None and now <= before:
            now = before + dt.timedelta(microseconds=1)
    return now.isoformat(timespec="microseconds")
