"""The related talks a talk page shows: read from related_talks (sync/related.py ranks them)."""
from __future__ import annotations

__all__ = ["SHOWN", "related_talks"]

SHOWN = 5


async def related_talks(db, talk_id: int, limit: int = SHOWN) -> list[dict]:
    """The talk's nearest live talks, best first; [] for a database no sync has related yet."""
    exists = await db.execute("select 1 from sqlite_master where type = 'table' and name = 'related_talks'")
    if not exists.rows:
        return []
    result = await db.execute("""
        select t.id, t.code, t.status, t.title, t.topic, t.date, t.date_text, t.speakers,
               t.id in (select talk_id from missing_recordings) as missing
        from related_talks r join talks t on t.id = r.related_id
        where r.talk_id = :id and t.removed_at is null
        order by r.rank limit :limit""", {"id": talk_id, "limit": limit})
    return [dict(row) for row in result.rows]
