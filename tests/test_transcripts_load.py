"""Bulk transcript loads keep the full-text index equal to the live segments.

transcript_segments_fts has no triggers: TranscriptLoader indexes each batch itself and
takes replaced segments out. These tests read the index itself (fts5vocab, every token
instance) and compare it with an index built from scratch over the live rows: a segment
indexed twice, a removed one left in or a live one missing would all differ.
"""
from __future__ import annotations

import sqlite3
from collections import Counter

import sqlite_utils

from db.schema import FTS_CONFIG, FTS_TOKENIZE, ensure_schema
from db.store import RunContext
from sync.transcripts.captions import TranscriptSegment, watch_url_at
from sync.cli import cli
from sync.transcripts.save import TranscriptLoader, boundary_texts, save_transcript

from .conftest import FIXTURES, rows

CAPTIONS = FIXTURES / "captions"
FIELDS = {"state": "automatic", "language": "en", "track": "en-orig", "format": "json3", "source": "import"}


def index_instances(con: sqlite3.Connection, schema: str, fts: str) -> Counter:
    """Every (term, rowid, column, offset) the index holds."""
    con.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.[{fts}_probe] USING fts5vocab({schema}, {fts}, instance)")
    found = Counter(con.execute(f"SELECT term, doc, col, offset FROM temp.[{fts}_probe]"))
    con.execute(f"DROP TABLE temp.[{fts}_probe]")
    return found


def varints(data: bytes) -> list[int]:
    out, i = [], 0
    while i < len(data):
        value = 0
        for k in range(9):
            byte = data[i]
            i += 1
            if k == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def totals(con: sqlite3.Connection, schema: str, fts: str) -> list[int]:
    """FTS5's averages record: rows indexed, then tokens per column (bm25 ranks by them).

    A row indexed twice shows here, not in fts5vocab (its positions merge into one).
    """
    return varints(con.execute(f"SELECT block FROM {schema}.[{fts}_data] WHERE id = 1").fetchone()[0])


def assert_index_holds_exactly_the_live_segments(path) -> Counter:
    con = sqlite3.connect(path)
    try:
        columns = ", ".join(FTS_CONFIG["transcript_segments"])
        con.execute(f"CREATE VIRTUAL TABLE temp.expected USING fts5({columns}, tokenize='{FTS_TOKENIZE}')")
        con.execute(f"INSERT INTO temp.expected (rowid, {columns})"
                    f" SELECT id, {columns} FROM transcript_segments WHERE removed_at IS NULL")
        expected = index_instances(con, "temp", "expected")
        indexed = index_instances(con, "main", "transcript_segments_fts")
        live = {r[0] for r in con.execute("SELECT id FROM transcript_segments WHERE removed_at IS NULL")}
        removed = {r[0] for r in con.execute("SELECT id FROM transcript_segments WHERE removed_at IS NOT NULL")}
        assert totals(con, "main", "transcript_segments_fts") == totals(con, "temp", "expected")
        assert totals(con, "main", "transcript_segments_fts")[0] == len(live)  # each live segment once
    finally:
        con.close()
    assert set(indexed.values()) <= {1}
    assert {doc for _, doc, _, _ in indexed} == live and not removed & {doc for _, doc, _, _ in indexed}
    assert indexed == expected
    return indexed


def terms_of(indexed: Counter) -> set[str]:
    return {term for term, _, _, _ in indexed}


def test_bulk_import_indexes_every_live_segment_once_and_reimport_replaces_the_indexed_text(
        runner, db_path, tmp_path):
    assert runner.invoke(cli, ["sync", "--snapshot", "--db", db_path, "-q"]).exit_code == 0
    result = runner.invoke(cli, ["transcripts", "import", str(CAPTIONS), "--db", db_path])
    assert result.exit_code == 0, result.output
    indexed = assert_index_holds_exactly_the_live_segments(db_path)
    assert len({doc for _, doc, _, _ in indexed}) == 8 and "genuin" in terms_of(indexed)  # porter: genuine

    edited = tmp_path / "edited"
    edited.mkdir()
    text = (CAPTIONS / "hDKuw28ATe4.en-orig.json3").read_text().replace("genuine", "real")
    (edited / "hDKuw28ATe4.en-orig.json3").write_text(text)
    result = runner.invoke(cli, ["transcripts", "import", str(edited), "--db", db_path])
    assert "captions: 1 fetched, 0 unchanged" in result.output
    indexed = assert_index_holds_exactly_the_live_segments(db_path)
    assert "genuin" not in terms_of(indexed) and "real" in terms_of(indexed)
    assert rows(db_path, "select count(*) n from transcript_segments where removed_at is not null") == [{"n": 2}]
    # back to the first captions: only the changed video is replaced again
    result = runner.invoke(cli, ["transcripts", "import", str(CAPTIONS), "--db", db_path])
    assert "captions: 1 fetched, 2 unchanged" in result.output  # hDKuw28ATe4 goes back to "genuine"
    assert "genuin" in terms_of(assert_index_holds_exactly_the_live_segments(db_path))


def segments(video_id: str, words: list[str]) -> list[TranscriptSegment]:
    return [TranscriptSegment(video_id, 10.0 * n, 10.0 * n + 8, f"{word} said here", watch_url_at(video_id, 10.0 * n))
            for n, word in enumerate(words)]


