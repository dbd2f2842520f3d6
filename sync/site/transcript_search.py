"""Searching what was said: one SQL for the archive's /search, a talk page and the canned
query `search_recordings`, so that all three find the same hits and link to the same second.

What a query means is Python, given to SQLite as functions on every connection the site
opens (`register_functions`, from the plugin's prepare_connection):

    transcript_match(q, column)   the FTS5 expression: every typed word must match, in
                                  `column` (text, or boundary_text for a phrase said across
                                  two segments); CJK runs match text_cjk as character pairs
    transcript_second(start, word_times, text, marked, q)
                                  the second a hit links to: one before its first matched
                                  word (from the segment's word_times), never negative

A hit's first matched word is where the typed words are said in a row, if they are (or run
on into the next segment), else the first word of the query that the segment holds. FTS5's
own highlight() marks the matched words in `marked` (\\x01word\\x04), so the tokenizer
(stems, accents) decides what matched; `first_matched_offset` reads the runs. Typed text is
only ever quoted words, never FTS syntax.
"""
from __future__ import annotations

import json
import math
import re
import sqlite3
from typing import Optional

from sync.core.text import cjk_query, cjk_runs, fold

__all__ = ["HITS_LIMIT", "HIT_COLUMNS", "MAX_QUERY_WORDS", "hits_sql", "link_second", "match_expression",
           "query_words", "register_functions", "search_recordings_query"]

MAX_QUERY_WORDS = 12
HITS_LIMIT = 100  # the canned query's rows; /search shows fewer (sync/site/data.py)
# A query matching this many segments or more is not ranked by bm25: its newest matches are
# taken (see hits_sql). Ranking this many takes ~25 ms at a million segments.
FREQUENT = 10_000
_FTS = "transcript_segments_fts"
_LIVE = "rowid not in (select id from transcript_segments where removed_at is not null)"
_MARK = "char(1)"
_MARKED = "char(1), char(4)"  # a matched word in `marked`: \x01word\x04
_SECOND = "transcript_second(s.start_seconds, s.word_times, s.text, coalesce(said.marked, said_across.marked), :q)"


def query_words(q: object) -> list[str]:
    """The words of a typed query (letters and digits), at most MAX_QUERY_WORDS of 60 characters."""
    if not isinstance(q, str):
        return []
    return [w[:60] for w in re.findall(r"\w+", q)[:MAX_QUERY_WORDS]]


def match_expression(q: object, column: str = "text") -> Optional[str]:
    """Every word must match in `column`; a word's CJK runs match text_cjk instead. None: nothing
    to search, or (boundary_text) a query that cannot span a boundary: one word, or any CJK."""
    words = query_words(q)
    if column not in ("text", "boundary_text") or not words:
        return None
    terms = []
    for word in words:
        runs = cjk_runs(word)
        if runs and column == "boundary_text":
            return None  # character pairs are indexed per segment only
        terms += [f"{{text_cjk}} : {cjk_query(run)}" for run in runs]
        terms += [f'{{{column}}} : "{part}"' for part in re.sub("|".join(map(re.escape, runs)) or "$^", " ", word).split()]
    if column == "boundary_text" and len(words) < 2:
        return None
    return " AND ".join(terms) if terms else None


_SPAN = re.compile("\x01([^\x01\x04]*)\x04")


def _same_word(said: str, typed: str) -> bool:
    """A marked word is the typed one: the tokenizer matched it, so its stem agrees; the first
    four letters, folded, tell two query words apart well enough to find them in order."""
    said, typed = fold(said), fold(typed)
    return said[:4] == typed[:4]


