"""Narrowing a search: season and year filters with counts, transcript hits by talk, name queries.

Pure functions over the rows data.search reads; views.py and the search template use them.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sync.core.text import fold

__all__ = ["Facet", "HitGroup", "facets", "group_hits", "is_name_query", "year_of"]

HITS_OPEN = 3  # transcript hits shown open per talk; the rest one click away


def year_of(date: object) -> str | None:
    """"2024" for an ISO date "2024-03-25", else None."""
    if isinstance(date, str) and re.match(r"\d{4}-", date):
        return date[:4]
    return None


@dataclass
class Facet:
    value: str  # "5" or "2024"
    count: int
    active: bool


def facets(talks: list[dict], season: int | None, year: str | None) -> dict[str, list[Facet]]:
    """Counts of the matching talks by season and by year, each under the other's filter.

    `talks` holds every talk the search found (id, season, date), each once. Seasons run
    newest first, as on the home page; so do years.
    """
    seen = {t["id"]: t for t in talks}.values()
    by_season = Counter(t["season"] for t in seen if t["season"] is not None
                        and (year is None or year_of(t["date"]) == year))
    by_year = Counter(year_of(t["date"]) for t in seen if year_of(t["date"])
                      and (season is None or t["season"] == season))
    return {
        "season": [Facet(str(s), n, s == season) for s, n in sorted(by_season.items(), reverse=True)],
        "year": [Facet(y, n, y == year) for y, n in sorted(by_year.items(), reverse=True)],
    }


@dataclass
class HitGroup:
    """One talk's (or one orphan video's) transcript hits, best first."""

    first: dict  # the best hit: carries the talk's code, title, speakers
    hits: list[dict] = field(default_factory=list)

    @property
    def shown(self) -> list[dict]:
        return self.hits[:HITS_OPEN]

    @property
    def more(self) -> list[dict]:
        return self.hits[HITS_OPEN:]


def group_hits(hits: list[dict]) -> list[HitGroup]:
    """Hits (ranked best first) grouped by talk, groups in the order of their best hit."""
    groups: dict[object, HitGroup] = {}
    for hit in hits:
        key = ("talk", hit["talk_id"]) if hit.get("talk_id") is not None else ("video", hit.get("video_id"))
        groups.setdefault(key, HitGroup(first=hit)).hits.append(hit)
    return list(groups.values())


def is_name_query(q: str, speakers: list[dict]) -> bool:
    """True when every word of `q` begins a word of one found speaker's name (`jimenez`, `amelia j`)."""
    words = [fold(w) for w in re.findall(r"\w+", q)]
    if not words or not speakers:
        return False
    for speaker in speakers:
        name_words = re.findall(r"\w+", fold(speaker.get("name") or ""))
        if all(any(n.startswith(w) for n in name_words) for w in words):
            return True
    return False
