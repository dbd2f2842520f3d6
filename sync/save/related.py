"""save_related: rebuild `related_talks` from what the search index says each live talk is about.

A derived table like the search index itself: rebuilt whole by a sync that changed a talk's
title, abstract or presence (sync/pipeline/run.py), never in `changes`. The terms come from talks_fts
through a temporary fts5vocab table, so they are cut exactly as search cuts them
(porter stems, accents folded); the ranking is sync/related.py.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from db.schema import FTS_TOKENIZE
from sync.related import PER_TALK, STOP_WORDS, TITLE_WEIGHT, related_talks

__all__ = ["related_stale", "save_related", "talk_terms"]

FIELD_WEIGHTS = {"title": TITLE_WEIGHT, "abstract": 1}


def _stemmed_stop_words(db) -> set[str]:
    db.execute(f"CREATE VIRTUAL TABLE temp.related_stop USING fts5(words, tokenize='{FTS_TOKENIZE}')")
    try:
        db.execute("INSERT INTO temp.related_stop (words) VALUES (?)", [" ".join(STOP_WORDS)])
        db.execute("CREATE VIRTUAL TABLE temp.related_stop_terms USING fts5vocab(temp, related_stop, row)")
        return {row[0] for row in db.execute("SELECT term FROM temp.related_stop_terms")}
    finally:
        db.execute("DROP TABLE IF EXISTS temp.related_stop_terms")
        db.execute("DROP TABLE temp.related_stop")


def talk_terms(db) -> dict[int, Counter]:
    """Live talk id -> {term: weighted count} over their titles and abstracts, as talks_fts cuts them."""
    stop = _stemmed_stop_words(db)
    counts: dict[int, Counter] = defaultdict(Counter)
    db.execute("CREATE VIRTUAL TABLE temp.related_terms USING fts5vocab(main, talks_fts, instance)")
    try:
        rows = db.execute(
            "SELECT doc, col, term, count(*) FROM temp.related_terms"
            " WHERE col IN ('title', 'abstract') AND doc IN (SELECT id FROM talks WHERE removed_at IS NULL)"
            " GROUP BY doc, col, term")
        for doc, col, term, n in rows:
            if term not in stop and len(term) > 2 and not term.isdigit():
                counts[doc][term] += n * FIELD_WEIGHTS[col]
    finally:
        db.execute("DROP TABLE temp.related_terms")
    return dict(counts)


# What related_talks is made of: a run that changed none of these for any talk leaves it as it is.
_INPUTS = ("title", "abstract", "removed_at")


def related_stale(db, run_id: int) -> bool:
    """True when run `run_id` changed a talk's title, abstract or presence, or nothing is related yet."""
    if db.execute("SELECT 1 FROM related_talks LIMIT 1").fetchone() is None:
        return db.execute("SELECT 1 FROM talks LIMIT 1").fetchone() is not None
    return db.execute(
        f"SELECT 1 FROM changes WHERE run_id = ? AND table_name = 'talks' AND column_name IN {_INPUTS} LIMIT 1",
        [run_id]).fetchone() is not None


def save_related(db) -> int:
    """Replace related_talks with each live talk's PER_TALK nearest talks; the rows written."""
    rows = list(related_talks(talk_terms(db), PER_TALK))
    db.execute("DELETE FROM related_talks")
    db.conn.executemany("INSERT INTO related_talks (talk_id, rank, related_id, score) VALUES (?, ?, ?, ?)", rows)
    return len(rows)
