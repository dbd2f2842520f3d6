"""The keyless (yt-dlp) path keeps watching the videos the reports depend on (#12).

Recorded yt-dlp data (tests/recorded_ytdlp.py) stands in for YouTube; the pages are
the real ones of 2026-08-11. A recording that goes private and comes back must move
its talk into missing_recordings and out again, sync by sync.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from sync import youtube
from sync.cli import cli
from sync.core.limits import YTDLP_ROTATION
from sync.pipeline.refresh import ytdlp_recheck
from sync.pages import parse_webinar_page

from .conftest import FIXTURES, open_db, rows
from .recorded_ytdlp import REFUSALS, recorded_ydl_factory

WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
TALKS = FIXTURES / "pages" / "2026-08-11_dd744744_webinar_talks.md"
YT_PLAYLIST = "PLdtlgSeries01"
OUTSIDE = "ZKkgiQinQPM"  # S09E03's recording: the page links it, the playlist does not hold it
IN_PLAYLIST = "S01E01aaaaa"
MISSING = "1qH-FpyqXtM"  # S01E02: the page links it, YouTube has no such video


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.delenv("YOUTUBE_API_ENDPOINT", raising=False)


def keyless_sync(monkeypatch, db_path, private=(), hang=(), extra=(), exit_code=0, unavailable=()):
    factory = recorded_ydl_factory(stand_in_for_unknown=True, private=private, hang=hang,
                                   refusals={v: REFUSALS["unavailable"] for v in (MISSING, *unavailable)})
    monkeypatch.setattr(youtube, "default_ydl_factory", factory)
    result = CliRunner().invoke(cli, ["sync", "--db", str(db_path), "--page", str(WEBINAR), "--talks-page", str(TALKS),
                                      "--today", "2026-08-11", "--source", "ytdlp", "--playlist", YT_PLAYLIST, *extra])
    assert result.exit_code == exit_code, result.output + result.stderr
    if exit_code:
        return [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    return {u.rsplit("=", 1)[1] for u in factory.calls if "watch?v=" in u}


def availability(db_path, video_id):
    return rows(db_path, "SELECT availability FROM videos WHERE video_id = ?", [video_id])[0]["availability"]


def missing_codes(db_path):
    return {r["code"] for r in rows(db_path, "SELECT code FROM missing_recordings")}


def test_a_page_linked_recording_going_private_and_back_moves_its_talk_in_and_out_of_missing(tmp_path, monkeypatch):
    db_path = tmp_path / "talks.db"
    keyless_sync(monkeypatch, db_path)
    assert availability(db_path, OUTSIDE) == "public" and "S09E03" not in missing_codes(db_path)

    asked = keyless_sync(monkeypatch, db_path, private={OUTSIDE})
    assert OUTSIDE in asked
    assert availability(db_path, OUTSIDE) == "private" and "S09E03" in missing_codes(db_path)

    asked = keyless_sync(monkeypatch, db_path)
    assert OUTSIDE in asked
    assert availability(db_path, OUTSIDE) == "public" and "S09E03" not in missing_codes(db_path)
    # the title seen while it was public survived the private spell
    assert rows(db_path, "SELECT title FROM videos WHERE video_id = ?", [OUTSIDE])[0]["title"] == f"Recording {OUTSIDE}"


def test_yt_dlp_tells_a_known_video_deleted_from_an_id_never_found(tmp_path, monkeypatch):
    """"Video unavailable" of a video YouTube described before: deleted (what the Data API
    cannot tell from private); of an id never seen: not found, a broken link."""
    db_path = tmp_path / "talks.db"
    keyless_sync(monkeypatch, db_path)
    assert availability(db_path, OUTSIDE) == "public" and availability(db_path, MISSING) == "not_found"

    keyless_sync(monkeypatch, db_path, unavailable={OUTSIDE})

    assert availability(db_path, OUTSIDE) == "deleted" and availability(db_path, MISSING) == "not_found"
    reasons = {r["code"]: r["reason"] for r in rows(db_path, "SELECT code, reason FROM missing_recordings")}
    assert reasons["S09E03"] == "deleted" and reasons["S01E02"] == "broken_link"
    assert "S09E03" not in {r["code"] for r in rows(db_path, "SELECT code FROM stale_links")}


def test_a_playlist_video_going_private_and_back_is_seen_each_time(tmp_path, monkeypatch):
    db_path = tmp_path / "talks.db"
    keyless_sync(monkeypatch, db_path)
    assert availability(db_path, IN_PLAYLIST) == "public"
    keyless_sync(monkeypatch, db_path, private={IN_PLAYLIST})
    assert availability(db_path, IN_PLAYLIST) == "private"
    asked = keyless_sync(monkeypatch, db_path)
    assert IN_PLAYLIST in asked  # not public when last seen: looked at again
    assert availability(db_path, IN_PLAYLIST) == "public"
    changes = rows(db_path, "SELECT new_value FROM changes WHERE table_name = 'videos' AND column_name = 'availability'"
                            " AND row_key = ? ORDER BY id", [IN_PLAYLIST])
    assert [c["new_value"] for c in changes] == ["public", "private", "public"]


def test_the_rest_is_refreshed_on_a_rotation_that_covers_every_video(tmp_path, monkeypatch):
    """Videos nothing reports on are re-checked YTDLP_ROTATION at a time, each within ceil(n / YTDLP_ROTATION) syncs."""
    db_path = tmp_path / "talks.db"
    keyless_sync(monkeypatch, db_path)
    db = open_db(db_path)
    try:
        fillers = [f"z{n:010d}" for n in range(2 * YTDLP_ROTATION + 7)]
        db["videos"].insert_all([{"video_id": v, "title": "x", "availability": "public"} for v in fillers])
        seen: set[str] = set()
        for run in range(3):
            db["sync_runs"].insert({"source": "ytdlp", "status": "ok"})
            turn = set(ytdlp_recheck(db, [])) & set(fillers)
            assert len(turn) <= YTDLP_ROTATION
            seen |= turn
        assert seen == set(fillers)
    finally:
        db.close()


def test_the_rotation_moves_on_only_after_a_keyless_sync_succeeded(tmp_path, monkeypatch):
    """A keyless sync that failed or was interrupted re-checked nothing for good (its run
    rolled back): the next one takes the same turn. Other runs do not move it either."""
    db_path = tmp_path / "talks.db"
    keyless_sync(monkeypatch, db_path)
    db = open_db(db_path)
    try:
        fillers = [f"z{n:010d}" for n in range(2 * YTDLP_ROTATION + 7)]
        db["videos"].insert_all([{"video_id": v, "title": "x", "availability": "public"} for v in fillers])
        turn = ytdlp_recheck(db, [])
        for run in ({"source": "ytdlp", "status": "failed"}, {"source": "ytdlp", "status": "interrupted"},
                    {"source": "ytdlp", "status": "running"}, {"source": "api", "status": "ok", "kind": "sync"},
                    {"source": "transcripts", "status": "ok", "kind": "captions"}):
            db["sync_runs"].insert(run)
            assert ytdlp_recheck(db, []) == turn, run
        db["sync_runs"].insert({"source": "ytdlp", "status": "ok", "kind": "sync"})
        following = ytdlp_recheck(db, [])
        rotated = set(turn[-YTDLP_ROTATION:])
        assert len(rotated) == YTDLP_ROTATION and not rotated & set(following[-YTDLP_ROTATION:])
    finally:
        db.close()


DATA = ["talks", "videos", "playlists", "playlist_items", "matches", "changes"]


def dump(db_path):
    return {t: rows(db_path, f"SELECT * FROM [{t}] ORDER BY 1, 2") for t in DATA}


def test_yt_dlp_hanging_on_videos_is_cut_off_per_video_and_stops_after_three(tmp_path, monkeypatch):
    db_path = tmp_path / "talks.db"
    keyless_sync(monkeypatch, db_path, extra=["--source", "none"])
    before = dump(db_path)
    hang = {"S01E01aaaaa", "S01E03ccccc", "S02E01eeeee"}  # the playlist's available videos, asked first
    errors = keyless_sync(monkeypatch, db_path, hang=hang, extra=["--timeout", "0.2"], exit_code=1)
    assert errors == ["Error: yt-dlp failed on 3 videos in a row; stopped. Last: yt-dlp gave no metadata for video "
                      "S02E01eeeee: yt-dlp ran past its deadline of 0.8 s (4 x --timeout)."]
    assert dump(db_path) == before
    run = rows(db_path, "SELECT status, requests FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert run == {"status": "failed", "requests": 1 + 3}


def test_the_sync_deadline_ends_a_keyless_sync_cleanly(tmp_path, monkeypatch):
    db_path = tmp_path / "talks.db"
    keyless_sync(monkeypatch, db_path, extra=["--source", "none"])
    before = dump(db_path)
    errors = keyless_sync(monkeypatch, db_path, hang={"S01E01aaaaa"}, extra=["--deadline", "1"], exit_code=1)
    assert errors == ["Error: the sync ran past its deadline of 1 s (--deadline); nothing was changed."]
    assert dump(db_path) == before
    run = rows(db_path, "SELECT status, requests FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert run == {"status": "failed", "requests": 2}  # the listing and the video it hung on
    keyless_sync(monkeypatch, db_path)  # the lock was released
