"""The database shape: created by one idempotent function; search folds accents."""
import sqlite_utils

from db.schema import FTS_CONFIG, TABLES, VIEWS, ensure_schema
from db.store import RunContext, mark_removed, save_row


def fresh():
    db = sqlite_utils.Database(memory=True)
    ensure_schema(db)
    return db


def test_ensure_schema_creates_every_table_view_and_fts_index():
    db = fresh()
    assert set(TABLES) <= set(db.table_names())
    assert set(VIEWS) <= set(db.view_names())
    for table in FTS_CONFIG:
        assert db[table].detect_fts() == f"{table}_fts"


def test_ensure_schema_is_idempotent_and_adds_missing_columns():
    db = fresh()
    db["talks"].insert({"id": 1, "code": "S01E01", "title": "Kept"})
    db.execute("CREATE TABLE extra_probe (x)")  # untouched by ensure_schema
    before = {t: db[t].columns_dict for t in TABLES}
    ensure_schema(db)
    ensure_schema(db)
    assert {t: db[t].columns_dict for t in TABLES} == before
    assert db["talks"].get(1)["title"] == "Kept"
    # an older file without a column gets it added, rows kept
    old = sqlite_utils.Database(memory=True)
    old["talks"].create({"id": int, "code": str, "title": str}, pk="id")
    old["talks"].insert({"id": 7, "code": "S02E01", "title": "Old"})
    ensure_schema(old)
    assert "page_video_id" in old["talks"].columns_dict
    assert old["talks"].get(7)["title"] == "Old"


def test_search_finds_accented_names_without_accents():
    db = fresh()
    db["talks"].insert({"id": 1, "code": "S07E01", "title": "In the Picture",
                        "speakers": "Amelia Jiménez-Sánchez", "speakers_ascii": "amelia jimenez-sanchez"})
    db["talks"].insert({"id": 2, "code": "S05E01", "title": "Ground Truth Or Dare",
                        "speakers": "Hubert Dariusz Zając and Natalia-Rozalia Avlona",
                        "speakers_ascii": "hubert dariusz zajac and natalia-rozalia avlona"})
    assert [r["id"] for r in db["talks"].search("jimenez")] == [1]
    assert [r["id"] for r in db["talks"].search("zajac")] == [2]


def test_save_row_records_inserts_changes_and_removals_and_never_deletes():
    db = fresh()
    run1 = RunContext(run_id=1, now="2026-01-01T00:00:00+00:00")
    save_row(db, run1, "videos", {"video_id": "abcdefghijk", "title": "First", "availability": "public"})
    run2 = RunContext(run_id=2, now="2026-02-01T00:00:00+00:00")
    save_row(db, run2, "videos", {"video_id": "abcdefghijk", "title": "Second", "availability": "public"})
    mark_removed(db, run2, "videos", seen_keys=[])
    row = db["videos"].get("abcdefghijk")
    assert (row["title"], row["first_seen_run"], row["last_seen_run"], row["removed_at"]) == (
        "Second", 1, 2, "2026-02-01T00:00:00+00:00")
    changes = [(c["run_id"], c["column_name"], c["old_value"], c["new_value"])
               for c in db["changes"].rows_where(order_by="id")]
    assert changes == [
        (1, "title", None, "First"),
        (1, "availability", None, "public"),
        (2, "title", "First", "Second"),
        (2, "removed_at", None, "2026-02-01T00:00:00+00:00"),
    ]
    # seen again: back, and the return is recorded too
    run3 = RunContext(run_id=3, now="2026-03-01T00:00:00+00:00")
    save_row(db, run3, "videos", {"video_id": "abcdefghijk", "title": "Second", "availability": "public"})
    assert db["videos"].get("abcdefghijk")["removed_at"] is None
    assert db["changes"].count == 5
    assert run3.rows_changed == 1


def test_mark_removed_stamps_exactly_the_unseen_rows_of_integer_and_two_column_keys():
    """SQLite picks the unseen rows by row_key's text: "7" for talk 7, "PL/v" for an item."""
    db = fresh()
    run1 = RunContext(run_id=1, now="2026-01-01T00:00:00+00:00")
    for talk_id in (7, 8, 70):
        save_row(db, run1, "talks", {"id": talk_id, "code": f"S01E{talk_id:02d}", "title": f"T{talk_id}"})
    for playlist, video in (("PLa", "v1"), ("PLa", "v2"), ("PLb", "v1")):
        save_row(db, run1, "playlist_items", {"playlist_id": playlist, "video_id": video, "position": 0})
    run2 = RunContext(run_id=2, now="2026-02-01T00:00:00+00:00")

    assert mark_removed(db, run2, "talks", ["7", "70"]) == ["8"]
    assert mark_removed(db, run2, "playlist_items", ["PLa/v1", "PLb/v1", "PLa/v9"], "playlist_id = ?", ["PLa"]) == ["PLa/v2"]
    assert mark_removed(db, run2, "talks", ["7", "70"]) == []  # already removed: not stamped again

    removed = {r["row_key"] for r in db.query("SELECT row_key FROM changes WHERE column_name = 'removed_at'")}
    assert removed == {"8", "PLa/v2"} and run2.rows_changed == 2
    assert [r["id"] for r in db.query("SELECT id FROM talks WHERE removed_at IS NULL ORDER BY id")] == [7, 70]


def test_opening_a_database_runs_no_sqlite_utils_plugin(tmp_path):
    """A plugin installed on the machine would run its code on the sync's connection."""
    from sqlite_utils.plugins import pm

    from db.runs import open_database

    class Plugin:
        calls = []

        @sqlite_utils.hookimpl
        def prepare_connection(self, conn):
            self.calls.append(conn)

    plugin = Plugin()
    pm.register(plugin, name="probe-plugin")
    try:
        sqlite_utils.Database(memory=True)  # the probe works: a default Database runs it
        assert len(Plugin.calls) == 1
        open_database(str(tmp_path / "talks.db")).close()
        assert len(Plugin.calls) == 1
    finally:
        pm.unregister(plugin)
