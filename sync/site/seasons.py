"""Seasons: the page of one season (/season/5), the list of them, and season words in a search.

People write a season as `S05`, `s5`, `season 5` and an episode as `s5e1`, `S0501` or
`[S05E01]` (sync.pages.normalize_code reads the same spellings the CLI does).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sync.pages.parse import normalize_code

__all__ = ["QueryParts", "all_seasons", "read_query", "season", "season_number"]

MAX_SEASON = 99  # codes carry two digits

# One token each, case-insensitive: an episode code in any spelling normalize_code accepts,
# or a season alone. Bounded repetitions only: linear on any input.
_CODE = re.compile(r"(?<![\w\[])\[?S\d{1,2}E\d{1,3}\]?(?![\w\]])|(?<!\w)S\d{4}(?!\w)", re.IGNORECASE)
_SEASON = re.compile(r"(?<!\w)(?:S|season\s{0,3})(\d{1,2})(?!\w)", re.IGNORECASE)


@dataclass
class QueryParts:
    """A search as typed, split into what the full-text index reads and what it cannot."""

    words: str  # the rest, for the full-text search
    code: str | None = None  # S05E01, when the query names an episode
    season: int | None = None  # 5, when it names a season (or an episode of it)


def read_query(q: str) -> QueryParts:
    """Take episode codes and season words out of `q`: `s5e1 label noise` -> S05E01 + "label noise"."""
    code = season = None
    match = _CODE.search(q)
    if match and normalize_code(match[0]):
        code = normalize_code(match[0])
        season = int(code[1:3])
        q = q[:match.start()] + " " + q[match.end():]
    else:
        match = _SEASON.search(q)
        if match and 0 < int(match[1]) <= MAX_SEASON:
            season = int(match[1])
            q = q[:match.start()] + " " + q[match.end():]
    return QueryParts(words=" ".join(q.split()), code=code, season=season)


def season_number(key: str) -> int | None:
    """5 for `5`, `05`, `S05`, `s5` or `season5`; None for anything else."""
    match = re.fullmatch(r"(?:s|season)?0{0,2}(\d{1,2})", key.strip().lower())
    if not match or not 0 < int(match[1]) <= MAX_SEASON:
        return None
    return int(match[1])


async def _rows(db, sql: str, params=None) -> list[dict]:
    return [dict(row) for row in (await db.execute(sql, params or {})).rows]


async def all_seasons(db) -> list[dict]:
    """Every season with listed talks, oldest first: number, talks, first and last date."""
    return await _rows(db, """
        select season, count(*) as talks, min(date) as first_date, max(date) as last_date
        from talks where season is not null and code is not null and removed_at is null
        group by season order by season""")


async def season(db, number: int) -> dict | None:
    """Season `number`: its talks in episode order (with recording length), its neighbours."""
    talks = await _rows(db, """
        select t.id, t.code, t.season, t.episode, t.status, t.title, t.topic, t.date, t.date_text, t.speakers,
               v.duration_seconds,
               t.id in (select talk_id from missing_recordings) as missing
        from talks t left join videos v on v.video_id = t.video_id
        where t.season = :n and t.code is not null and t.removed_at is null
        order by t.episode, t.id""", {"n": number})
    if not talks:
        return None
    seasons = [s["season"] for s in await all_seasons(db)]
    earlier = [s for s in seasons if s < number]
    later = [s for s in seasons if s > number]
    dates = sorted({t["date"] for t in talks if t["date"]})
    return {
        "number": number, "talks": talks, "dates": dates,
        "previous": earlier[-1] if earlier else None, "next": later[0] if later else None,
        "seasons": seasons,
        "recorded_seconds": sum(t["duration_seconds"] or 0 for t in talks),
    }