def test_loader_batches_replacements_within_and_across_batches(tmp_path):
    path = str(tmp_path / "talks.db")
    db = sqlite_utils.Database(path)
    ensure_schema(db)
    run = RunContext(1, "2026-11-27T00:00:00+00:00")
    # batches of about 3 segments: commits fall between videos and after a replacement
    with TranscriptLoader(db, run, batch_segments=3) as loader:
        assert loader.save("aaaaaaaaaaa", segments("aaaaaaaaaaa", ["alpha", "beta"]), FIELDS)
        assert loader.save("bbbbbbbbbbb", segments("bbbbbbbbbbb", ["gamma"]), FIELDS)  # batch commits here
        assert loader.save("ccccccccccc", segments("ccccccccccc", ["delta"]), FIELDS)
        # replaced in the batch that inserted it (not indexed yet) and one committed before
        assert loader.save("ccccccccccc", segments("ccccccccccc", ["epsilon"]), FIELDS)
        assert loader.save("aaaaaaaaaaa", segments("aaaaaaaaaaa", ["zeta", "eta"]), FIELDS)
        assert not loader.save("bbbbbbbbbbb", segments("bbbbbbbbbbb", ["gamma"]), FIELDS)  # unchanged
    run2 = RunContext(2, "2026-11-28T00:00:00+00:00")
    assert save_transcript(db, run2, "bbbbbbbbbbb", segments("bbbbbbbbbbb", ["theta"]), FIELDS)  # one video
    db.close()
    indexed = assert_index_holds_exactly_the_live_segments(path)
    assert terms_of(indexed) >= {"zeta", "eta", "epsilon", "theta"}
    assert not terms_of(indexed) & {"alpha", "beta", "gamma", "delta"}
    assert rows(path, "select video_id, count(*) n from transcript_segments group by video_id order by video_id") == [
        {"video_id": "aaaaaaaaaaa", "n": 4}, {"video_id": "bbbbbbbbbbb", "n": 2}, {"video_id": "ccccccccccc", "n": 2}]
    # one ledger row per replacement, as save_transcript writes them
    assert rows(path, "select row_key, old_value, new_value from changes where table_name = 'transcript_segments'"
                      " order by id") == [
        {"row_key": "aaaaaaaaaaa", "old_value": None, "new_value": "2"},
        {"row_key": "bbbbbbbbbbb", "old_value": None, "new_value": "1"},
        {"row_key": "ccccccccccc", "old_value": None, "new_value": "1"},
        {"row_key": "ccccccccccc", "old_value": "1", "new_value": "1"},
        {"row_key": "aaaaaaaaaaa", "old_value": "2", "new_value": "2"},
        {"row_key": "bbbbbbbbbbb", "old_value": "1", "new_value": "1"},
    ]


def test_an_error_rolls_back_the_open_batch_only(tmp_path):
    path = str(tmp_path / "talks.db")
    db = sqlite_utils.Database(path)
    ensure_schema(db)
    run = RunContext(1, "2026-11-27T00:00:00+00:00")
    try:
        with TranscriptLoader(db, run, batch_segments=2) as loader:
            loader.save("aaaaaaaaaaa", segments("aaaaaaaaaaa", ["alpha", "beta"]), FIELDS)  # committed
            loader.save("bbbbbbbbbbb", segments("bbbbbbbbbbb", ["gamma"]), FIELDS)
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    db.close()
    assert rows(path, "select video_id from captions") == [{"video_id": "aaaaaaaaaaa"}]
    assert run.rows_changed == 2  # segments + captions row of the committed video
    indexed = assert_index_holds_exactly_the_live_segments(path)
    assert terms_of(indexed) >= {"alpha", "beta"} and "gamma" not in terms_of(indexed)


def test_ensure_schema_replaces_a_trigger_kept_index_by_one_of_live_segments(tmp_path):
    path = str(tmp_path / "talks.db")
    db = sqlite_utils.Database(path)
    ensure_schema(db)
    # a database from before: sqlite-utils' triggers, which re-indexed rows given removed_at
    db["transcript_segments"].disable_fts()
    db["transcript_segments"].enable_fts(["text", "boundary_text"], create_triggers=True, tokenize=FTS_TOKENIZE)
    live, old = segments("aaaaaaaaaaa", ["alpha", "beta"]), segments("aaaaaaaaaaa", ["omega"])
    for removed_at, group in (("2026-01-01", old), (None, live)):
        texts = boundary_texts(group)
        db["transcript_segments"].insert_all(
            {"video_id": s.video_id, "start_seconds": s.start_seconds, "end_seconds": s.end_seconds, "text": s.text,
             "url": s.url, "seq": n, "boundary_text": texts[n], "removed_at": removed_at}
            for n, s in enumerate(group))
    assert "omega" in terms_of(index_instances(db.conn, "main", "transcript_segments_fts"))
    ensure_schema(db)
    assert not [t.name for t in db["transcript_segments"].triggers]
    ensure_schema(db)  # idempotent
    db.close()
    indexed = assert_index_holds_exactly_the_live_segments(path)
    assert "omega" not in terms_of(indexed) and {"alpha", "beta"} <= terms_of(indexed)
