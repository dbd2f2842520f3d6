"""Caption runs: `talks transcripts import|fetch` and `talks sync --transcripts`.

Each run takes the sync lock and is a `sync_runs` row (kind `captions`, source
`transcripts`). Files and YouTube are read outside any transaction; each video is
then saved in its own transaction (an import: a batch of videos), which also
writes the run's count of changed rows, so a failure, a signal or a kill on one
video loses nothing stored for others and the ledger matches what was kept.

Nothing is final: every `captions` row says when to look again (`recheck`).
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from db.runs import checkpoint, close_interrupted_runs, finish_run, open_database, start_run
from db.store import RunContext

from sync.core.errors import CaptionError, TalksError
from sync.core.lock import sync_lock
from sync.core.redact import redact
from sync.core.signals import Interrupted

from .captions import TranscriptSegment, parse_caption, segment
from .fetch import CaptionFetch, fetch_captions, ytdlp_version
from .files import best_caption_file, caption_files
from .recheck import RECHECK, attempts_in_a_row, iso, next_check
from .save import TranscriptLoader, save_caption_state, save_transcript, stored_captions

log = logging.getLogger("talks.transcripts")

DEFAULT_MAX_VIDEOS = 10


@dataclass
class CaptionsReport:
    run_id: int = 0
    fetched: int = 0  # stored: new or changed captions
    unchanged: int = 0
    none: int = 0
    blocked: int = 0
    needs_token: int = 0
    unavailable: int = 0
    deferred: int = 0  # due videos not tried because the run stopped
    stopped: Optional[str] = None  # why the caption work stopped early
    retry_at: Optional[str] = None
    errors: list[str] = field(default_factory=list)  # one line per bad caption file
    loaded: int = 0  # videos an import stored or found unchanged

    def summary(self) -> str:
        line = (
            f"captions: {self.fetched} fetched, {self.unchanged} unchanged, {self.none} none, "
            f"{self.blocked} blocked"
        )
        extra = [f"{n} {label}" for n, label in (
            (self.needs_token, "need a PO token"), (self.unavailable, "unavailable"), (len(self.errors), "bad files"),
        ) if n]
        if extra:
            line += ", " + ", ".join(extra)
        if self.stopped:
            line += f"; stopped ({self.stopped}), {self.deferred} more videos wait until {self.retry_at}"
        return line


def _store(db, run: RunContext, report: CaptionsReport, video_id: str, segments: list[TranscriptSegment],
           fields: dict, loader: Optional[TranscriptLoader] = None) -> None:
    saved = loader.save(video_id, segments, fields) if loader else save_transcript(db, run, video_id, segments, fields)
    if saved:
        report.fetched += 1
    else:
        report.unchanged += 1


def record_fetch(db, run: RunContext, report: CaptionsReport, result: CaptionFetch, now: dt.datetime) -> None:
    """Save what one video's check found: its segments, or only its state."""
    video_id, state, error = result.video_id, result.state, result.error
    segments: list[TranscriptSegment] = []
    if result.data is not None and result.track is not None:
        try:
            captions = parse_caption(result.data, result.track.fmt, f"{video_id}.{result.track.key}.{result.track.fmt}")
            segments = segment(captions.words, video_id)
        except CaptionError as exc:
            state, error = "unavailable", f"the caption track could not be read: {exc}"
        else:
            if not segments:
                state, error = "none", "the caption track holds no text"
    stored = stored_captions(db, video_id)
    attempts = attempts_in_a_row(stored, state)
    fields = {
        "state": state,
        "checked_at": iso(now),
        "attempts": attempts,
        "last_error": error,
        "next_check_at": next_check(state, attempts, now),
        "ytdlp_version": ytdlp_version(),
    }
    if segments:
        track = result.track
        fields.update(language=track.language, track=track.key, format=track.fmt, source="fetch", fetched_at=iso(now))
        _store(db, run, report, video_id, segments, fields)
        return
    save_caption_state(db, run, video_id, fields)
    setattr(report, state, getattr(report, state) + 1)


def due_videos(db, now: dt.datetime) -> list[str]:
    """Talks' recordings anyone can watch whose next caption check is due, never-checked first."""
    return [r[0] for r in db.execute(
        """
        SELECT t.video_id FROM talks t
        JOIN videos v ON v.video_id = t.video_id
        LEFT JOIN captions c ON c.video_id = t.video_id
        WHERE t.removed_at IS NULL AND v.availability IN ('public', 'unlisted')
          AND (c.next_check_at IS NULL OR c.next_check_at <= ?)
        GROUP BY t.video_id
        ORDER BY c.next_check_at IS NOT NULL, c.next_check_at, min(t.date), min(t.code), t.video_id
        """,
        [iso(now)],
    ).fetchall()]


def _defer(db, run: RunContext, video_ids: list[str], retry_at: str, reason: str) -> None:
    """Videos the stopped run did not try wait for the block to lift, and say so."""
    for video_id in video_ids:
        stored = stored_captions(db, video_id)
        fields = {"next_check_at": retry_at, "last_error": f"not tried: {reason}"}
        if not stored:
            fields.update(state="blocked", attempts=0)
        save_caption_state(db, run, video_id, fields)


