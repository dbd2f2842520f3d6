"""`talks transcripts import`: caption files into segments and caption state, re-imports, bad files."""
from __future__ import annotations

import shutil

from sync.cli import cli

from .conftest import FIXTURES, rows, search_recordings

CAPTIONS = FIXTURES / "captions"


def import_dir(runner, db_path, directory):
    return runner.invoke(cli, ["transcripts", "import", str(directory), "--db", db_path])


def test_import_stores_segments_and_caption_state(runner, snapshot_db):
    result = import_dir(runner, snapshot_db, CAPTIONS)
    assert result.exit_code == 0, result.output
    assert "captions: 3 fetched, 0 unchanged, 0 none, 0 blocked" in result.output
    segments = rows(snapshot_db, "select video_id, seq, start_seconds, end_seconds, text, url, boundary_text, removed_at"
                                 " from transcript_segments where video_id = 'VlHRsMC96y0' order by seq")
    assert segments == [
        {"video_id": "VlHRsMC96y0", "seq": 0, "start_seconds": 60.0, "end_seconds": 64.8,
         "text": "so annotation cost is the main problem with label",
         "url": "https://www.youtube.com/watch?v=VlHRsMC96y0&t=59s",
         "boundary_text": "the main problem with label\nnoise in radiology reports",
         "removed_at": None},
        {"video_id": "VlHRsMC96y0", "seq": 1, "start_seconds": 66.5, "end_seconds": 68.8,
         "text": "noise in radiology reports", "url": "https://www.youtube.com/watch?v=VlHRsMC96y0&t=65s",
         "boundary_text": None, "removed_at": None},
    ]
    state = rows(snapshot_db, "select video_id, state, language, track, format, source, segments, attempts, last_error,"
                              " next_check_at > checked_at as later from captions order by video_id")
    assert state == [
        {"video_id": "VlHRsMC96y0", "state": "automatic", "language": "en", "track": "en-orig", "format": "vtt",
         "source": "import", "segments": 2, "attempts": 1, "last_error": None, "later": 1},
        {"video_id": "Z_wULE3_exE", "state": "uploaded", "language": "en", "track": "en", "format": "vtt",
         "source": "import", "segments": 4, "attempts": 1, "last_error": None, "later": 1},
        {"video_id": "hDKuw28ATe4", "state": "automatic", "language": "en", "track": "en-orig", "format": "json3",
         "source": "import", "segments": 2, "attempts": 1, "last_error": None, "later": 1},
    ]
    run = rows(snapshot_db, "select source, status from sync_runs order by id desc limit 1")
    assert run == [{"source": "transcripts", "status": "ok"}]


def test_search_is_stemmed_accent_free_and_finds_phrases_across_segments(runner, snapshot_db):
    assert import_dir(runner, snapshot_db, CAPTIONS).exit_code == 0
    hit = search_recordings(snapshot_db, "fairness")  # the captions say "fair"
    # the link opens a second before the matched word ("fair" at 2.6 s), not the segment (1.2 s)
    assert [(h["code"], h["link"]) for h in hit] == [("S01E01", "https://youtu.be/hDKuw28ATe4?t=1")]
    assert "**fair**" in hit[0]["text"]
    hit = search_recordings(snapshot_db, "jimenez spurious correlations")
    assert [(h["code"], h["speakers"], h["link"]) for h in hit] == [
        ("S04E01", "Jessica Schrouff", "https://youtu.be/Z_wULE3_exE?t=9")]
    assert hit[0]["text"] == ">> A shortcut is a **spurious** **correlation**, as **Jiménez** showed."
    # "label" ends one segment and "noise" starts the next, after a pause: found once, at the first,
    # linked a second before "label" (63.8 s)
    hit = search_recordings(snapshot_db, "label noise")
    assert [(h["code"], h["start_seconds"], h["link"]) for h in hit] == [
        ("S03E01", 60.0, "https://youtu.be/VlHRsMC96y0?t=62")]
    assert "**label** **noise**" in hit[0]["text"]
    # a word that starts the next segment is that segment's hit only, not the boundary's
    assert [h["start_seconds"] for h in search_recordings(snapshot_db, "noise")] == [66.5]
    assert search_recordings(snapshot_db, "") == [] and search_recordings(snapshot_db, '"') == []