def first_matched_offset(marked: str, typed: list[str]) -> int:
    """The offset, in the unmarked text, of the word a hit links to; -1 when nothing is marked.

    `marked` is highlight() of the query's words (each matched word as \x01word\x04). Where
    the typed words are said in a row (marked words in the typed order with nothing but spaces
    and punctuation between them) wins; else where the first of them run on to the end of the
    text (they go on into the next segment); else the first marked word."""
    spans, text, at = [], "", 0
    for match in _SPAN.finditer(marked):
        text += marked[at:match.start()]
        spans.append((len(text), len(text) + len(match.group(1)), match.group(1)))
        text += match.group(1)
        at = match.end()
    text += marked[at:]
    if not spans:
        return -1
    joined = [i > 0 and re.fullmatch(r"[\W_]*", text[spans[i - 1][1]:spans[i][0]]) is not None
              for i in range(len(spans))]
    k = len(typed)
    for i in range(len(spans)):
        n = 0
        while n < k and i + n < len(spans) and (n == 0 or joined[i + n]) and _same_word(spans[i + n][2], typed[n]):
            n += 1
        end = text.split("\n", 1)[0]
        if n == k or (n > 0 and i + n == len(spans) and spans[-1][1] <= len(end)
                      and re.fullmatch(r"[\W_]*", end[spans[-1][1]:])):
            return spans[i][0]
    return spans[0][0]


def link_second(start: float, word_times: Optional[str], text: str, marked: Optional[str], q: object) -> int:
    """The second a hit links to: one before the first matched word starts, never negative."""
    offset = first_matched_offset(marked, query_words(q)) if marked else -1
    if offset >= 0 and "\n" in marked:  # boundary text: this segment's last words, a newline, the next's first
        tail = _SPAN.sub(lambda m: m.group(1), marked).split("\n", 1)[0]
        offset = len(text or "") - len(tail) + offset if offset < len(tail) else -1
    if offset < 0:  # CJK: its character pairs are another column; find the typed run in the text
        for run in (r for w in query_words(q) for r in cjk_runs(w)):
            offset = (text or "").find(run)
            if offset >= 0:
                break
    seconds = float(start or 0)
    if word_times and offset > 0:
        try:
            flat = json.loads(word_times)
            for i in range(0, len(flat) - 1, 2):
                if flat[i] > offset:
                    break
                seconds = float(start) + flat[i + 1] / 1000
        except (ValueError, TypeError, IndexError):
            seconds = float(start or 0)
    return max(0, math.floor(seconds) - 1) if math.isfinite(seconds) else 0


def _safe(function):
    def wrapped(*args):
        try:
            return function(*args)
        except Exception:  # a function that raises aborts the whole query: give NULL instead
            return None
    return wrapped


def register_functions(conn: sqlite3.Connection) -> None:
    """The functions the transcript searches call, on one connection."""
    conn.create_function("transcript_match", 2, _safe(match_expression), deterministic=True)
    conn.create_function("transcript_second", 5, _safe(link_second), deterministic=True)


HIT_COLUMNS = ("s.video_id, s.start_seconds, coalesce(said.shown, said_across.shown) as shown, {second} as second,"
               " t.id as talk_id, t.code, t.title, t.speakers")


