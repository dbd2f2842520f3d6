"""Notifications: organizers are told, once, what changed for them.

A pass (after `talks sync --notify URL`, or `talks notify` on its own schedule):

1. events (`events.py`): the problems open now, from the report views and the job's
   health, and the recordings syncs matched since the last pass, from the ledger;
2. memory (`state.py`): what changed since the last pass is appended to
   `notify_events`; each target's digest is everything after the newest event it was
   last sent;
3. the digest (`digest.py`): one short message, to do / new / solved;
4. delivery (`targets.py`): through Apprise, one message per target with something to
   tell, none otherwise. A failure is recorded and the same events go out at the next
   pass; a URL is never stored, logged or shown.

The pass holds the database's lock (one writer at a time) and writes its memory in two
short transactions, before and after delivery, so a slow service never holds SQLite's
write lock.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from db.runs import open_database, utc_now, write_transaction
from db.syncs import last_sync
from sync.core.dbfile import check_readable
from sync.core.lock import sync_lock

from . import state
from .digest import Digest, compose
from .events import ledger_baseline, new_recordings, problems
from .targets import ENV, SITE_ENV, NotifyConfigError, NotifyUrl, from_sources, send, site_url

__all__ = [
    "DEFAULT_MAX_AGE", "ENV", "SITE_ENV", "Delivery", "NotifyConfigError", "NotifyReport", "NotifyUrl", "from_sources",
    "run_notify", "site_url",
]

DEFAULT_MAX_AGE = dt.timedelta(hours=36)  # as `talks status`


@dataclass
class Delivery:
    label: str
    digest: Digest
    error: Optional[str] = None  # None: sent (or, in a dry run, what would be sent)


@dataclass
class NotifyReport:
    events: int  # events this pass added to notify_events
    deliveries: list[Delivery] = field(default_factory=list)  # targets with something to tell

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.error]


def _detect(db, db_path: str, max_age: dt.timedelta, now: Optional[dt.datetime], stamp: str) -> int:
    """Append what changed since the last pass to the event log."""
    current = problems(db, db_path, max_age, now)
    cursor = state.get_state(db, "ledger_run")
    recordings = new_recordings(db, int(cursor) if cursor else ledger_baseline(db))
    newest_run = db.execute("SELECT coalesce(max(id), 0) FROM sync_runs WHERE status != 'running'").fetchone()[0]
    state.set_state(db, "ledger_run", str(max(newest_run, int(cursor or 0))))
    return state.record(db, current, recordings, last_sync(db, outcome="finished").id, stamp)


def run_notify(db_path: str, urls: list[NotifyUrl], *, site: Optional[str] = None,
               max_age: dt.timedelta = DEFAULT_MAX_AGE, now: Optional[dt.datetime] = None,
               dry_run: bool = False, lock_held: bool = False) -> NotifyReport:
    """One pass. A dry run changes nothing and sends nothing: its report holds the digest
    each target would get now (with no URL given: each target the database knows, or a
    new one)."""
    check_readable(db_path)  # one sentence for a file that is missing, damaged or no talks database
    with contextlib.nullcontext() if lock_held else sync_lock(db_path):
        db = open_database(db_path)
        try:
            return _pass(db, db_path, urls, site, max_age, now, dry_run)
        finally:
            db.close()


def _pass(db, db_path, urls, site, max_age, now, dry_run) -> NotifyReport:
    stamp = utc_now()
    db.execute("BEGIN IMMEDIATE")
    try:
        before = state.newest_event(db)
        targets = []
        for url in urls:
            fingerprint = state.fingerprint(db, url.url)
            targets.append((url, state.target_row(db, fingerprint, state.label(url.scheme, fingerprint), stamp)))
        added = _detect(db, db_path, max_age, now, stamp)
        if dry_run and not urls:
            targets = [(None, row) for row in state.known_targets(db)] or [
                (None, {"target": "", "label": "a URL not seen before", "since_event": before,
                        "delivered_event": None})]
        plans = [(url, row, state.pending(db, row)) for url, row in targets]
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("ROLLBACK" if dry_run else "COMMIT")
    report = NotifyReport(events=added)
    outcomes = []
    for url, row, pending in plans:
        if not pending:
            continue
        digest = compose(pending, site)
        error = None if dry_run else send(url, digest.title, digest.body)
        report.deliveries.append(Delivery(row["label"], digest, error))
        outcomes.append((row, pending.through, digest, error))
    if outcomes and not dry_run:
        with write_transaction(db):
            for row, through, digest, error in outcomes:
                state.record_delivery(db, row, through, digest.counts, digest.title, digest.body, utc_now(), error)
    return report
