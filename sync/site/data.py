"""The SQL behind the site's pages, as async functions over a Datasette `Database`.

Reads only the public contract (tables and views in db/schema.py). Each function returns
plain dicts; views.py turns them into pages.
"""
from __future__ import annotations

import json
import re
import sqlite3

from db import reports
from sync.core.limits import SITE_SNIPPET_MAX_CHARS
from sync.core.text import cjk_runs, fold

from .narrow import facets, group_hits, is_name_query
from .seasons import read_query
from .transcript_search import MAX_QUERY_WORDS, hits_sql, query_words

__all__ = [
    "desk",
    "fts_query",
    "home",
    "search",
    "speaker",
    "talk",
]

# The "today" of the reports (db/reports.py): the last successful sync's.
TODAY = reports.TODAY

# bm25 weights by column name: a hit in the title or a speaker's name outranks one in a bio.
_WEIGHTS = {"code": 10.0, "title": 8.0, "speakers": 6.0, "speakers_ascii": 6.0, "affiliation": 2.0,
            "abstract": 1.0, "bio": 0.8}


async def _rows(db, sql: str, params=None) -> list[dict]:
    result = await db.execute(sql, params or {})
    return [dict(row) for row in result.rows]


async def _exists(db, name: str) -> bool:
    result = await db.execute("select 1 from sqlite_master where name = ? and type in ('table', 'view')", [name])
    return bool(result.rows)


def fts_query(q: str) -> str | None:
    """An FTS5 query where every word must match, or None when `q` has no word.

    Words only (quoted), so no input is FTS syntax: `AND`, `"`, `*`, `:` and `(` stay text.
    """
    return " ".join(f'"{w}"' for w in query_words(q)) or None


# ----------------------------------------------------------------------------- one talk


_TALK = """
select t.*, v.availability, v.duration_seconds, v.published_at
from talks t left join videos v on v.video_id = t.video_id
"""


async def talk(db, key: str) -> dict | None:
    """The talk with code `key` (any case) or id `key`, with its speakers, neighbours and problems."""
    if key.isdigit() and len(key) < 12:
        rows = await _rows(db, _TALK + " where t.id = :key", {"key": int(key)})
    else:
        rows = await _rows(db, _TALK + " where t.code = upper(:key)", {"key": key[:20]})
    if not rows:
        return None
    t = rows[0]
    t["speaker_list"] = await _rows(db, """
        select s.id, s.name, s.honorific from talk_speakers ts join speakers s on s.id = ts.speaker_id
        where ts.talk_id = :id and ts.removed_at is null order by ts.position""", {"id": t["id"]})
    missing = await _rows(db, "select reason, linked_video_id from missing_recordings where talk_id = :id",
                          {"id": t["id"]})
    t["missing"] = missing[0] if missing else None
    t["watchable"] = reports.recording_is_watchable(t["video_id"], t["availability"])
    t["previous"] = t["next"] = None
    if t["season"] is not None and t["episode"] is not None:
        around = {"s": t["season"], "e": t["episode"]}
        neighbours = "select code, title from talks where code is not null and removed_at is null and "
        prev = await _rows(db, neighbours + "(season, episode) < (:s, :e) order by season desc, episode desc limit 1",
                           around)
        nxt = await _rows(db, neighbours + "(season, episode) > (:s, :e) order by season, episode limit 1", around)
        t["previous"] = prev[0] if prev else None
        t["next"] = nxt[0] if nxt else None
    t["history"] = await history(db, t)
    return t


async def history(db, t: dict) -> list[dict] | None:
    """The talk's field changes, newest first, from the talk_history view (None without it)."""
    if not await _exists(db, "talk_history"):
        return None
    columns = {c["name"] for c in await _rows(db, "select name from pragma_table_info('talk_history')")}
    key, value = ("talk_id", t["id"]) if "talk_id" in columns else ("code", t["code"])
    order = "changed_at desc" if "changed_at" in columns else "rowid desc"
    rows = await _rows(db, f"select * from talk_history where {key} = :value order by {order} limit 300",
                       {"value": value})
    for row in rows:  # long abstracts: the table shows the start, the changes table has all
        for column in ("old_value", "new_value"):
            if isinstance(row.get(column), str) and len(row[column]) > 300:
                row[column] = row[column][:300] + "…"
    return rows


