"""The last sync: the one answer `talks status` (health), the keyless rotation and
re-matching share.

A sync is a run of kind 'sync' (`talks sync`): a backfilled commit, a caption run or
an organizer's decision is a run too, but it neither makes the archive healthy nor
counts as, or refreshes, "the last sync". A file written before `sync_runs.kind`
existed is read the way `ensure_schema` classifies its rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .schema import RUN_KIND_OF_ROW

OUTCOMES = ("ok", "finished")  # succeeded; or ended whatever the outcome (ok, failed, interrupted)


@dataclass(frozen=True)
class LastSync:
    """The newest sync that fits, and how many syncs fit up to it."""

    run: Optional[dict]  # its sync_runs row; None when no sync fits
    number: int  # 0 when none; the rotation's "keyless sync number k"

    @property
    def id(self) -> Optional[int]:
        return self.run["id"] if self.run else None


def last_sync(con, *, outcome: str = "ok", source: Optional[str] = None, before: Optional[int] = None) -> LastSync:
    """The last sync that ended `outcome` ('ok', or 'finished': any end; a sync still
    running never counts), of `source` (api, ytdlp, ...; None: any), before run id
    `before` (None: the newest). `con`: a sqlite3 connection or a sqlite-utils Database."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    where = [f"{kind_sql(con)} = 'sync'", "status = 'ok'" if outcome == "ok" else "status != 'running'"]
    params: list = []
    if source is not None:
        where.append("source = ?")
        params.append(source)
    if before is not None:
        where.append("id < ?")
        params.append(before)
    number, newest = _values(con.execute(
        f"SELECT count(*), max(id) FROM sync_runs WHERE {' AND '.join(where)}", params))
    if newest is None:
        return LastSync(None, 0)
    cursor = con.execute("SELECT * FROM sync_runs WHERE id = ?", [newest])
    names = [d[0] for d in cursor.description]
    return LastSync(dict(zip(names, _values(cursor))), number)


def _values(cursor) -> tuple:
    """The first row's values, whatever the connection's row_factory."""
    row = cursor.fetchone()
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


def kind_sql(con) -> str:
    """An SQL expression for a sync_runs row's kind, also in a file opened read-only
    before any new version added the column (or, older still, commit_id)."""
    columns = {d[0] for d in con.execute("SELECT * FROM sync_runs LIMIT 0").description}
    derived = RUN_KIND_OF_ROW if "commit_id" in columns else RUN_KIND_OF_ROW.replace("commit_id", "NULL")
    return f"coalesce(kind, {derived})" if "kind" in columns else derived
