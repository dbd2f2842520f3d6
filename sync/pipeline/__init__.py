"""One sync: read the pages and YouTube, then save, match and record it in one transaction.

A failed fetch never leaves a half-written archive, and a failed write rolls back
whole. The pages are read first. The keyless path and the snapshot are read whole
before the data transaction starts; the API path opens it before reading YouTube and
saves each videos.list answer as it arrives (`save_stream`), so a large playlist's
saving hides in the waits between its pages; a failure still rolls back all of it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Callable, Optional

import sqlite_utils

from db.runs import checkpoint, close_interrupted_runs, finish_run, open_database, start_run, utc_now, write_transaction
from db.store import RunContext

from sync import youtube
from sync.core.dbfile import database_error
from sync.core.errors import ShrinkRefused, TalksError
from sync.core.lock import sync_lock
from sync.core.limits import (
    DEFAULT_SYNC_DEADLINE,
    MASS_DISAPPEARANCE_MIN,
    MASS_DISAPPEARANCE_RATIO,
    REFRESH_CAP,
    REFRESH_DAYS,
    YTDLP_ROTATION,
)
from sync.core.deadlines import Deadline, hold_deadlines, time_limit
from sync.match import Decision, match_recordings
from sync.pages.identity import attach_abstracts
from sync.pages.parse import decode_page, parse_talks_page, parse_webinar_page
from sync.core.records import AbstractRecord, Person, TalkRecord, VideoRecord, WebinarPage
from sync.core.redact import redact
from sync.save.stream import StreamedVideos
from sync.save import (
    confirm_playlist_items,
    retire_playlists,
    save_matches,
    save_playlist,
    save_playlist_items,
    save_talks,
    save_videos,
    mark_checked,
    settle_videos,
)
from sync.pages.sources import DEFAULT_TALKS_PAGE, DEFAULT_WEBINAR_PAGE, load_snapshot, read_page_bytes

log = logging.getLogger("talks.sync")

@dataclass
class SyncOptions:
    db_path: str
    webinar_page: str = DEFAULT_WEBINAR_PAGE
    talks_page: Optional[str] = DEFAULT_TALKS_PAGE
    today: Optional[dt.date] = None  # default: the snapshot's date with --snapshot, else today
    source: str = "auto"  # auto | api | ytdlp | none
    playlists: tuple[str, ...] = ()  # replaces the playlists the webinar page links
    snapshot: bool = False
    allow_shrink: bool = False
    api_key: Optional[str] = None
    api_endpoint: Optional[str] = None
    timeout: float = 30.0  # one page or API request, start to last byte
    deadline: float = DEFAULT_SYNC_DEADLINE  # the whole sync
    # Pages already in hand, as bytes (webinar, talks or None): `talks backfill` reads
    # them from git; webinar_page/talks_page then only name them.
    page_bytes: Optional[tuple[bytes, Optional[bytes]]] = None
    run_fields: dict = field(default_factory=dict)  # more sync_runs columns (commit_id, commit_date)
    now: Optional[str] = None  # the time stamped into removed_at; default the real now (backfill: the commit's)
    lock_held: bool = False  # the caller holds <db>.lock already (talks backfill, for its whole replay)
    stream: bool = True  # API path: save videos while pages are read (sync.save.stream); False: after


@dataclass
class SyncReport:
    run_id: int
    talks_seen: int = 0
    videos_seen: int = 0
    rows_changed: int = 0
    requests: int = 0
    quota_units: int = 0
    source: str = "none"
    warnings: list[str] = field(default_factory=list)


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


def effective_source(options: SyncOptions) -> str:
    if options.snapshot:
        return "snapshot"
    if options.source == "auto":
        return "api" if options.api_key else "ytdlp"
    return options.source


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
        etags = {r["playlist_id"]: r["etag"] for r in db["playlists"].rows_where("etag IS NOT NULL")}
        known_items = {}
        for row in db.execute(
            "SELECT playlist_id, video_id FROM playlist_items WHERE removed_at IS NULL ORDER BY position"
        ).fetchall():
            known_items.setdefault(row[0], []).append(row[1])
        return youtube.fetch_youtube_api(
            playlist_ids,
            linked,
            api_key=options.api_key,
            endpoint=options.api_endpoint,
            etags=etags,
            known_items=known_items,
            refresh=api_refresh(db, linked),
            timeout=options.timeout,
            on_described=stream.add if stream is not None else None,
            on_items=stream.add_items if stream is not None else None,
        )
    known = {r[0] for r in db.execute("SELECT video_id FROM videos WHERE title IS NOT NULL").fetchall()}
    return youtube.fetch_youtube_ytdlp(
        playlist_ids, linked, known_video_ids=known, recheck=ytdlp_recheck(db, linked), timeout=options.timeout
    )


def report_video_ids(db, linked: list[str]) -> list[str]:
    """Videos the reports depend on, described again on every sync: `linked` (page-linked
    now or at the last sync, pinned), the matched recordings, and every video not public
    or unlisted (it may have come back)."""
    needed = list(linked)
    needed += [r[0] for r in db.execute(
        "SELECT video_id FROM matches WHERE removed_at IS NULL AND video_id IS NOT NULL"
        " UNION SELECT video_id FROM videos WHERE removed_at IS NULL"
        " AND availability NOT IN ('public', 'unlisted') ORDER BY 1"
    ).fetchall()]
    return list(dict.fromkeys(needed))


def api_refresh(db, linked: list[str], now: Optional[str] = None) -> list[str]:
    """Known videos of a playlist answering 304 that the API path describes again.

    Those the reports depend on (`report_video_ids`), then the rotation: videos last
    described (`videos.checked_run`) by a run started REFRESH_DAYS or more days (UTC
    dates, so a daily job's jitter does not matter) before `now`, or never, oldest
    first, at most REFRESH_CAP of them a sync; the others keep their stored statistics
    and availability until they are due.
    """
    needed = report_video_ids(db, linked)
    needed_set = set(needed)
    cutoff = (dt.datetime.fromisoformat(now or utc_now()) - dt.timedelta(days=REFRESH_DAYS)).date().isoformat()
    due = [r[0] for r in db.execute(
        "SELECT v.video_id FROM videos v LEFT JOIN sync_runs r ON r.id = v.checked_run"
        " WHERE v.removed_at IS NULL AND (r.started_at IS NULL OR substr(r.started_at, 1, 10) <= ?)"
        " ORDER BY v.checked_run, v.video_id", [cutoff]
    ).fetchall() if r[0] not in needed_set]
    return needed + due[:REFRESH_CAP]


def ytdlp_recheck(db, linked: list[str]) -> list[str]:
    """Known videos the keyless path looks at again this sync, most needed first.

    Every sync: those the reports depend on (`report_video_ids`). Then a rotation
    through all the others: keyless sync number k re-checks the YTDLP_ROTATION of them
    that follow position k * YTDLP_ROTATION in video id order, so each is seen again
    within ceil(n / YTDLP_ROTATION) keyless syncs.
    """
    needed = report_video_ids(db, linked)
    needed_set = set(needed)
    others = [r[0] for r in db.execute(
        "SELECT video_id FROM videos WHERE removed_at IS NULL ORDER BY video_id"
    ).fetchall() if r[0] not in needed_set]
    if not others:
        return needed
    (keyless_runs,) = db.execute("SELECT count(*) FROM sync_runs WHERE source = 'ytdlp'").fetchone()
    start = (max(keyless_runs - 1, 0) * YTDLP_ROTATION) % len(others)
    turn = (others[start:] + others[:start])[:YTDLP_ROTATION]
    return needed + turn


def watchable_video_ids(db) -> set[str]:
    return {
        r[0] for r in db.execute(
            "SELECT video_id FROM videos WHERE removed_at IS NULL AND availability IN ('public', 'unlisted')"
        ).fetchall()
    }


def check_mass_disappearance(watchable: set[str], result, allow_shrink: bool) -> None:
    """Refuse a run in which many watchable videos vanish at once (like the talks' shrink guard).

    A broken answer that still parsed must not turn the archive's recordings into
    not_found or deleted in one go; --allow-shrink accepts it when it is real.
    `watchable` is what the database held before this run wrote anything.
    """
    gone = {i for i, v in result.videos.items() if i in watchable and v.availability in ("not_found", "deleted")}
    gone |= watchable & set(result.kept_unavailable)
    if allow_shrink or len(gone) < MASS_DISAPPEARANCE_MIN or len(gone) < len(watchable) * MASS_DISAPPEARANCE_RATIO:
        return
    raise ShrinkRefused(
        f"YouTube now says {len(gone)} of the {len(watchable)} watchable videos are gone; refusing to"
        " record that (rerun with --allow-shrink if this is real)"
    )


def stored_talks_for_matching(db) -> dict[int, TalkRecord]:
    speakers: dict[int, list[Person]] = {}
    for talk_id, name in db.execute(
        "SELECT ts.talk_id, s.name FROM talk_speakers ts JOIN speakers s ON s.id = ts.speaker_id"
        " WHERE ts.removed_at IS NULL ORDER BY ts.talk_id, ts.position"
    ).fetchall():
        speakers.setdefault(talk_id, []).append(Person(name))
    talks = {}
    for row in db["talks"].rows_where("removed_at IS NULL OR status = 'listed'"):
        talks[row["id"]] = TalkRecord(
            status=row["status"],
            speakers=speakers.get(row["id"], []),
            code=row["code"],
            season=row["season"],
            episode=row["episode"],
            affiliation=row["affiliation"],
            date=row["date"],
            title=row["title"],
            page_video_id=row["page_video_id"],
            talks_page_video_id=row["talks_page_video_id"],
        )
    return talks


_MATCHED_VIDEO_COLUMNS = (
    "video_id", "availability", "title", "description", "published_at",
    "duration_seconds", "channel", "channel_id", "thumbnail_url", "view_count",
)


def stored_videos_for_matching(db) -> dict[str, VideoRecord]:
    cursor = db.execute(f"SELECT {', '.join(_MATCHED_VIDEO_COLUMNS)} FROM videos")
    return {row[0]: VideoRecord(**dict(zip(_MATCHED_VIDEO_COLUMNS, row))) for row in cursor}


def rematch(db, run: RunContext) -> int:
    """Run the matcher over everything stored, honouring organizers' decisions."""
    playlist_video_ids = {
        r[0] for r in db.execute("SELECT video_id FROM playlist_items WHERE removed_at IS NULL").fetchall()
    }
    # Oldest first, so the latest decision wins; superseded pins are kept for the record only.
    decisions = [
        Decision(row["talk_id"], row["video_id"], row["action"])
        for row in db["match_decisions"].rows_where("action IN ('pin', 'reject')", order_by="decided_at, rowid")
    ]
    matches = match_recordings(
        stored_talks_for_matching(db), stored_videos_for_matching(db), playlist_video_ids, decisions
    )
    save_matches(db, run, matches)
    return len(matches)


def save_youtube(
    db, run: RunContext, result, allow_shrink: bool, saved: Optional[dict] = None, item_plans: Optional[dict] = None
) -> int:
    """Save what `result` holds. From a read that streamed (`StreamedVideos`): `saved`
    maps the ids of videos saved meanwhile to those records (only the others are saved
    now), and `item_plans` holds each changed playlist's items, worked out."""
    for playlist in result.playlists:
        save_playlist(db, run, playlist)
        if playlist.playlist_id in result.unchanged_playlists:
            # 304: the stored items stand, and this run saw them (bookkeeping, not a change)
            confirm_playlist_items(db, run, playlist.playlist_id)
            continue
        items = [i for i in result.items if i.playlist_id == playlist.playlist_id]
        plan = (item_plans or {}).get(playlist.playlist_id)
        save_playlist_items(db, run, playlist.playlist_id, items, allow_shrink, plan)
    for playlist_id in retire_playlists(db, run, [p.playlist_id for p in result.playlists], allow_shrink):
        log.warning("playlist %s is no longer read: its items are marked removed", playlist_id)
    saved = saved or {}
    rest = [v for video_id, v in result.videos.items() if saved.get(video_id) is not v]
    if rest:
        save_videos(db, run, rest)
    count = len(result.videos)
    # After this run's talks and items are saved (save_talks runs first), so the
    # references are this run's.
    settle_videos(db, run, set(result.videos), referenced_video_ids(db), result.kept_unavailable)
    return count


def referenced_video_ids(db) -> list[str]:
    """Videos something live points to: a playlist item, a talk's page link, an organizer's pin."""
    return [r[0] for r in db.execute(
        "SELECT video_id FROM playlist_items WHERE removed_at IS NULL"
        " UNION SELECT page_video_id FROM talks WHERE removed_at IS NULL AND page_video_id IS NOT NULL"
        " UNION SELECT talks_page_video_id FROM talks WHERE removed_at IS NULL AND talks_page_video_id IS NOT NULL"
        " UNION SELECT video_id FROM match_decisions WHERE action = 'pin'"
    ).fetchall()]


def run_sync(options: SyncOptions, progress: Callable[[str], None] = log.info) -> SyncReport:
    """Run one whole sync under the database's lock; raise TalksError on failure."""
    source = effective_source(options)
    if source == "api":  # while the database opens and the pages are read
        youtube.load_api_client_in_background()
    if options.today is None:
        # A snapshot is the world as of its date: count "past" from there.
        options.today = dt.date.fromisoformat(load_snapshot().date) if options.snapshot else dt.date.today()
    with contextlib.nullcontext() if options.lock_held else sync_lock(options.db_path):
        db = open_database(options.db_path, threads=True)  # sync.save.stream
        try:
            interrupted = close_interrupted_runs(db)
            if interrupted:
                log.warning("%d earlier sync(s) had been interrupted; marked failed in sync_runs", interrupted)
            run_id = start_run(db, source=source, today=options.today.isoformat(), **options.run_fields)
            report = SyncReport(run_id=run_id, source=source)
            secrets = (options.api_key,) if options.api_key else ()
            deadline = Deadline(options.deadline, "the sync", " (--deadline); nothing was changed")
            try:
                with time_limit(deadline), _collector_paused():
                    _run(db, options, source, report, progress)
            except TalksError as exc:
                if exc.requests:
                    report.requests, report.quota_units = exc.requests, exc.units
                finish_run(db, run_id, "failed", error=redact(exc, secrets), **_run_counts(report))
                raise
            except sqlite3.Error as exc:  # the file failed (disk full, I/O): the same sentence in the ledger
                error = database_error(exc, options.db_path)
                with contextlib.suppress(sqlite3.Error):  # still full: the next sync marks it interrupted
                    finish_run(db, run_id, "failed", error=redact(error, secrets), **_run_counts(report))
                raise error from exc
            except Exception as exc:  # a bug: still say so in the ledger, then let it surface
                error = redact(f"{type(exc).__name__}: {exc}", secrets)
                finish_run(db, run_id, "failed", error=error, **_run_counts(report))
                raise
            finish_run(db, run_id, "ok", **_run_counts(report))
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


def _synced_before(db, run_id: int) -> bool:
    return db.execute("SELECT 1 FROM sync_runs WHERE id < ? AND status = 'ok' LIMIT 1", [run_id]).fetchone() is not None


def _run_counts(report: SyncReport) -> dict:
    return {
        "requests": report.requests,
        "quota_units": report.quota_units,
        "talks_seen": report.talks_seen,
        "videos_seen": report.videos_seen,
        "rows_changed": report.rows_changed,
    }


def _run(db, options: SyncOptions, source: str, report: SyncReport, progress) -> None:
    progress("reading pages")
    pages = read_pages(options)
    report.warnings += pages.page.warnings
    db["sync_runs"].update(report.run_id, {
        "pages": pages.sources, "snapshot_date": pages.snapshot_date,
        "page_playlists": ",".join(pages.page.playlist_ids) or None,
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
                    mark_checked(db, run, [i for i in [*result.videos, *result.kept_unavailable] if i not in saved])
            # The matcher reads talks, videos, playlist items and decisions only (not "today"):
            # a run that changed none of them (every change is in the ledger, rows_changed)
            # would reach the stored decisions again. Organizers' decisions rematch at once.
            progress("matching recordings")
            if run.rows_changed or not _synced_before(db, report.run_id):
                rematch(db, run)
            else:
                log.debug("nothing the matcher reads changed: the stored matches stand")
            hold_deadlines()  # committing now: past --deadline or not, this run succeeds
    log.debug("committed")  # the end of the data transaction (the SIGKILL test times it)
    report.rows_changed = run.rows_changed
