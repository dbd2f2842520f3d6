"""The continuity check: a database may replace the kept one only if it kept everything.

A nightly job restores the kept database, syncs it and uploads it back. If the restore
went wrong unnoticed (a new file built from nothing) or something damaged the file, the
upload would silently throw away the archive's history: organizers' pins and rejects,
the `changes` ledger, the runs, talks no page shows any more. So before any upload,

    talks check-continuity OLD NEW

compares NEW (about to be uploaded) with OLD (the copy it would replace). It exits 0
when NEW still has every run, decision, change and talk of OLD, and 1 with one sentence
per loss otherwise (or one sentence saying why a file cannot be read). Rows are never
deleted by a sync (they get `removed_at`), so any missing row is a loss. Rows that never
change once written (a run's start, a ledger entry, the run that first saw a talk) must
be unchanged too: a fresh database numbers its rows from 1 again, so ids alone would not
tell it from the kept one.

Linear in the size of OLD: one primary-key lookup in NEW per row of OLD.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from db.runs import open_readonly

from sync.core.dbfile import check_readable
from sync.core.errors import DatabaseFileError

EXAMPLES = 5  # keys quoted in a sentence about a loss


@dataclass(frozen=True)
class Kept:
    """A table whose rows must all survive: its key, and the columns that never change."""

    table: str
    noun: str  # what its rows are called in a sentence
    key: tuple[str, ...]
    fixed: tuple[str, ...] = ()


KEPT = (
    Kept("sync_runs", "runs", ("id",), ("started_at",)),
    Kept("match_decisions", "decisions", ("talk_id", "video_id")),
    Kept("changes", "changes", ("id",), ("run_id", "table_name", "row_key", "column_name", "old_value", "new_value")),
    Kept("talks", "talks", ("id",), ("first_seen_run",)),
)


@dataclass(frozen=True)
class Tally:
    kept: Kept
    old_rows: int
    new_rows: int
    missing: tuple[int, list[tuple]]  # how many rows of OLD NEW lacks, and the first few keys
    changed: tuple[int, list[tuple]]  # how many NEW has with other fixed values


def _columns(con: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in con.execute(f"PRAGMA {schema}.table_info([{table}])")]


def _count(con: sqlite3.Connection, schema: str, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {schema}.[{table}]").fetchone()[0]


def _tally(con: sqlite3.Connection, kept: Kept) -> Tally | None:
    """How NEW (main) stands against OLD (old) for one table; None when OLD lacks it."""
    old_columns = _columns(con, "old", kept.table)
    if not old_columns:
        return None
    new_columns = _columns(con, "main", kept.table)
    old_rows = _count(con, "old", kept.table)
    if not new_columns:
        keys = [tuple(r) for r in con.execute(
            f"SELECT {', '.join(kept.key)} FROM old.[{kept.table}] ORDER BY 1 LIMIT {EXAMPLES}")]
        return Tally(kept, old_rows, 0, (old_rows, keys), (0, []))
    fixed = [c for c in kept.fixed if c in old_columns and c in new_columns]
    same_key = " AND ".join(f"n.[{c}] = o.[{c}]" for c in kept.key)
    same_fixed = " AND ".join(f"n.[{c}] IS o.[{c}]" for c in fixed) or "1"
    missing, changed = [0, []], [0, []]
    rows = con.execute(
        f"SELECT {', '.join(f'o.[{c}]' for c in kept.key)},"
        f" EXISTS (SELECT 1 FROM main.[{kept.table}] AS n WHERE {same_key}) AS present"
        f" FROM old.[{kept.table}] AS o"
        f" WHERE NOT EXISTS (SELECT 1 FROM main.[{kept.table}] AS n WHERE {same_key} AND {same_fixed})"
        f" ORDER BY {', '.join(f'o.[{c}]' for c in kept.key)}"
    )
    for *key, present in rows:
        tally = changed if present else missing
        tally[0] += 1
        if len(tally[1]) < EXAMPLES:
            tally[1].append(tuple(key))
    return Tally(kept, old_rows, _count(con, "main", kept.table), tuple(missing), tuple(changed))


def compare(old_path: str, new_path: str) -> list[Tally]:
    """The tally of every kept table OLD has; raises DatabaseFileError for an unusable file."""
    for path in (old_path, new_path):
        if not Path(path).is_file():
            raise DatabaseFileError(f"{path} does not exist or is not a file: nothing to compare", path=path)
        check_readable(path)  # a damaged file, or not a talks database: one sentence
    con = open_readonly(new_path)
    try:
        con.execute("ATTACH DATABASE ? AS old", [f"file:{quote(str(Path(old_path).absolute()))}?mode=ro"])
        return [t for t in (_tally(con, kept) for kept in KEPT) if t is not None]
    except sqlite3.Error as exc:
        raise DatabaseFileError(f"comparing {new_path} with {old_path} failed: {' '.join(str(exc).split())}",
                                path=new_path) from None
    finally:
        con.close()


def _keys(keys: list[tuple], kept: Kept, more: bool) -> str:
    if len(kept.key) == 1:
        shown = ", ".join(str(k[0]) for k in keys)
        label = f"{kept.key[0]}s" if len(keys) > 1 else kept.key[0]
    else:
        shown = "; ".join(" ".join(f"{c} {v!r}"[:80] for c, v in zip(kept.key, k)) for k in keys)
        label = ""
    return f"{label} {shown}{', ...' if more else ''}".strip()


def _n(count: int, noun: str) -> str:
    return f"{count} {noun if count != 1 else noun[:-1]}"


def losses(tallies: list[Tally], old_name: str, new_name: str) -> list[str]:
    """One sentence per loss: rows of OLD missing from NEW, or written differently there."""
    sentences = []
    for t in tallies:
        count, keys = t.missing
        if count:
            every = "all " if count == t.old_rows and count > 1 else ""
            sentences.append(f"{new_name} lacks {every}{_n(count, t.kept.noun)} that {old_name} has"
                             f" ({_keys(keys, t.kept, count > len(keys))}).")
        count, keys = t.changed
        if count:
            verb = "differs" if len(t.kept.fixed) == 1 else "differ"
            sentences.append(f"{new_name} has rewritten {_n(count, t.kept.noun)} of {old_name}"
                             f" ({_keys(keys, t.kept, count > len(keys))}: {', '.join(t.kept.fixed)} {verb}).")
    return sentences


def summary(tallies: list[Tally], old_name: str, new_name: str) -> str:
    counts = ", ".join(f"{t.kept.noun} {t.old_rows} -> {t.new_rows}" for t in tallies)
    return f"continuity ok: {new_name} keeps everything {old_name} had ({counts})"