TALK_HITS = 500  # a talk page's hits for one query, in time order


async def transcript(db, video_id: str | None, q: str = "") -> list[dict]:
    """The talk's transcript segments in order, or only those matching `q`, highlighted, each with
    the second its link opens at (a second before the first matched word; else before the segment)."""
    if not video_id or not await _exists(db, "transcript_segments"):
        return []
    if query_words(q) and await _exists(db, "transcript_segments_fts"):
        try:
            rows = await _rows(db, hits_sql(_HIGHLIGHT, video=True, order="time"),
                               {"q": q, "video": video_id, "limit": TALK_HITS})
        except sqlite3.DatabaseError:  # interrupted, or a value stored before the site's limits held
            return []
        return [{"start_seconds": r["start_seconds"], "second": r["second"], "text": mark_cjk(r["shown"], q)}
                for r in rows]
    rows = await _rows(db, """
        select start_seconds, text from transcript_segments
        where video_id = :video and removed_at is null order by start_seconds limit 5000""", {"video": video_id})
    return [{**r, "second": max(0, int(r["start_seconds"] or 0) - 1)} for r in rows]


async def transcript_cues(db, video_id: str | None) -> list[dict]:
    """Every live segment of a video, in order, as the downloads write them."""
    if not video_id or not await _exists(db, "transcript_segments"):
        return []
    return await _rows(db, """
        select start_seconds, end_seconds, text from transcript_segments
        where video_id = :video and removed_at is null order by seq, start_seconds""", {"video": video_id})


def mark_cjk(shown: str | None, q: str) -> str:
    """Mark the typed CJK runs in a hit (FTS5 marks the words; CJK matches another column)."""
    shown = shown or ""
    for run in {r for w in query_words(q) for r in cjk_runs(w)}:
        shown = shown.replace(run, f"\x02{run}\x03")
    return shown


# ----------------------------------------------------------------------------- speakers


async def speaker(db, speaker_id: int) -> dict | None:
    rows = await _rows(db, "select * from speakers where id = :id", {"id": speaker_id})
    if not rows:
        return None
    s = rows[0]
    s["talks"] = await _rows(db, """
        select t.id, t.code, t.title, t.date, t.status, t.affiliation, t.speakers,
               t.id in (select talk_id from missing_recordings) as missing
        from talk_speakers ts join talks t on t.id = ts.talk_id
        where ts.speaker_id = :id and t.removed_at is null
        order by t.date is null, t.date desc, t.id desc""", {"id": speaker_id})
    # Affiliations over time, oldest first, as the pages gave them talk by talk.
    seen: dict[str, list[str]] = {}
    for row in sorted(s["talks"], key=lambda r: r["date"] or "9999"):
        if row["affiliation"]:
            seen.setdefault(row["affiliation"], []).append(row["date"] or "announced")
    s["affiliations"] = [{"affiliation": a, "first": d[0], "last": d[-1]} for a, d in seen.items()]
    return s


# ----------------------------------------------------------------------------- home


