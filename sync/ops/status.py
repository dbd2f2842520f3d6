"""`talks status`: is the archive healthy? For people and for monitoring.

Read-only: the file is opened the way Datasette opens it, so status works next
to a running sync and a running site.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Optional

from db.reports import problem_counts
from db.runs import open_readonly
from db.syncs import kind_sql, last_sync

from sync.core.dbfile import check_readable

DAILY_QUOTA = 10_000  # Data API units a project gets per day; the day resets at midnight Pacific
RECENT_RUNS = 5
# Caption states (table, column) are reported once some video has one: transcripts exist.
CAPTION_TABLES = (("captions", "state"),)
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 3600}


def parse_age(text: str) -> dt.timedelta:
    """'36h', '2d', '90m', '45s'; a bare number is hours."""
    match = _AGE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an age like 36h, 2d or 90m")
    return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def pacific_day(moment: dt.datetime) -> dt.date:
    """The Data API's quota day (America/Los_Angeles, daylight saving included)."""
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo("America/Los_Angeles")).date()
    except Exception:  # no time zone database on this machine: standard time is close enough
        return moment.astimezone(dt.timezone(dt.timedelta(hours=-8))).date()


def _when(text: Optional[str]) -> Optional[dt.datetime]:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


@dataclass
class Status:
    database: str
    now: str
    max_age_hours: float
    healthy: bool
    problem: Optional[str]
    last_run: Optional[dict]
    last_success: Optional[str]
    quota_day: str
    quota_used_today: int
    quota_limit: int = DAILY_QUOTA
    counts: dict = field(default_factory=dict)
    captions: Optional[dict] = None
    runs: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _run_row(row: dict) -> dict:
    started, finished = _when(row["started_at"]), _when(row["finished_at"])
    return {
        "id": row["id"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "status": row["status"],
        "kind": row["run_kind"],
        "source": row["source"],
        "duration_seconds": round((finished - started).total_seconds(), 1) if started and finished else None,
        "requests": row["requests"] or 0,
        "quota_units": row["quota_units"] or 0,
        "rows_changed": row["rows_changed"] or 0,
        "error": row["error"],
    }


def _count(con, sql: str) -> Optional[int]:
    try:
        return con.execute(sql).fetchone()[0]
    except Exception:  # a view an older database does not have yet
        return None


def _captions(con, tables: set[str]) -> Optional[dict]:
    for table, column in CAPTION_TABLES:
        if table in tables and column in {r[1] for r in con.execute(f"PRAGMA table_info([{table}])")}:
            states = {state or "unknown": n for state, n in con.execute(
                f"SELECT [{column}], count(*) FROM [{table}] GROUP BY 1 ORDER BY 1")}
            return states or None
    return None


def read_status(db_path: str, max_age: dt.timedelta, now: Optional[dt.datetime] = None) -> Status:
    """Raise DatabaseFileError (one sentence) when the file cannot be read."""
    now = now or dt.datetime.now(dt.timezone.utc)
    check_readable(db_path)
    con = open_readonly(db_path)
    try:
        con.row_factory = lambda cursor, row: {d[0]: v for d, v in zip(cursor.description, row)}
        runs = [_run_row(r) for r in con.execute(
            f"SELECT *, {kind_sql(con)} AS run_kind FROM sync_runs ORDER BY id DESC")]
        tables = {r["name"] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        con.row_factory = None
        last, success = last_sync(con, outcome="finished").run, last_sync(con).run
        counts = {
            "talks": _count(con, "SELECT count(*) FROM talks WHERE removed_at IS NULL"),
            "recordings": _count(con, "SELECT count(*) FROM talks WHERE removed_at IS NULL AND video_id IS NOT NULL"),
            **problem_counts(con),  # db/reports.py: what the desk and the views count
            "videos": _count(con, "SELECT count(*) FROM videos WHERE removed_at IS NULL"),
        }
        captions = _captions(con, tables)
    finally:
        con.close()

    day = pacific_day(now)
    used = sum(r["quota_units"] for r in runs if r["started_at"] and pacific_day(_when(r["started_at"])) == day)
    # Only syncs count (db.syncs): a decision, a caption run or a backfill after a failed
    # sync neither heals it nor is a success.
    last_success = success["finished_at"] if success else None
    problem = None
    if last is None:
        problem = "no sync has finished yet"
    elif last["status"] != "ok":
        ended = "was interrupted" if last["status"] == "interrupted" else "failed"
        problem = f"the last sync (run {last['id']}) {ended}: {last['error']}"
    elif now - (_when(last_success) or now) > max_age:
        problem = f"no sync succeeded within {_age_text(max_age)} (the last success finished {last_success})"
    return Status(
        database=db_path, now=now.replace(microsecond=0).isoformat(), max_age_hours=max_age.total_seconds() / 3600,
        healthy=problem is None, problem=problem, last_run=runs[0] if runs else None, last_success=last_success,
        quota_day=day.isoformat(), quota_used_today=used, counts=counts, captions=captions, runs=runs[:RECENT_RUNS],
    )


def _age_text(age: dt.timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:g} days"


def format_status(status: Status) -> str:
    lines = [f"{status.database}: {'ok' if status.healthy else 'PROBLEM: ' + status.problem}"]
    if status.last_success:
        lines.append(f"last success: {status.last_success}")
    lines.append(f"quota today ({status.quota_day}, Pacific): {status.quota_used_today:,} of "
                 f"{status.quota_limit:,} units")
    c = status.counts
    lines.append(", ".join(f"{name.replace('_', ' ')} {'?' if n is None else n}" for name, n in c.items()))
    if status.captions is not None:
        lines.append("captions: " + (", ".join(f"{s} {n}" for s, n in status.captions.items()) or "none yet"))
    if status.runs:
        lines.append("recent runs:")
        for r in status.runs:
            duration = "" if r["duration_seconds"] is None else f" {r['duration_seconds']:g} s"
            line = (f"  {r['id']:>4} {r['started_at']} {r['status']:<7} {r['source'] or '':<8}{duration}, "
                    f"{r['requests']} requests, {r['quota_units']} units, {r['rows_changed']} rows changed")
            if r["error"]:
                line += f": {r['error'][:200]}"
            lines.append(line)
    return "\n".join(lines) + "\n"