def hits_sql(display: str, *, video: bool = False, videos: bool = False, order: str = "rank",
             projection: str = HIT_COLUMNS) -> str:
    """Transcript hits of :q, best first (or in time order), at most :limit, with `second`.

    Ranks every match, keeps the best :limit, and only then highlights them (snippet()
    over every match of a common word at a million segments costs seconds). A phrase said
    across two segments matches the boundary text: counted once, as this segment's hit,
    only when the words are not all in its own text and the first matched word is its
    own (else the next segment's row is the hit). `display` is an SQL expression over
    the FTS row and the column number {col} (snippet or highlight with the page's
    markers); `video`: only :video's segments; `videos`: only the segments of the recordings
    in the JSON array :videos (a search narrowed by season or year); `projection`: the columns, over s (the
    segment), t (its talk), said/said_across (`shown`) and {second} (the link's second).
    """
    # One video's hits: a video's live segments are written together, so their ids are one
    # range, which FTS5 reads as a range of its doclists (a `rowid IN (that video's segments)`
    # made it seek every term once per segment: seconds on a long talk); each match in the
    # range is then checked to be the video's.
    in_video = (f" and {_FTS}.rowid between (select min(id) from video) and (select max(id) from video)"
                f" and (select video_id from transcript_segments where id = {_FTS}.rowid) = :video"
                if video else "")
    # Several videos (a season's): each match is checked against their segments; `+rowid`
    # keeps the list from FTS5, which would run the query once per listed rowid (8 s for
    # "chest x ray" at a million segments, 10 ms this way).
    if videos:
        in_video += (f" and +{_FTS}.rowid in (select id from transcript_segments"
                     " where video_id in (select value from json_each(:videos)))")
    video_cte = ("video as materialized (select id from transcript_segments"
                 " where video_id = :video and removed_at is null),\n" if video else "")
    shown = display.format(col=0)
    shown_across = "'… ' || replace(" + display.format(col=1) + ", char(10), ' ') || ' …'"
    order_by = "best.rank, s.video_id, s.start_seconds" if order == "rank" else "s.start_seconds, s.id"
    return f"""
with q as (  -- '""' matches nothing (FTS5 refuses a NULL expression)
  select coalesce(transcript_match(:q, 'text'), '""') as plain,
         coalesce(transcript_match(:q, 'boundary_text'), '""') as across
),
{video_cte}-- Ranking costs a few microseconds a match: a query that matches FREQUENT segments or more
-- ("the", in nearly all of a million) takes its newest matches instead, in index order, and
-- no phrase across segments (there are hits enough). The branch not taken matches '""'.
size as materialized (
  select count(*) >= {FREQUENT} as frequent from (
    select 1 from {_FTS} where {_FTS} match (select plain from q){in_video} limit {FREQUENT})
),
plain as materialized (
  select * from (
    select rowid, rank from {_FTS}
    where {_FTS} match (select case when frequent then '""' else plain end from q, size) and {_LIVE}{in_video}
    order by rank + 0 limit :limit)
  union all
  select * from (
    select rowid, 0 from {_FTS}
    where {_FTS} match (select case when frequent then plain else '""' end from q, size) and {_LIVE}{in_video}
    order by rowid desc limit :limit)
),
across as materialized (
  select rowid, rank from {_FTS}
  where {_FTS} match (select case when frequent then '""' else '(' || across || ') NOT (' || plain || ')' end
                      from q, size)
    and instr(highlight({_FTS}, 1, {_MARK}, {_MARK}), {_MARK}) < instr(boundary_text, char(10))
    and {_LIVE}{in_video}
  order by rank limit :limit
),
best as materialized (
  select rowid, rank, 0 as across from plain
  union all
  select rowid, rank, 1 from across
  order by rank, rowid desc limit :limit
),
said as materialized (
  select rowid, {shown} as shown, highlight({_FTS}, 0, {_MARKED}) as marked from {_FTS}
  where {_FTS} match (select plain from q) and rowid in (select rowid from best where not across)
),
said_across as materialized (
  select rowid, {shown_across} as shown, highlight({_FTS}, 1, {_MARKED}) as marked from {_FTS}
  where {_FTS} match (select across from q)
    and rowid in (select rowid from best where across)
)
select {projection.format(second=_SECOND)}
from best
join transcript_segments s on s.id = best.rowid
left join said on said.rowid = best.rowid and not best.across
left join said_across on said_across.rowid = best.rowid and best.across
left join talks t on t.video_id = s.video_id and t.removed_at is null
order by {order_by}"""


def search_recordings_query() -> dict:
    """The canned query `search_recordings` (added by the site plugin): the same hits as /search."""
    sql = hits_sql("highlight(transcript_segments_fts, {col}, '**', '**')", projection=(
        "t.code, t.title, t.speakers, coalesce(said.shown, said_across.shown) as text,"
        " 'https://youtu.be/' || s.video_id || '?t=' || {second} as link, s.start_seconds, s.video_id"))
    return {
        "sql": sql.replace(":limit", str(HITS_LIMIT)).strip(),
        "title": "Search inside the recordings",
        "description": (
            "What was said in the recordings: every word must match, accents are ignored and words match by "
            "stem (fairness finds fair); Chinese, Japanese and Korean are found as typed, without spaces. "
            "Best matches first; the matched words are marked **like this**, and link opens the video a second "
            "before the first matched word (where the words are said in a row). A phrase said across two "
            "caption segments is found too (shown with the next segment's first words)."),
    }
