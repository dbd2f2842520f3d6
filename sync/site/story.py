"""A talk's history told in words for readers: what changed, when (the talk page's History).

Built from the talk_history view's rows (one changed field each). Fields only organizers
need (the pages' video links and codes as printed, date texts, bookkeeping) are left out
here; the raw ledger, one click away, keeps every field.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Event", "talk_story"]

QUOTE_LIMIT = 120  # characters of an old or new title quoted in a sentence
# The order of a day's sentences: what the talk is, then what it is about, then its recording.
ORDER = ("status", "code", "title", "topic", "date", "speakers", "affiliation", "abstract", "bio", "video_id",
         "removed_at")


@dataclass
class Event:
    day: str  # YYYY-MM-DD
    from_pages: bool  # dated by the series' page history (a backfilled commit), not by a sync's clock
    sentences: list[str] = field(default_factory=list)


def _quote(value: object) -> str:
    text = " ".join(str(value or "").split())
    return "“" + (text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT].rstrip() + "…") + "”"


def _first(changes: dict[str, tuple]) -> str:
    """The sentence for the run that added the talk's row."""
    status = changes.get("status", (None, None))[1]
    code = changes.get("code", (None, None))[1]
    if status == "upcoming":
        topic = changes.get("topic", (None, None))[1]
        date = changes.get("date", (None, None))[1]
        return "Announced" + (f" for {date}" if date else "") + (f": {_quote(topic)}" if topic else "")
    if code:
        return f"Listed as {code}"
    return "Added to the archive"


def _change(column: str, old, new, changes: dict[str, tuple]) -> str | None:
    """One sentence for one changed field, or None for a field readers need not see."""
    if column == "status":
        if new == "listed":
            code = changes.get("code", (None, None))[1]
            return f"Listed as {code}" if code else "Listed"
        if new == "upcoming":
            return "Announced again"
        return None
    if column == "code":
        if changes.get("status", (None, None))[1] == "listed" and old is None:
            return None  # said by "Listed as ..."
        if old and new:
            return f"Code changed from {old} to {new}"
        return f"Given the code {new}" if new else f"Code {old} taken away"
    if column == "title":
        if old is None:
            return f"Titled {_quote(new)}"
        return f"Title changed from {_quote(old)} to {_quote(new)}" if new else "Title taken away"
    if column == "topic":
        if not new:
            return None
        return f"Topic changed to {_quote(new)}" if old else f"Topic given as {_quote(new)}"
    if column == "date":
        if old and new:
            return f"Moved from {old} to {new}"
        return f"Date set to {new}" if new else "Date withdrawn"
    if column in ("speakers", "affiliation"):
        what = "Speakers" if column == "speakers" else "Affiliation"
        return f"{what} changed to {_quote(new)}" if old and new else (f"{what} given" if new else None)
    if column in ("abstract", "bio"):
        what = "Abstract" if column == "abstract" else "Speaker's bio"
        if old is None:
            return f"{what} added"
        return f"{what} revised" if new else f"{what} taken away"
    if column == "video_id":
        if old is None:
            return "Recording added" if new else None
        return "Recording replaced by another upload" if new else "Recording withdrawn"
    if column == "removed_at":
        return "Taken off the series' pages" if new else "Back on the series' pages"
    return None  # page_video_id, talks_page_video_id, page_code, date_text: the ledger has them


def talk_story(rows: list[dict] | None) -> list[Event]:
    """The talk's history, oldest first: one Event a day with a sentence per change a reader cares about.

    `rows` are talk_history rows in any order (changed_at, column_name, old_value, new_value,
    run_id, commit_id).
    """
    if not rows or "column_name" not in rows[0]:
        return []
    runs: dict[tuple, dict] = {}
    for row in sorted(rows, key=lambda r: (r.get("changed_at") or "", r.get("run_id") or 0, r.get("change_id") or 0)):
        key = (row.get("changed_at") or "", row.get("run_id"))
        runs.setdefault(key, {"commit": bool(row.get("commit_id")), "changes": {}})["changes"][row["column_name"]] = (
            row.get("old_value"), row.get("new_value"))
    events: list[Event] = []
    for index, ((changed_at, _run), run) in enumerate(runs.items()):
        changes = run["changes"]
        added = index == 0 and changes.get("status", ("", None))[0] is None and "status" in changes
        ordered = sorted(changes.items(), key=lambda kv: ORDER.index(kv[0]) if kv[0] in ORDER else len(ORDER))
        sentences = [_first(changes)] if added else [
            s for column, (old, new) in ordered if (s := _change(column, old, new, changes))]
        if not sentences:
            continue
        day = changed_at[:10]
        if events and events[-1].day == day:
            events[-1].sentences += [s for s in sentences if s not in events[-1].sentences]
        else:
            events.append(Event(day=day, from_pages=run["commit"], sentences=sentences))
    return events
