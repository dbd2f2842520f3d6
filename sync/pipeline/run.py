"""One sync: read the pages and YouTube, then save, match and record it in one transaction.

A failed fetch never leaves a half-written archive, and a failed write rolls back
whole. The pages are read first. The keyless path and the snapshot are read whole
before the data transaction starts; the API path opens it before reading YouTube and
saves each videos.list answer as it arrives (`sync.save.stream`), so a large playlist's
saving hides in the waits between its pages; a failure still rolls back all of it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import sqlite3
from typing import Callable

from db.runs import checkpoint, close_interrupted_runs, finish_run, open_database, start_run, utc_now, write_transaction
from db.store import RunContext
from db.syncs import last_sync
from sync import youtube
from sync.core.deadlines import Deadline, hold_deadlines, time_limit
from sync.core.dbfile import database_error
from sync.core.errors import TalksError
from sync.core.limits import MAX_ERROR_CHARS, MAX_FIELD_CHARS
from sync.core.lock import sync_lock
from sync.core.redact import redact
from sync.core.signals import Interrupted
from sync.core.text import clean_text
from sync.pages.sources import load_snapshot
from sync.save import check_mass_disappearance, mark_checked, save_talks, save_youtube, watchable_video_ids
from sync.save.related import related_stale, save_related
from sync.save.stream import StreamedVideos

from .inputs import fetch_youtube, read_pages
from .options import SyncOptions, SyncReport, effective_source
from .rematch import rematch

log = logging.getLogger("talks.sync")


def run_sync(options: SyncOptions, progress: Callable[[str], None] = log.info) -> SyncReport:
    """Run one whole sync under the database's lock; raise TalksError on failure."""
    source = effective_source(options)
    if options.today is None:
        # A snapshot is the world as of its date: count "past" from there.
        options.today = dt.date.fromisoformat(load_snapshot().date) if options.snapshot else dt.date.today()
    with contextlib.nullcontext() if options.lock_held else sync_lock(options.db_path):
        db = open_database(options.db_path, threads=True)  # sync.save.stream
        try:
            interrupted = close_interrupted_runs(db)
            if interrupted:
                log.warning("%d earlier run(s) had been interrupted; marked so in sync_runs", interrupted)
            run_id = start_run(db, options.kind, source=source, today=options.today.isoformat(), **options.run_fields)
            report = SyncReport(run_id=run_id, source=source)
            secrets = (options.api_key,) if options.api_key else ()
            deadline = Deadline(options.deadline, "the sync", " (--deadline); nothing was changed")
            try:
                with time_limit(deadline), _collector_paused():
                    _run(db, options, source, report, progress)  # records the run `ok` as it commits
            except Interrupted as stop:  # SIGTERM, SIGINT: rolled back by now, unless it came after the commit
                if stop.requests:
                    report.requests, report.quota_units = stop.requests, stop.units
                if finish_run(db, run_id, "interrupted", error=f"{stop} before it finished; nothing was changed",
                              **_run_counts(report)):
                    raise stop.says(f"sync {run_id} {stop}; nothing was changed") from None
                raise stop.says(f"{stop} after sync {run_id} had committed") from None
            except TalksError as exc:
                if exc.requests:
                    report.requests, report.quota_units = exc.requests, exc.units
                finish_run(db, run_id, "failed", error=_stored(redact(exc, secrets)), **_run_counts(report))
                raise
            except sqlite3.Error as exc:  # the file failed (disk full, I/O): the same sentence in the ledger
                error = database_error(exc, options.db_path)
                with contextlib.suppress(sqlite3.Error):  # still full: the next sync marks it interrupted
                    finish_run(db, run_id, "failed", error=_stored(redact(error, secrets)), **_run_counts(report))
                raise error from exc
            except Exception as exc:  # a bug: still say so in the ledger, then let it surface
                error = _stored(redact(f"{type(exc).__name__}: {exc}", secrets))
                finish_run(db, run_id, "failed", error=error, **_run_counts(report))
                raise
            return report
        finally:
            checkpoint(db)
            db.close()


