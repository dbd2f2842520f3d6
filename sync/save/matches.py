"""save_* for which video is which talk's recording, and organizers' decisions."""
from __future__ import annotations

from db.store import RunContext, mark_removed, save_row, save_rows
from sync.core.records import Match
from sync.core.video_ids import watch_url


def save_matches(db, run: RunContext, matches: list[Match]) -> None:
    """Store the matcher's decisions and each talk's chosen recording."""
    chosen = {m.talk_key: m for m in matches}
    codes = dict(db.execute("SELECT id, code FROM talks").fetchall())
    talk_rows = []
    for talk_id in codes:
        match = chosen.get(talk_id)
        video_id = match.video_id if match else None
        talk_rows.append({"id": talk_id, "video_id": video_id, "recording_url": watch_url(video_id)})
    save_rows(db, run, "talks", talk_rows, seen=False)
    availability = dict(db.execute("SELECT video_id, availability FROM videos").fetchall())
    rows = [
        {"talk_id": match.talk_key, "code": codes[match.talk_key], "video_id": match.video_id,
         "method": match.method, "score": round(match.score, 3), "evidence": match.evidence,
         "availability": availability.get(match.video_id)}
        for match in matches
    ]
    save_rows(db, run, "matches", rows)
    seen = [str(match.talk_key) for match in matches]
    mark_removed(db, run, "matches", seen)


def save_decision(
    db, run: RunContext, talk_id: int, code: str, video_id: str, action: str, decided_at: str
) -> None:
    """An organizer's pin or reject of (talk, video), as the latest decision on that pair.

    Decisions are never deleted: a pin makes earlier pins of the same talk, and pins of
    the same video for other talks, "superseded" (kept, ignored by the matcher), so
    rejecting the newer pin later does not bring an older one back."""
    decision = {"talk_id": talk_id, "code": code, "video_id": video_id, "action": action, "decided_at": decided_at}
    save_row(db, run, "match_decisions", decision)
    if action != "pin":
        return
    for row in db.execute(
        "SELECT talk_id, code, video_id FROM match_decisions WHERE action = 'pin'"
        " AND ((talk_id = ? AND video_id != ?) OR (video_id = ? AND talk_id != ?))",
        [talk_id, video_id, video_id, talk_id],
    ).fetchall():
        save_row(db, run, "match_decisions", {"talk_id": row[0], "code": row[1], "video_id": row[2],
                                              "action": "superseded", "decided_at": decided_at})
