"""Related talks (issue #22 item 1): what sync/related.py ranks and what a sync stores.

The quality check reads the hand-made judgements of tests/fixtures/related/judgements.json
(tests/related_eval.py prints every method's figures).
"""
from __future__ import annotations

import sqlite3

import pytest

from db.runs import open_database
from sync.related import PER_TALK, related_talks, term_vectors
from sync.save.related import related_stale, save_related, talk_terms
from tests.conftest import sync_snapshot
from tests.related_eval import precision, same_season, stored


def test_talks_sharing_rare_words_are_related_and_common_words_count_for_nothing():
    counts = {
        1: {"skin": 2, "lesion": 1, "dataset": 1},
        2: {"skin": 1, "lesion": 2, "dataset": 1},
        3: {"brain": 2, "tumor": 1, "dataset": 1},
        4: {"brain": 1, "mri": 1, "dataset": 1},
        5: {"dataset": 3},  # only the word every talk uses: about nothing in particular
    }
    ranked = {}
    for talk, rank, other, score in related_talks(counts, per_talk=2):
        ranked.setdefault(talk, []).append(other)
        assert other != talk and score > 0
    assert ranked[1][0] == 2 and ranked[2][0] == 1
    assert ranked[3][0] == 4 and ranked[4][0] == 3
    assert 5 not in ranked  # no term of its own: no vector, suggests and is suggested nowhere
    assert all(5 not in others for others in ranked.values())
    assert all(len(others) == 1 for others in ranked.values())  # only talks sharing a term are candidates


def test_ranking_is_the_same_on_every_run_and_ties_go_to_the_lower_id():
    counts = {7: {"x": 1, "y": 1}, 3: {"x": 1, "z": 1}, 5: {"x": 1, "z": 1}, 9: {"w": 1}, 11: {"v": 1}, 13: {"u": 1}}
    first = list(related_talks(counts))
    assert first == list(related_talks(dict(reversed(list(counts.items())))))
    assert [(t, r, o) for t, r, o, _ in first if t == 7] == [(7, 1, 3, ), (7, 2, 5)]


def test_vectors_keep_the_heaviest_terms_only():
    counts = {1: {f"t{i}": 1 + i for i in range(300)}, 2: {"t0": 1}}
    vectors = term_vectors(counts, max_terms=50)
    assert len(vectors[1]) == 50 and "t299" in vectors[1]
    assert abs(sum(w * w for w in vectors[1].values()) - 1) < 1e-9


@pytest.fixture(scope="module")
def snapshot_db(tmp_path_factory):
    return sync_snapshot(tmp_path_factory.mktemp("related") / "talks.db")


def test_a_sync_stores_related_talks_for_every_live_talk(snapshot_db):
    con = sqlite3.connect(snapshot_db)
    live = {r[0] for r in con.execute("select id from talks where removed_at is null")}
    rows = con.execute("select talk_id, rank, related_id, score from related_talks").fetchall()
    by_talk: dict[int, list] = {}
    for talk, rank, other, score in rows:
        by_talk.setdefault(talk, []).append((rank, other, score))
    assert set(by_talk) == live
    for talk, suggestions in by_talk.items():
        assert [r for r, _, _ in sorted(suggestions)] == list(range(1, PER_TALK + 1))
        scores = [s for _, _, s in sorted(suggestions)]
        assert scores == sorted(scores, reverse=True) and scores[-1] > 0
        assert all(other in live and other != talk for _, other, _ in suggestions)


def test_related_talks_beat_the_season_by_the_judgements(snapshot_db):
    con = sqlite3.connect(snapshot_db)
    ours, season = precision(con, stored(con), 3), precision(con, same_season(con), 3)
    assert ours >= 0.6 and ours > season + 0.15, (ours, season)


def copy_of(path, tmp_path):
    """A copy of the module's database (its WAL included) for a test that writes."""
    copy = tmp_path / "copy.db"
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return copy


def test_a_word_in_more_than_half_the_talks_pairs_none():
    counts = {1: {"common": 1, "a": 1}, 2: {"common": 1, "b": 1}, 3: {"common": 1, "c": 1}, 4: {"d": 1}}
    assert list(related_talks(counts)) == []


def test_terms_are_cut_as_search_cuts_them_without_function_words(snapshot_db, tmp_path):
    db = open_database(str(copy_of(snapshot_db, tmp_path)))
    try:
        terms = talk_terms(db)
        s07e01 = db.execute("select id from talks where code = 'S07E01'").fetchone()[0]
        assert terms[s07e01]["dataset"] >= 2  # "Datasets" in the title (weighted twice), stemmed
        assert "jimenez" not in terms[s07e01]  # the speaker's name is not what the talk is about
        assert not {"the", "and", "talk", "thi"} & set(terms[s07e01])
        # A talk the pages stopped showing is suggested nowhere once the table is rebuilt.
        db.execute("update talks set removed_at = '2026-08-12T00:00:00+00:00' where id = ?", [s07e01])
        save_related(db)
        assert db.execute("select count(*) from related_talks where ? in (talk_id, related_id)",
                          [s07e01]).fetchone()[0] == 0
        assert db.execute("select count(*) from related_talks").fetchone()[0] == PER_TALK * (len(terms) - 1)
        assert not db.execute("select name from sqlite_temp_master").fetchall()  # no temporary table left
    finally:
        db.close()


def test_a_sync_rebuilds_related_talks_only_when_what_they_are_made_of_changed(snapshot_db, tmp_path):
    db = open_database(str(copy_of(snapshot_db, tmp_path)))
    try:
        change = ("insert into changes (run_id, table_name, row_key, column_name, old_value, new_value)"
                  " values (?, ?, '1', ?, 'old', 'new')")
        assert not related_stale(db, 900)  # a run that changed nothing
        db.execute(change, [901, "videos", "view_count"])
        db.execute(change, [901, "talks", "bio"])
        assert not related_stale(db, 901)  # nothing a talk's terms are made of
        db.execute(change, [902, "talks", "abstract"])
        assert related_stale(db, 902)
        db.execute("delete from related_talks")
        assert related_stale(db, 900)  # nothing related yet: made at the next sync
    finally:
        db.close()