def test_reimport_unchanged_changes_nothing_changed_captions_replace_segments(runner, snapshot_db, tmp_path):
    assert import_dir(runner, snapshot_db, CAPTIONS).exit_code == 0
    changes_before = rows(snapshot_db, "select count(*) n from changes where table_name = 'transcript_segments'")
    result = import_dir(runner, snapshot_db, CAPTIONS)
    assert "captions: 0 fetched, 3 unchanged" in result.output
    assert rows(snapshot_db, "select count(*) n from changes where table_name = 'transcript_segments'") == changes_before
    assert rows(snapshot_db, "select count(*) n from transcript_segments") == [{"n": 8}]

    edited = tmp_path / "edited"
    edited.mkdir()
    text = (CAPTIONS / "hDKuw28ATe4.en-orig.json3").read_text().replace("genuine", "real")
    (edited / "hDKuw28ATe4.en-orig.json3").write_text(text)
    result = import_dir(runner, snapshot_db, edited)
    assert "captions: 1 fetched, 0 unchanged" in result.output
    live = rows(snapshot_db, "select text from transcript_segments where video_id = 'hDKuw28ATe4'"
                             " and removed_at is null order by seq")
    assert [r["text"] for r in live] == ["today we talk about fair models and the datasets behind them",
                                        "equipoise means real uncertainty among clinicians"]
    old = rows(snapshot_db, "select count(*) n from transcript_segments where video_id = 'hDKuw28ATe4'"
                            " and removed_at is not null")
    assert old == [{"n": 2}]  # kept, never deleted
    run_id = rows(snapshot_db, "select max(id) id from sync_runs")[0]["id"]
    ledger = rows(snapshot_db, "select table_name, row_key, column_name, old_value, new_value from changes"
                               " where run_id = ? and column_name in ('segments') order by id", [run_id])
    assert ledger == [
        {"table_name": "transcript_segments", "row_key": "hDKuw28ATe4", "column_name": "segments",
         "old_value": "2", "new_value": "2"},
    ]
    assert rows(snapshot_db, "select count(*) n from changes where run_id = ? and column_name = 'content_hash'",
                [run_id]) == [{"n": 1}]
    assert search_recordings(snapshot_db, "genuine") == []
    assert [h["code"] for h in search_recordings(snapshot_db, "real")] == ["S01E01"]


def test_a_bad_file_is_one_error_line_and_the_rest_is_loaded(runner, snapshot_db, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(CAPTIONS, folder)
    (folder / "abcdefghijk.en.vtt").write_text("<html>sign in</html>")
    (folder / "notes.en.json3").write_text("{}")
    (folder / "README.txt").write_text("not a caption file, not named like one: ignored")
    result = import_dir(runner, snapshot_db, folder)
    assert result.exit_code == 0  # the good files loaded: the bad ones are named, not fatal
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert sorted(errors) == [
        f"Error: {folder / 'abcdefghijk.en.vtt'}: not a WebVTT caption file (no WEBVTT header)",
        f"Error: {folder / 'notes.en.json3'}: not named <video_id>.<lang>.json3 or <video_id>.<lang>.vtt",
    ]
    assert "captions: 3 fetched" in result.output
    assert rows(snapshot_db, "select count(*) n from transcript_segments where video_id = 'abcdefghijk'") == [{"n": 0}]
    assert rows(snapshot_db, "select count(*) n from captions") == [{"n": 3}]
    # nothing loadable at all: exit 1
    (folder / "only").mkdir()
    (folder / "only" / "abcdefghijk.en.vtt").write_text("<html>sign in</html>")
    assert import_dir(runner, snapshot_db, folder / "only").exit_code == 1


def test_best_file_per_video_wins(runner, snapshot_db, tmp_path):
    folder = tmp_path / "both"
    folder.mkdir()
    shutil.copy(CAPTIONS / "hDKuw28ATe4.en-orig.json3", folder)
    # An uploaded English track for the same video beats the automatic one.
    (folder / "hDKuw28ATe4.en.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nUploaded words.\n")
    assert import_dir(runner, snapshot_db, folder).exit_code == 0
    assert rows(snapshot_db, "select state, track, format, segments from captions") == [
        {"state": "uploaded", "track": "en", "format": "vtt", "segments": 1}]


def test_help_teaches(runner):
    result = runner.invoke(cli, ["transcripts", "import", "--help"])
    assert "<video_id>.<lang>.json3" in result.output
    result = runner.invoke(cli, ["transcripts", "fetch", "--help"])
    assert "--max-videos" in result.output and "bot wall" in result.output


def test_a_query_matching_very_many_segments_takes_the_newest_unranked(runner, snapshot_db, monkeypatch):
    """Past FREQUENT matches bm25 is skipped (ranking a million costs seconds): the newest
    matches come first, and their links still open at the matched word."""
    from sync.site import transcript_search

    assert import_dir(runner, snapshot_db, CAPTIONS).exit_code == 0
    ranked = search_recordings(snapshot_db, "the")
    newest = rows(snapshot_db, "select id, video_id, start_seconds from transcript_segments"
                               " where text like '% the %' or text like 'the %' order by id desc")
    monkeypatch.setattr(transcript_search, "FREQUENT", 2)
    unranked = search_recordings(snapshot_db, "the")
    assert sorted(h["start_seconds"] for h in unranked) == sorted(h["start_seconds"] for h in ranked)
    assert [h["start_seconds"] for h in unranked] != [h["start_seconds"] for h in ranked]  # another order...
    # ... the newest segments' (rows written last), video by video as the hits are listed
    assert {h["video_id"] for h in unranked} == {r["video_id"] for r in newest}
    assert all(h["link"] == r for h, r in zip(sorted(unranked, key=lambda h: h["start_seconds"]),
                                              [h["link"] for h in sorted(ranked, key=lambda h: h["start_seconds"])]))
