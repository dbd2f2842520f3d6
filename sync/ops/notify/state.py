"""The notifications' memory, in the database: the event log, the targets, and what
each target was told.

`notify_events` is append-only: a problem's row `open` when it first shows, `solved`
when it is gone (with the facts it had), a new recording's row `happened`. A target
(`notify_targets`, known by a fingerprint of its URL) remembers the newest event its
last delivered digest covered; everything after that is still to be told, so a
failed delivery loses nothing: the next pass composes it again.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Optional

from .events import Event

# A fingerprint is PBKDF2 over the URL with this database's salt: the same URL always has
# the same one, and the file (which the site may publish) lets nobody test a guessed
# password against it for less than this many rounds a guess.
FINGERPRINT_ROUNDS = 100_000
LABEL_CHARS = 8  # of the fingerprint, in a target's label
# The kinds, in the order a digest lists them.
KIND_ORDER = ("health", "missing", "stale", "orphan", "recording")


def _rows(db, sql: str, params=()) -> list[dict]:
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def get_state(db, name: str) -> Optional[str]:
    row = db.execute("SELECT value FROM notify_state WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def set_state(db, name: str, value: str) -> None:
    db.execute("INSERT INTO notify_state (name, value) VALUES (?, ?)"
               " ON CONFLICT(name) DO UPDATE SET value = excluded.value", [name, value])


def fingerprint(db, url: str) -> str:
    """The URL's fingerprint (hex): what the database keeps instead of the URL."""
    salt = get_state(db, "salt")
    if salt is None:
        salt = secrets.token_hex(16)
        set_state(db, "salt", salt)
    return hashlib.pbkdf2_hmac("sha256", url.encode("utf-8"), bytes.fromhex(salt), FINGERPRINT_ROUNDS).hex()


def label(scheme: str, target: str) -> str:
    return f"{scheme}:// {target[:LABEL_CHARS]}"


def newest_event(db) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM notify_events").fetchone()[0]


def latest_states(db, through: Optional[int] = None) -> dict[str, dict]:
    """Each problem's newest row (open or solved), by identity; up to event `through`."""
    bound = "" if through is None else " AND id <= ?"
    params = [] if through is None else [through]
    rows = _rows(db, "SELECT * FROM notify_events WHERE id IN (SELECT max(id) FROM notify_events"
                     f" WHERE state != 'happened'{bound} GROUP BY event) ORDER BY id", params)
    return {row["event"]: row for row in rows}


def record(db, current: dict[str, Event], recordings: list[Event], run_id: Optional[int], now: str) -> int:
    """Append what changed since the last pass; returns how many events were added."""
    was_open = {key: row for key, row in latest_states(db).items() if row["state"] == "open"}
    rows = [{**event.as_row(), "state": "open"} for key, event in current.items() if key not in was_open]
    rows += [{**row, "state": "solved"} for key, row in was_open.items() if key not in current]
    known = {r[0] for r in db.execute("SELECT DISTINCT event FROM notify_events WHERE kind = 'recording'")}
    rows += [{**event.as_row(), "state": "happened"} for event in recordings if event.key not in known]
    columns = ("event", "kind", "state", "talk_id", "code", "title", "video_id", "reason", "replacement")
    db.conn.executemany(
        f"INSERT INTO notify_events ({', '.join(columns)}, detected_at, run_id) VALUES ({', '.join('?' * len(columns))}, ?, ?)",
        [[row[c] for c in columns] + [now, run_id] for row in rows])
    return len(rows)


def target_row(db, target: str, label_text: str, now: str) -> dict:
    """The target's row, made on first sight: its history starts after the newest event."""
    db.execute("INSERT OR IGNORE INTO notify_targets (target, label, first_seen_at, since_event, failures)"
               " VALUES (?, ?, ?, ?, 0)", [target, label_text, now, newest_event(db)])
    return _rows(db, "SELECT * FROM notify_targets WHERE target = ?", [target])[0]


def known_targets(db) -> list[dict]:
    return _rows(db, "SELECT * FROM notify_targets ORDER BY first_seen_at, target")


@dataclass
class Pending:
    """What a target has not been told yet."""

    to_do: list[Event] = field(default_factory=list)  # problems open now it has not heard of
    new: list[Event] = field(default_factory=list)  # recordings
    solved: list[Event] = field(default_factory=list)  # problems gone: told of, or came and went since
    through: int = 0  # the newest event this covers

    def __bool__(self) -> bool:
        return bool(self.to_do or self.new or self.solved)


def _ordered(rows) -> list[Event]:
    """By kind (KIND_ORDER), then talk code (talks without one last), then when detected."""
    def key(r):
        return KIND_ORDER.index(r["kind"]) if r["kind"] in KIND_ORDER else len(KIND_ORDER), \
            r["code"] is None, r["code"] or "", r["id"]
    return [Event.from_row(r) for r in sorted(rows, key=key)]


def pending(db, target: dict) -> Pending:
    """Everything `target` has not been told: problems open now it was not told of (a
    target that never had a digest: every open one), problems it was told of that are
    gone, problems that came and went since its last digest, recordings since then."""
    delivered = target["delivered_event"]
    start = target["since_event"] if delivered is None else delivered
    now = latest_states(db)
    told = set() if delivered is None else {
        key for key, row in latest_states(db, delivered).items() if row["state"] == "open"}
    is_open = {key for key, row in now.items() if row["state"] == "open"}
    since = _rows(db, "SELECT * FROM notify_events WHERE id > ? ORDER BY id", [start])
    came_and_went = {r["event"] for r in since if r["state"] == "open"} - told - is_open
    return Pending(
        to_do=_ordered(now[key] for key in is_open - told),
        new=_ordered(r for r in since if r["state"] == "happened"),
        solved=_ordered(now[key] for key in (told - is_open) | came_and_went),
        through=newest_event(db),
    )


def record_delivery(db, target: dict, through: int, counts: dict, title: str, body: str, now: str,
                    error: Optional[str] = None) -> None:
    """A digest sent to `target` (it now knows everything up to event `through`), or not
    (`error`: it is composed again, with whatever came since, at the next pass)."""
    row = {"target": target["target"], "label": target["label"], "attempted_at": now,
           "status": "failed" if error else "sent", "through_event": through, **counts,
           "title": title, "body": body, "error": error}
    db.execute(f"INSERT INTO notifications ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
               list(row.values()))
    if error:
        db.execute("UPDATE notify_targets SET last_attempt_at = ?, failures = coalesce(failures, 0) + 1,"
                   " last_error = ? WHERE target = ?", [now, error, target["target"]])
    else:
        db.execute("UPDATE notify_targets SET last_attempt_at = ?, failures = 0, last_error = NULL,"
                   " delivered_event = ? WHERE target = ?", [now, through, target["target"]])
