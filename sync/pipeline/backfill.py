"""`talks backfill`: replay the site repository's history of the pages, commit by commit.

Each commit that changed the webinar or talks page becomes one pages-only sync
(`run_sync` with YouTube off), dated the commit's day, reading both pages as they
were at that commit; its `sync_runs` row carries the commit id and date, so the
replay is resumable and idempotent (a commit already replayed is skipped), and
a later `talks sync` continues from the state the newest commit left. History is
truth here: a page version that lists fewer talks than before is accepted (the
shrink guard is off), as the real pages did shrink.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import sqlite_utils

from sync.core.errors import RepositoryError, TalksError
from sync.pages.gitrepo import Commit, GitRepository
from sync.core.lock import sync_lock
from sync.core.signals import Interrupted
from sync.pipeline import SyncOptions, run_sync

WEBINAR_PATH = "_pages/webinar.md"
TALKS_PATH = "_pages/webinar_talks.md"


@dataclass
class BackfillOptions:
    repo: str
    db_path: str
    since: Optional[dt.date] = None
    webinar_path: str = WEBINAR_PATH
    talks_path: str = TALKS_PATH


@dataclass
class BackfillReport:
    commits: int = 0  # commits (since `since`) that changed either page
    replayed: int = 0  # synced by this backfill
    already: int = 0  # replayed by an earlier backfill: skipped
    without_page: int = 0  # the webinar page did not exist at that commit: skipped
    failed: list[str] = field(default_factory=list)  # "<commit> (<date>): <error>"
    rows_changed: int = 0
    talks: int = 0  # talks the database holds at the end (not removed)
    warnings: list[str] = field(default_factory=list)


def fetch_page_commits(repo: GitRepository, options: BackfillOptions) -> list[Commit]:
    commits = repo.commits([options.webinar_path, options.talks_path], options.since)
    if not commits:
        since = f" since {options.since.isoformat()}" if options.since else ""
        raise RepositoryError(
            f"{options.repo} has no commit{since} touching {options.webinar_path} or {options.talks_path}"
        )
    return commits


def replayed_commit_ids(db_path: str) -> set[str]:
    """Commits an earlier backfill replayed successfully into this database."""
    if not Path(db_path).exists():
        return set()
    db = sqlite_utils.Database(db_path)
    try:
        if not db["sync_runs"].exists() or "commit_id" not in db["sync_runs"].columns_dict:
            return set()
        return {
            r[0] for r in db.execute(
                "SELECT commit_id FROM sync_runs WHERE status = 'ok' AND commit_id IS NOT NULL"
            ).fetchall()
        }
    finally:
        db.close()


def commit_sync_options(options: BackfillOptions, commit: Commit, webinar: bytes, talks: Optional[bytes]) -> SyncOptions:
    """One commit's pages as a pages-only sync dated the commit's day."""
    return SyncOptions(
        db_path=options.db_path,
        webinar_page=f"{commit.short}:{options.webinar_path}",
        talks_page=f"{commit.short}:{options.talks_path}" if talks is not None else None,
        today=commit.date,
        source="none",
        allow_shrink=True,
        page_bytes=(webinar, talks),
        kind="backfill",
        run_fields={"commit_id": commit.commit_id, "commit_date": commit.committed},
        now=commit.utc,
        lock_held=True,
    )


def backfill(
    options: BackfillOptions,
    progress: Callable[[int, int, Commit], None] = lambda done, total, commit: None,
) -> BackfillReport:
    """Replay every page commit not replayed yet, oldest first; raise TalksError when the
    repository cannot be read. A commit whose pages cannot be used is recorded as a failed
    run and listed in `failed`; the replay goes on with the next."""
    repo = GitRepository(options.repo)
    commits = fetch_page_commits(repo, options)
    report = BackfillReport(commits=len(commits))
    # One lock for the whole replay: no sync of today's pages lands between two old commits.
    with sync_lock(options.db_path), repo.blobs() as blobs:
        done = replayed_commit_ids(options.db_path)
        for number, commit in enumerate(commits, 1):
            progress(number - 1, len(commits), commit)
            if commit.commit_id in done:
                report.already += 1
                continue
            try:
                webinar = blobs.read(commit, options.webinar_path)
                if webinar is None:
                    # Before the page existed or after it was deleted: nothing to sync.
                    report.without_page += 1
                    continue
                talks = blobs.read(commit, options.talks_path)
                result = run_sync(commit_sync_options(options, commit, webinar, talks), progress=lambda m: None)
            except RepositoryError:
                raise  # git itself failed: stop here
            except Interrupted as stop:  # SIGTERM, SIGINT: this commit's run says so; the replayed ones stay
                raise stop.says(f"backfill stopped at {commit.short} ({commit.committed[:10]}): {stop}; "
                                "the commits replayed before it are kept") from None
            except TalksError as exc:
                # This version's pages are unusable; the run row says so and history goes on.
                report.failed.append(f"{commit.short} ({commit.committed[:10]}): {exc}")
                continue
            report.replayed += 1
            report.rows_changed += result.rows_changed
            report.warnings += [f"{commit.short} ({commit.committed[:10]}): {w}" for w in result.warnings]
        progress(len(commits), len(commits), commits[-1])
    report.talks = live_talks(options.db_path)
    return report


def live_talks(db_path: str) -> int:
    if not Path(db_path).exists():
        return 0
    db = sqlite_utils.Database(db_path)
    try:
        return db.execute("SELECT count(*) FROM talks WHERE removed_at IS NULL").fetchone()[0]
    finally:
        db.close()