@dataclass
class _Run:
    db: Any
    run: RunContext
    report: CaptionsReport


def _caption_run(db_path: str, now: dt.datetime, work: Callable[[_Run], None]) -> CaptionsReport:
    """Lock, ledger row, `work`, and the run's end recorded whatever happens."""
    with sync_lock(db_path):
        db = open_database(db_path)
        try:
            interrupted = close_interrupted_runs(db)
            if interrupted:
                log.warning("%d earlier run(s) had been interrupted; marked so in sync_runs", interrupted)
            run_id = start_run(db, "captions", source="transcripts")
            state = _Run(db, RunContext(run_id, iso(now)), CaptionsReport(run_id=run_id))
            try:
                work(state)
            except Interrupted as stop:  # SIGTERM, SIGINT: the video in hand rolled back, the saved ones stay
                finish_run(db, run_id, "interrupted", error=f"{stop}; the videos saved before it are kept",
                           rows_changed=state.run.rows_changed)
                raise stop.says(f"caption run {run_id} {stop}; the videos saved before it are kept "
                                f"({state.run.rows_changed} rows changed)") from None
            except Exception as exc:
                error = str(exc) if isinstance(exc, TalksError) else f"{type(exc).__name__}: {exc}"
                finish_run(db, run_id, "failed", error=redact(error), rows_changed=state.run.rows_changed)
                raise
            finish_run(db, run_id, "ok", rows_changed=state.run.rows_changed, error=state.report.stopped)
            return state.report
        finally:
            checkpoint(db)
            db.close()


def run_fetch(
    db_path: str,
    max_videos: int = DEFAULT_MAX_VIDEOS,
    *,
    progress: Callable[[str], None] = log.info,
    ydl_factory: Optional[Callable[[dict], Any]] = None,
    sleep: Optional[Callable[[float], None]] = None,
    rng: Optional[random.Random] = None,
    now: Optional[dt.datetime] = None,
) -> CaptionsReport:
    """Check the captions of up to `max_videos` due recordings; a bot wall or 429 ends the work, not the run."""
    now = now or dt.datetime.now(dt.timezone.utc)

    def work(state: _Run) -> None:
        due = due_videos(state.db, now)
        todo = due[:max_videos]
        tried: set[str] = set()
        for n, result in enumerate(fetch_captions(todo, ydl_factory=ydl_factory, sleep=sleep, rng=rng), 1):
            progress(f"captions {n}/{len(todo)}: {result.video_id} {result.state}")
            tried.add(result.video_id)
            record_fetch(state.db, state.run, state.report, result, now)
            if result.stop:
                report = state.report
                report.stopped = (result.error or "blocked").split(":")[0] + f" at {result.video_id}"
                report.retry_at = stored_captions(state.db, result.video_id)["next_check_at"]
                rest = [v for v in due if v not in tried]
                report.deferred = len(rest)
                _defer(state.db, state.run, rest, report.retry_at, f"the run stopped ({report.stopped})")

    return _caption_run(db_path, now, work)


def run_import(
    db_path: str,
    directory: str,
    *,
    progress: Callable[[str], None] = log.info,
    now: Optional[dt.datetime] = None,
) -> CaptionsReport:
    """Load caption files fetched elsewhere (yt-dlp names them `<video_id>.<lang>.<ext>`)."""
    now = now or dt.datetime.now(dt.timezone.utc)

    def work(state: _Run) -> None:
        found = caption_files(Path(directory), state.report.errors)
        # Many videos: batched transactions, each indexed in one statement (TranscriptLoader).
        with TranscriptLoader(state.db, state.run) as loader:
            for n, (video_id, files) in enumerate(sorted(found.items()), 1):
                progress(f"importing {n}/{len(found)}: {video_id}")
                best = best_caption_file(video_id, files, state.report.errors)
                if best is None:
                    continue
                lang, fmt, kind, segments = best
                attempts = attempts_in_a_row(stored_captions(state.db, video_id), kind)
                fields = {
                    "state": kind,
                    "language": lang[: -len("-orig")] if lang.endswith("-orig") else lang,
                    "track": lang,
                    "format": fmt,
                    "source": "import",
                    "fetched_at": iso(now),
                    "checked_at": iso(now),
                    "attempts": attempts,
                    "last_error": None,
                    "next_check_at": next_check(kind, attempts, now),
                }
                try:
                    _store(state.db, state.run, state.report, video_id, segments, fields, loader)
                except sqlite3.OperationalError:
                    raise  # the database itself (full, locked, damaged): for the user to fix, the run fails
                except Exception as exc:  # this video's rows only: its savepoint is rolled back, the rest load
                    state.report.errors.append(f"{files[0][0]}: could not be stored ({type(exc).__name__}: {exc})")
                    continue
                state.report.loaded += 1

    return _caption_run(db_path, now, work)


__all__ = ["CaptionsReport", "DEFAULT_MAX_VIDEOS", "RECHECK", "due_videos", "next_check", "run_fetch", "run_import"]
