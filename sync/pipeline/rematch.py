"""The matcher over everything stored: talks and videos read back as records, organizers'
decisions applied, the matches saved."""
from __future__ import annotations

from db.store import RunContext
from sync.core.records import Person, TalkRecord, VideoRecord
from sync.match import Decision, match_recordings
from sync.save import save_matches


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
