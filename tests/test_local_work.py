"""An unchanged sync does local work in proportion to what changed (issue 14)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlite_utils

import sync.pipeline.run as pipeline
from db.schema import ensure_schema
from sync.pipeline import SyncOptions, run_sync
from tests.conftest import SNAPSHOT, TODAY


def _options(db_path, webinar) -> SyncOptions:
    return SyncOptions(db_path=str(db_path), webinar_page=str(webinar), talks_page=str(SNAPSHOT / "webinar_talks.md"),
                       source="none", today=dt.date.fromisoformat(TODAY))


def test_the_matcher_reruns_only_when_something_changed(tmp_path, monkeypatch):
    calls = []
    real = pipeline.rematch
    monkeypatch.setattr(pipeline, "rematch", lambda db, run: calls.append(run.run_id) or real(db, run))
    db_path = tmp_path / "talks.db"
    first = run_sync(_options(db_path, SNAPSHOT / "webinar.md"))
    assert calls == [first.run_id] and first.rows_changed > 0
    again = run_sync(_options(db_path, SNAPSHOT / "webinar.md"))
    assert again.rows_changed == 0 and calls == [first.run_id]  # nothing changed: no rematch
    db = sqlite_utils.Database(db_path)
    matched = db.execute("SELECT count(*) FROM matches WHERE removed_at IS NULL").fetchone()[0]
    # a changed page (one talk's title) is a change: the matcher runs again
    changed = tmp_path / "webinar.md"
    text = (SNAPSHOT / "webinar.md").read_text()
    title = db.execute("SELECT title FROM talks WHERE status = 'listed' AND title IS NOT NULL LIMIT 1").fetchone()[0]
    assert title in text
    changed.write_text(text.replace(title, title + " revisited", 1))
    third = run_sync(_options(db_path, changed))
    assert third.rows_changed > 0 and calls == [first.run_id, third.run_id]
    assert db.execute("SELECT count(*) FROM matches WHERE removed_at IS NULL").fetchone()[0] == matched


def test_bookkeeping_updates_leave_the_full_text_index_alone(tmp_path):
    db = sqlite_utils.Database(tmp_path / "talks.db")
    db["videos"].insert({"video_id": "a", "title": "Skin lesion datasets"}, pk="video_id")
    db["videos"].enable_fts(["title", "description"], create_triggers=True)  # sqlite-utils' own triggers
    ensure_schema(db)
    ensure_schema(db)  # idempotent
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'videos_au'").fetchone()
    assert 'AFTER UPDATE OF "title", "description" ON "videos"' in sql

    def changes_of_index() -> int:
        return db.execute("SELECT total_changes()").fetchone()[0]

    before = changes_of_index()
    db.execute("UPDATE videos SET last_seen_run = 7, checked_run = 7 WHERE video_id = 'a'")
    assert changes_of_index() - before == 1  # the row only: no delete and insert in videos_fts
    db.execute("UPDATE videos SET title = 'Retina imaging' WHERE video_id = 'a'")
    assert db.execute("SELECT count(*) FROM videos_fts WHERE videos_fts MATCH 'retina'").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM videos_fts WHERE videos_fts MATCH 'lesion'").fetchone()[0] == 0


def test_no_cycle_collection_during_a_run_and_the_collector_restored_after(tmp_path, monkeypatch):
    """A run builds many long-lived objects and few cycles: the collector is paused for
    it (two full passes at 5,000 videos), and left as it was found, after a failure too."""
    import gc

    seen = []
    real = pipeline.rematch
    monkeypatch.setattr(pipeline, "rematch", lambda db, run: seen.append(gc.isenabled()) or real(db, run))
    assert gc.isenabled()
    run_sync(_options(tmp_path / "talks.db", SNAPSHOT / "webinar.md"))
    assert seen == [False] and gc.isenabled()

    gc.disable()  # a caller that paused it itself finds it paused still
    try:
        run_sync(_options(tmp_path / "other.db", SNAPSHOT / "webinar.md"))
        assert not gc.isenabled()
    finally:
        gc.enable()

    monkeypatch.setattr(pipeline, "rematch", lambda db, run: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        run_sync(_options(tmp_path / "third.db", SNAPSHOT / "webinar.md"))
    assert gc.isenabled()