async def home(db) -> dict:
    talks = await _rows(db, f"""
        select t.id, t.code, t.season, t.episode, t.status, t.title, t.topic, t.date, t.date_text, t.speakers,
               t.id in (select talk_id from missing_recordings) as missing,
               (t.status = 'upcoming' or (t.date is not null and t.date >= {TODAY})) as upcoming
        from talks t where t.removed_at is null
        order by t.season desc, t.episode desc, t.date desc, t.id""")
    upcoming = sorted((t for t in talks if t["upcoming"]), key=lambda t: (t["date"] is None, t["date"] or "", t["id"]))
    seasons: dict[int, list[dict]] = {}
    other = []
    for t in talks:
        if t["upcoming"]:
            continue
        if t["season"] is not None and t["code"]:
            seasons.setdefault(t["season"], []).append(t)
        else:
            other.append(t)
    runs = await _rows(db, "select started_at, status, source, snapshot_date from sync_runs where status = 'ok' "
                           "and kind = 'sync' order by id desc limit 1")
    return {"upcoming": upcoming, "seasons": sorted(seasons.items(), reverse=True), "other": other,
            "last_sync": runs[0] if runs else None, "count": len(talks)}


# ----------------------------------------------------------------------------- search


TRANSCRIPT_HITS = 50  # transcript hits shown (after the talks): ranked over all matches, highlighted only these
_HIGHLIGHT = "highlight(transcript_segments_fts, {col}, char(2), char(3))"
_SNIPPET = "snippet(transcript_segments_fts, {col}, char(2), char(3), '…', 20)"


