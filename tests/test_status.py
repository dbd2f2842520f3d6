"""`talks status`: what it says (values), and when it exits 5 for monitoring."""
from __future__ import annotations

import json
import sqlite3

import pytest

from sync.cli import cli
from tests.conftest import rows, sync_snapshot

NOW = "2026-11-27T07:30:00+00:00"  # Pacific: 2026-11-26 23:30 (PST, UTC-8)


@pytest.fixture(scope="module")
def snapshot_db(tmp_path_factory):
    return sync_snapshot(tmp_path_factory.mktemp("status") / "talks.db")


@pytest.fixture
def db(snapshot_db, tmp_path):
    path = tmp_path / "talks.db"
    path.write_bytes(snapshot_db.read_bytes())
    return path


def set_runs(path, runs: list[dict]) -> None:
    """Replace the ledger with these runs (id order = time order)."""
    con = sqlite3.connect(path)
    with con:
        con.execute("DELETE FROM sync_runs")
        for n, run in enumerate(runs, 1):
            row = {"id": n, "source": "api", "requests": run.get("quota_units", 0), "rows_changed": 0, **run}
            con.execute(f"INSERT INTO sync_runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        list(row.values()))
    con.close()


def status(runner, path, *args):
    return runner.invoke(cli, ["status", "--db", str(path), "--now", NOW, *args])


def test_json_status_gives_runs_quota_by_pacific_day_and_counts(db, runner):
    set_runs(db, [
        {"started_at": "2026-11-20T03:00:00+00:00", "finished_at": "2026-11-20T03:00:01+00:00", "status": "ok",
         "quota_units": 900},
        # 2026-11-25 23:59 Pacific: the day before
        {"started_at": "2026-11-26T07:59:00+00:00", "finished_at": "2026-11-26T07:59:30+00:00", "status": "ok",
         "quota_units": 50},
        # 2026-11-26 00:00 Pacific: today's first unit
        {"started_at": "2026-11-26T08:00:00+00:00", "finished_at": "2026-11-26T08:00:12+00:00", "status": "failed",
         "quota_units": 7, "error": "quota exceeded"},
        # 2026-11-26 23:00 Pacific (already the 27th in UTC): still today
        {"started_at": "2026-11-27T07:00:00+00:00", "finished_at": "2026-11-27T07:02:03+00:00", "status": "ok",
         "quota_units": 100, "rows_changed": 4},
    ])
    result = status(runner, db, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["healthy"] is True and report["problem"] is None
    assert report["quota_day"] == "2026-11-26"
    assert report["quota_used_today"] == 107 and report["quota_limit"] == 10000
    assert report["last_success"] == "2026-11-27T07:02:03+00:00"
    assert report["last_run"] == {
        "id": 4, "started_at": "2026-11-27T07:00:00+00:00", "finished_at": "2026-11-27T07:02:03+00:00",
        "status": "ok", "kind": "sync", "source": "api", "duration_seconds": 123.0, "requests": 100,
        "quota_units": 100, "rows_changed": 4, "error": None,
    }
    assert [r["id"] for r in report["runs"]] == [4, 3, 2, 1]
    assert report["runs"][1]["error"] == "quota exceeded"
    expected = {
        "talks": rows(db, "select count(*) n from talks where removed_at is null")[0]["n"],
        "recordings": rows(db, "select count(*) n from talks where removed_at is null and video_id is not null")[0]["n"],
        "missing_recordings": len(rows(db, "select * from missing_recordings")),
        "stale_links": len(rows(db, "select * from stale_links")),
        "orphans": len(rows(db, "select * from unmatched_videos")),
        "talks_to_fix": len(rows(db, "select talk_id from missing_recordings union select talk_id from stale_links")),
        "videos": rows(db, "select count(*) n from videos where removed_at is null")[0]["n"],
    }
    assert report["counts"] == expected and expected["talks"] == 30 and expected["recordings"] == 26
    assert report["captions"] is None  # no video has a caption state yet

    text = status(runner, db)
    assert text.exit_code == 0
    assert text.output.splitlines()[0] == f"{db}: ok"
    assert "quota today (2026-11-26, Pacific): 107 of 10,000 units" in text.output
    assert "talks 30, recordings 26," in text.output
    assert "     3 2026-11-26T08:00:00+00:00 failed  api      12 s, 7 requests, 7 units, 0 rows changed: quota exceeded" \
        in text.output


def test_the_daylight_saving_pacific_day_counts_from_utc_minus_seven(db, runner):
    set_runs(db, [
        # 2026-07-01 00:30 PDT = 07:30 UTC: the 1st; 06:30 UTC is still June 30th
        {"started_at": "2026-07-01T06:30:00+00:00", "finished_at": "2026-07-01T06:30:05+00:00", "status": "ok",
         "quota_units": 3},
        {"started_at": "2026-07-01T07:30:00+00:00", "finished_at": "2026-07-01T07:30:05+00:00", "status": "ok",
         "quota_units": 5},
    ])
    report = json.loads(runner.invoke(cli, ["status", "--db", str(db), "--now", "2026-07-01T12:00:00+00:00",
                                            "--format", "json"]).output)
    assert (report["quota_day"], report["quota_used_today"]) == ("2026-07-01", 5)


@pytest.mark.parametrize("runs, max_age, problem", [
    ([{"started_at": "2026-11-27T06:00:00+00:00", "finished_at": "2026-11-27T06:00:09+00:00", "status": "ok"},
      {"started_at": "2026-11-27T07:00:00+00:00", "finished_at": "2026-11-27T07:00:02+00:00", "status": "failed",
       "error": "the Data API key is not valid"}],
     "36h", "the last sync (run 2) failed: the Data API key is not valid"),
    ([{"started_at": "2026-11-25T06:00:00+00:00", "finished_at": "2026-11-25T06:00:09+00:00", "status": "ok"}],
     "36h", "no sync succeeded within 36 h (the last success finished 2026-11-25T06:00:09+00:00)"),
    ([{"started_at": "2026-11-27T07:29:00+00:00", "finished_at": None, "status": "running"}],
     "36h", "no sync has finished yet"),
], ids=["last-failed", "too-old", "none-finished"])
def test_status_exits_5_when_unhealthy_and_says_why(db, runner, runs, max_age, problem):
    set_runs(db, runs)
    result = status(runner, db, "--max-age", max_age, "--format", "json")
    assert result.exit_code == 5, result.output
    report = json.loads(result.output)
    assert (report["healthy"], report["problem"]) == (False, problem)
    assert status(runner, db).output.splitlines()[0] == f"{db}: PROBLEM: {problem}"


def test_a_running_sync_after_a_success_is_healthy_and_max_age_is_honoured(db, runner):
    set_runs(db, [
        {"started_at": "2026-11-26T19:00:00+00:00", "finished_at": "2026-11-26T19:00:09+00:00", "status": "ok"},
        {"started_at": "2026-11-27T07:29:00+00:00", "finished_at": None, "status": "running"},
    ])
    assert status(runner, db, "--max-age", "13h").exit_code == 0
    assert status(runner, db, "--max-age", "12h").exit_code == 5
    assert status(runner, db, "--max-age", "1d").exit_code == 0


def test_caption_states_appear_once_videos_have_them(db, runner):
    con = sqlite3.connect(db)
    with con:
        con.execute("CREATE TABLE IF NOT EXISTS captions (video_id TEXT PRIMARY KEY, state TEXT)")
        con.executemany("INSERT INTO captions (video_id, state) VALUES (?, ?)",
                        [("a", "automatic"), ("b", "automatic"), ("c", "blocked"), ("d", "uploaded")])
    con.close()
    report = json.loads(status(runner, db, "--format", "json").output)
    assert report["captions"] == {"automatic": 2, "blocked": 1, "uploaded": 1}
    assert "captions: automatic 2, blocked 1, uploaded 1" in status(runner, db).output
