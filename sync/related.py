"""Which talks are about the same thing: TF-IDF cosine over titles and abstracts, pure.

Each talk is a bag of terms as the search index cuts them (porter stems, accents
folded: sync/save/related.py reads them from talks_fts), a title term counting
TITLE_WEIGHT times. A term weighs (1 + log tf) * log(N / df): a word most talks use says
nothing about one, a word two talks share says a lot. Two talks are as related as the
cosine of their vectors. Measured against hand-made judgements of the snapshot's 30 talks
(tests/related_eval.py, docs/design.md#browsing-related-talks-seasons-narrowing):
precision@3 0.64, against 0.41 for "the same season", 0.57 for FTS5's bm25 over the
talk's own words and 0.62 for all-MiniLM-L6-v2 sentence embeddings.

An inverted index pairs only talks that share a term, a term in more than half the talks
pairs none, and each talk keeps its MAX_TERMS heaviest terms. The work still grows with the square of the archive for words many talks share
(30 talks: 20 ms; 300 synthetic talks: about 1 s), so a sync redoes it only when a
talk's title, abstract or presence changed.
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from typing import Iterable, Mapping

__all__ = ["MAX_DF", "MAX_TERMS", "PER_TALK", "STOP_WORDS", "TITLE_WEIGHT", "related_talks", "term_vectors"]

PER_TALK = 5  # related talks kept for each talk
TITLE_WEIGHT = 2  # a title word counts as this many abstract words
MAX_TERMS = 100  # heaviest terms kept per talk: bounds the pairing work, drops the long tail
# A term in more than half the talks says little about one (its weight is below log 2) and
# would pair every talk with every other: left out.
MAX_DF = 0.5
# Words that say nothing about a talk's subject: English function words and how every
# abstract speaks of itself. Stemmed by the index's own tokenizer before use (P@3 0.64
# with them, 0.62 without).
STOP_WORDS = """
a about after all also am an and any are as at be because been before being between both but by can could
did do does doing during each few for from further had has have having he her here his how i if in into is
it its itself just may me might more most must my no nor not now of off on once only or other our out over
own same she should so some such than that the their them then there these they this those through to too
under until up us very was we were what when where which while who whom why will with within without would
you your talk talks present presentation presented webinar session discuss introduce share use used using
based new work study
""".split()


def term_vectors(counts: Mapping[int, Mapping[str, float]], max_terms: int = MAX_TERMS) -> dict[int, dict[str, float]]:
    """TF-IDF vectors of unit length: talk id -> {term: weight}. Talks without terms are left out."""
    docs = {talk: c for talk, c in counts.items() if c}
    n = len(docs)
    df: dict[str, int] = defaultdict(int)
    for c in docs.values():
        for term in c:
            df[term] += 1
    vectors = {}
    for talk, c in docs.items():
        weights = {t: (1 + math.log(tf)) * math.log(n / df[t]) for t, tf in c.items()
                   if tf >= 1 and df[t] <= MAX_DF * n and df[t] < n}
        if len(weights) > max_terms:
            weights = dict(heapq.nlargest(max_terms, weights.items(), key=lambda kv: (kv[1], kv[0])))
        norm = math.sqrt(sum(w * w for w in weights.values()))
        if norm > 0:
            vectors[talk] = {t: w / norm for t, w in weights.items()}
    return vectors


def related_talks(counts: Mapping[int, Mapping[str, float]], per_talk: int = PER_TALK) -> Iterable[tuple[int, int, int, float]]:
    """(talk_id, rank, related_id, score) for each talk's `per_talk` nearest talks, best first.

    `counts` is talk id -> {term: count} (title terms already weighted). Only talks sharing
    a term with a talk are its candidates; ties go to the lower id, so the result is the same
    on every run.
    """
    vectors = term_vectors(counts)
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for talk, vector in vectors.items():
        for term, weight in vector.items():
            postings[term].append((talk, weight))
    for talk in sorted(vectors):
        scores: dict[int, float] = defaultdict(float)
        for term, weight in vectors[talk].items():
            for other, other_weight in postings[term]:
                if other != talk:
                    scores[other] += weight * other_weight
        best = heapq.nsmallest(per_talk, scores.items(), key=lambda kv: (-kv[1], kv[0]))
        for rank, (other, score) in enumerate(best, start=1):
            yield talk, rank, other, round(score, 4)
