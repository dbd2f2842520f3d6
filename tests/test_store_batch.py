"""save_rows: many rows saved as save_row saves them one by one (same rows, same ledger,
field by field), in a number of SQL statements that does not grow with the rows."""
import sqlite_utils

from db.schema import ensure_schema
from db.store import RowsPlan, RunContext, save_row, save_rows


def fresh():
    db = sqlite_utils.Database(memory=True)
    ensure_schema(db)
    for run_id in (1, 2):
        db["sync_runs"].insert({"id": run_id, "status": "running"})
    return db


def video(n, **values):
    return {"video_id": f"v{n:010d}", "availability": "public", "title": f"Talk {n}", **values}


BATCHES = [
    # run 1: new rows, one key twice (the later values win, both ledgers kept)
    [video(1), video(2, view_count=5), video(3, description="d"), video(2, view_count=6, title="Talk 2b")],
    # run 2: unchanged, changed, a column set to None, a new row
    [video(1), video(2, view_count=7), video(3, description=None), video(4, has_captions=1)],
]


def dump(db):
    return ([tuple(r) for r in db.execute("SELECT * FROM videos ORDER BY video_id").fetchall()],
            [tuple(r) for r in db.execute("SELECT * FROM changes ORDER BY id").fetchall()])


def test_save_rows_stores_and_records_what_save_row_does():
    one_by_one, batched = fresh(), fresh()
    for run_id, batch in enumerate(BATCHES, start=1):
        run_a, run_b = RunContext(run_id, "now"), RunContext(run_id, "now")
        for values in batch:
            save_row(one_by_one, run_a, "videos", values)
        save_rows(batched, run_b, "videos", batch)
        assert run_a.rows_changed == run_b.rows_changed
    assert dump(batched) == dump(one_by_one)
    videos, changes = dump(batched)
    assert len(videos) == 4
    # every inserted or changed field is in the ledger: run 2 changed v2's title and count, v3's description
    assert [c[2:] for c in changes if c[1] == 2 and c[3] != "v0000000004"] == [
        ("videos", "v0000000002", "title", "Talk 2b", "Talk 2"),
        ("videos", "v0000000002", "view_count", "6", "7"),
        ("videos", "v0000000003", "description", "d", None),
    ]


def test_seen_false_leaves_removed_at_and_last_seen_alone():
    db = fresh()
    save_rows(db, RunContext(1, "now"), "videos", [video(1)])
    db.execute("UPDATE videos SET removed_at = 'gone'")
    save_rows(db, RunContext(2, "now"), "videos", [video(1, title="New")], seen=False)
    row = db.execute("SELECT title, removed_at, last_seen_run FROM videos").fetchone()
    assert tuple(row) == ("New", "gone", 1)
    save_rows(db, RunContext(2, "now"), "videos", [video(1, title="New")])
    row = db.execute("SELECT title, removed_at, last_seen_run FROM videos").fetchone()
    assert tuple(row) == ("New", None, 2)


class CountingConnection:
    """The connection, counting the SQL calls made on it (executemany counts once)."""

    def __init__(self, conn):
        self.conn, self.calls = conn, 0

    def execute(self, *args):
        self.calls += 1
        return self.conn.execute(*args)

    def executemany(self, *args):
        self.calls += 1
        return self.conn.executemany(*args)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def test_sql_calls_do_not_grow_with_rows():
    def calls(n):
        db = fresh()
        for run_id in (1, 2):  # the first inserts every row, the second updates every row
            db.conn = counting = CountingConnection(db.conn)
            save_rows(db, RunContext(run_id, "now"), "videos", [video(i, view_count=run_id) for i in range(n)])
            db.conn = counting.conn
        assert db.execute("SELECT count(*) FROM changes WHERE run_id = 2").fetchone()[0] == n
        return counting.calls

    assert calls(1000) == calls(10) <= 5


def test_a_rows_plan_applied_piece_by_piece_stores_and_records_what_one_save_rows_does():
    """The streamed sync feeds a playlist's items page by page (RowsPlan.add, then apply
    each time): a key met twice, in different pieces, still ends as one save_rows ends."""
    whole, pieces = fresh(), fresh()
    for run_id, batch in enumerate(BATCHES, start=1):
        run_a, run_b = RunContext(run_id, "now"), RunContext(run_id, "now")
        save_rows(whole, run_a, "videos", batch)
        plan = RowsPlan(pieces, run_b, "videos")
        live_before = pieces.execute("SELECT count(*) FROM videos WHERE removed_at IS NULL").fetchone()[0]
        assert plan.live_before == live_before
        for row in batch:  # one row per piece: the duplicate key lands in a later piece
            plan.add([row])
            plan.apply()
        assert run_a.rows_changed == run_b.rows_changed
    assert dump(pieces) == dump(whole)