async def search(db, q: str, season: int | None = None, year: str | None = None) -> dict:
    """Talks ranked by bm25 with snippets, speakers by name, and transcript hits by second.

    `q` may name an episode (`s5e1`: that talk comes first) or a season (`S05`, `season 5`:
    a season filter); `season` and `year` narrow talks and transcript hits, and `facets`
    counts the talks found by season and year (sync/site/narrow.py).
    """
    parts = read_query(q)
    season_from_query = season is None and parts.code is None and parts.season is not None
    if season_from_query:
        season = parts.season
    match = fts_query(parts.words)
    out = {"talks": [], "speakers": [], "transcripts": [], "groups": [], "facets": {}, "season": season,
           "year": year, "code": parts.code, "name_first": False, "words": parts.words,
           "season_from_query": season_from_query}
    if parts.code:
        out["talks"] = await _rows(db, _TALK_HIT.format(snippet="''", title="t.title") + " from talks t"
                                   " where t.code = :code and t.removed_at is null", {"code": parts.code})
    if match is None:
        if parts.code is None and season is not None:  # `S05`: the season's talks
            out["talks"] = await _rows(db, _TALK_HIT.format(snippet="''", title="t.title") + " from talks t"
                                       " where t.season = :season and t.code is not null and t.removed_at is null"
                                       f" {_NARROW} order by t.episode", {"season": season, "year": year})
        return out
    columns = [c["name"] for c in await _rows(db, "select name from pragma_table_info('talks_fts')")]
    weights = ", ".join(str(_WEIGHTS.get(c, 1.0)) for c in columns)
    title = f"highlight(talks_fts, {columns.index('title')}, char(2), char(3))" if "title" in columns else "t.title"
    found = []
    try:
        out["talks"] += [t for t in await _rows(db, _TALK_HIT.format(snippet=_BOUNDED_SNIPPET, title=title) + f"""
            from talks_fts join talks t on t.rowid = talks_fts.rowid
            where talks_fts match :match and t.removed_at is null {_NARROW}
            order by bm25(talks_fts, {weights}), t.date desc limit 100""",
            {"match": match, "season": season, "year": year, "snippet_max": SITE_SNIPPET_MAX_CHARS})
            if t["code"] is None or t["code"] != parts.code]
        found = await _rows(db, """
            select t.id, t.season, t.date from talks_fts join talks t on t.rowid = talks_fts.rowid
            where talks_fts match :match and t.removed_at is null limit 5000""", {"match": match})
    except sqlite3.DatabaseError:  # interrupted, or a value stored before the site's limits held
        pass
    words = [fold(w) for w in re.findall(r"\w+", parts.words)[:MAX_QUERY_WORDS]]
    if words:
        where = " and ".join(f"name_ascii like :w{i} escape '\\'" for i in range(len(words)))
        params = {f"w{i}": "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                  for i, w in enumerate(words)}
        out["speakers"] = await _rows(db, f"select id, name, honorific from speakers where {where} "
                                          "and removed_at is null order by name limit 50", params)
        out["name_first"] = is_name_query(parts.words, out["speakers"])
    if await _exists(db, "transcript_segments_fts"):
        try:
            hits = await _rows(db, hits_sql(_SNIPPET), {"q": parts.words, "limit": TRANSCRIPT_HITS})
            shown = hits
            if season is not None or year is not None:
                videos = [r["video_id"] for r in await _rows(
                    db, f"select video_id from talks t where video_id is not null and removed_at is null {_NARROW}",
                    {"season": season, "year": year})]
                shown = await _rows(db, hits_sql(_SNIPPET, videos=True), {
                    "q": parts.words, "limit": TRANSCRIPT_HITS, "videos": json.dumps(videos)})
        except sqlite3.DatabaseError:  # interrupted, or a value stored before the site's limits held
            hits = shown = []
        out["transcripts"] = [{**h, "snippet": mark_cjk(h["shown"], parts.words)} for h in shown]
        talk_ids = sorted({h["talk_id"] for h in hits if h["talk_id"] is not None})
        if talk_ids:
            found += await _rows(db, "select id, season, date from talks where id in"
                                     " (select value from json_each(:ids))", {"ids": json.dumps(talk_ids)})
    out["groups"] = group_hits(out["transcripts"])
    out["facets"] = facets(found, season, year)
    return out


# A talk hit's columns; {snippet} and {title} are SQL expressions (marked with char(2)/char(3)).
# snippet() costs the square of a text's hits and cannot be interrupted: only a talk of
# bounded text gets one (real talks: ~4,500 characters); a longer one shows its abstract's start.
_BOUNDED_SNIPPET = """case when coalesce(length(t.title), 0) + coalesce(length(t.abstract), 0) + coalesce(length(t.bio), 0)
                + coalesce(length(t.speakers), 0) + coalesce(length(t.affiliation), 0) <= :snippet_max
           then snippet(talks_fts, -1, char(2), char(3), '…', 24)
           else substr(coalesce(t.abstract, t.title, ''), 1, 200) || '…' end"""
_TALK_HIT = """
    select t.id, t.code, t.season, t.title, {title} as title_marked, t.date, t.speakers, t.status,
           {snippet} as snippet,
           t.id in (select talk_id from missing_recordings) as missing"""
# The season and year filters, :season and :year (NULL: no filter).
_NARROW = "and (:season is null or t.season = :season) and (:year is null or substr(t.date, 1, 4) = :year)"


# ----------------------------------------------------------------------------- the organizers' desk


async def desk(db) -> dict:
    runs = await _rows(db, "select * from sync_runs order by id desc limit 10")
    missing = await _rows(db, "select * from missing_recordings")
    stale = await _rows(db, "select * from stale_links")
    orphans = await _rows(db, "select * from unmatched_videos")
    # One entry per talk to fix: a talk with no recording whose page link is stale too
    # (db/reports.py: talks_to_fix) is shown once, with both.
    problems: dict[int, dict] = {}
    for row in missing:
        problems.setdefault(row["talk_id"], {"talk_id": row["talk_id"], "code": row["code"], "title": row["title"],
                                             "date": row["date"], "missing": None, "stale": None})["missing"] = row
    for row in stale:
        problems.setdefault(row["talk_id"], {"talk_id": row["talk_id"], "code": row["code"], "title": row["title"],
                                             "date": None, "missing": None, "stale": None})["stale"] = row
    ordered = sorted(problems.values(), key=lambda p: (p["code"] is None, p["code"] or "", p["talk_id"]))
    counts = {"missing_recordings": len(missing), "stale_links": len(stale), "orphans": len(orphans),
              "talks_to_fix": len(ordered)}
    return {"runs": runs, "problems": ordered, "orphans": orphans, "counts": counts}