@contextlib.contextmanager
def _collector_paused():
    """No cycle collection during a run. A sync builds hundreds of thousands of objects
    that live until it ends (records, rows, parsed pages) and makes next to no cycles:
    at 5,000 videos the collector walked them all twice, ~0.1 s for no garbage, on
    whichever thread, the page chain's included. What a run leaves is collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _stored(text: object, limit: int = MAX_ERROR_CHARS):
    """Text fit for a sync_runs field: a path that is not UTF-8 (U+FFFD), no NUL, capped."""
    return clean_text(str(text), limit)[0] if text is not None else None


def _run_counts(report: SyncReport) -> dict:
    return {
        "requests": report.requests,
        "quota_units": report.quota_units,
        "talks_seen": report.talks_seen,
        "videos_seen": report.videos_seen,
        "rows_changed": report.rows_changed,
    }


def _run(db, options: SyncOptions, source: str, report: SyncReport, progress) -> None:
    if source == "api":
        # While the pages are read; not while the database opens: its hundreds of short
        # SQLite calls each hand the GIL over and wait behind the import to get it back
        # (opening a new database took 140 ms instead of 45).
        youtube.load_api_client_in_background()
    progress("reading pages")
    pages = read_pages(options)
    report.warnings += pages.page.warnings
    db["sync_runs"].update(report.run_id, {
        "pages": _stored(pages.sources, MAX_FIELD_CHARS), "snapshot_date": pages.snapshot_date,
        "page_playlists": _stored(",".join(pages.page.playlist_ids), MAX_FIELD_CHARS) or None,
    })
    run = RunContext(report.run_id, options.now or utc_now())
    # The API path saves each videos.list answer while the next playlist pages are on
    # their way (sync.save.stream): its data transaction starts before the read, and
    # holds the write lock from then on. The other paths read first, then write.
    streaming = source == "api" and options.stream
    with write_transaction(db) if streaming else contextlib.nullcontext():
        watchable = watchable_video_ids(db)  # before this run writes any
        result, saved, item_plans = None, {}, {}
        if source != "none":
            progress(f"reading YouTube ({source})")
            try:
                if streaming:
                    with StreamedVideos(db, run) as streamed:
                        result = fetch_youtube(db, options, pages, source, stream=streamed)
                    # described, then listed private or deleted by a later page: saved below as the stub
                    streamed.take_back([i for i, record in streamed.saved.items() if result.videos.get(i) is not record])
                    saved, item_plans = streamed.saved, streamed.item_plans
                else:
                    result = fetch_youtube(db, options, pages, source)
            except TalksError as exc:
                # Requests that failed still cost quota: the ledger says so.
                report.requests, report.quota_units = exc.requests, exc.units
                raise
            report.requests, report.quota_units = result.requests, result.units
            check_mass_disappearance(watchable, result, options.allow_shrink)
            report.warnings += list(result.warnings)
            db["sync_runs"].update(report.run_id, {"playlists": ",".join(p.playlist_id for p in result.playlists)})
        progress("saving")
        with db.atomic():
            talk_ids = save_talks(
                db, run, pages.page.listed, pages.page.upcoming, pages.unattached, options.allow_shrink,
                warnings=report.warnings,
            )
            report.talks_seen = len(talk_ids)
            if result is not None:
                report.videos_seen = save_youtube(db, run, result, options.allow_shrink, saved, item_plans)
                if source in ("api", "ytdlp"):  # YouTube described them now (a snapshot is a recording)
                    mark_checked(db, run, [i for i in result.videos if i not in saved])
            # The matcher reads talks, videos, playlist items and decisions only (not "today"):
            # a run that changed none of them (every change is in the ledger, rows_changed)
            # would reach the stored decisions again. Organizers' decisions rematch at once.
            progress("matching recordings")
            if run.rows_changed or last_sync(db, before=report.run_id).run is None:
                rematch(db, run)
            else:
                log.debug("nothing the matcher reads changed: the stored matches stand")
            if related_stale(db, run.run_id):
                save_related(db)  # derived from the talks' words, rebuilt whole (sync/related.py)
            hold_deadlines()  # committing now: past --deadline or not, this run succeeds
            report.rows_changed = run.rows_changed
            finish_run(db, report.run_id, "ok", **_run_counts(report))  # commits with the data
    log.debug("committed")  # the end of the data transaction (the SIGKILL test times it)
