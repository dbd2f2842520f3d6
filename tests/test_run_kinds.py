"""Runs have a kind, and only a sync is "the last sync" (#18).

`sync_runs.kind` says what a run was: sync, backfill, captions or decision. Health
(`talks status`), the keyless rotation and re-matching ask one function
(`db.syncs.last_sync`) what the last sync is, so an organizer's pin, a caption run or
a backfill after a failed sync neither heals it nor refreshes "last success".
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess

from db.runs import open_database
from db.syncs import last_sync

from .conftest import FIXTURES, SNAPSHOT, TODAY, rows
from .datasette_process import ROOT, talks_command
from .history_repo import build_history_repo, series_versions

PAGES = ["--source", "none", "--page", str(SNAPSHOT / "webinar.md"), "--talks-page", str(SNAPSHOT / "webinar_talks.md"),
         "--today", TODAY]


def talks(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOUTUBE_")}
    return subprocess.run(talks_command(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def status(path) -> tuple[int, dict]:
    done = talks("status", "--db", str(path), "--format", "json")
    return done.returncode, json.loads(done.stdout)


def old_ledger(path, runs: list[dict]) -> None:
    """A database as a version before `sync_runs.kind` left it, holding these runs."""
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE sync_runs (id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT, status TEXT,"
                    " source TEXT, today TEXT, requests INTEGER, quota_units INTEGER, rows_changed INTEGER,"
                    " error TEXT, commit_id TEXT, commit_date TEXT)")
        for n, run in enumerate(runs, 1):
            row = {"id": n, "started_at": f"2026-11-0{n}T03:00:00+00:00", "finished_at": f"2026-11-0{n}T03:00:09+00:00",
                   **run}
            con.execute(f"INSERT INTO sync_runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        list(row.values()))
    con.close()


OLD_RUNS = [
    {"status": "ok", "source": "none", "commit_id": "c0ffee", "commit_date": "2023-09-29T10:00:00+02:00"},
    {"status": "ok", "source": "api"},
    {"status": "failed", "source": "ytdlp", "error": "yt-dlp was asked to prove it is not a bot"},
    {"status": "ok", "source": "transcripts"},
    {"status": "ok", "source": "match"},
]


def test_existing_runs_are_classified_from_what_they_hold(tmp_path):
    path = tmp_path / "talks.db"
    old_ledger(path, OLD_RUNS)
    open_database(str(path)).close()  # ensure_schema adds the column and fills it in
    kinds = [r["kind"] for r in rows(path, "SELECT kind FROM sync_runs ORDER BY id")]
    assert kinds == ["backfill", "sync", "sync", "captions", "decision"]
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE sync_runs SET kind = 'sync' WHERE id = 1")  # a kind once set is never rewritten
    con.close()
    open_database(str(path)).close()
    assert [r["kind"] for r in rows(path, "SELECT kind FROM sync_runs ORDER BY id")] == [
        "sync", "sync", "sync", "captions", "decision"]


def test_status_of_a_file_no_new_version_has_opened_reads_kinds_the_same_way(tmp_path):
    """Read-only, so not migrated: the failed keyless sync is the last sync, whatever came after."""
    path = tmp_path / "talks.db"
    old_ledger(path, OLD_RUNS)
    code, report = status(path)
    assert code == 5
    assert report["problem"] == "the last sync (run 3) failed: yt-dlp was asked to prove it is not a bot"
    assert report["last_success"] == "2026-11-02T03:00:09+00:00"  # run 2's, not the decision's
    assert [r["kind"] for r in report["runs"]] == ["decision", "captions", "sync", "sync", "backfill"]
    assert "kind" not in {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(sync_runs)")}


def test_last_sync_is_the_last_run_of_kind_sync(tmp_path):
    path = tmp_path / "talks.db"
    old_ledger(path, OLD_RUNS + [
        {"status": "interrupted", "source": "api", "error": "interrupted by SIGTERM"},
        {"status": "running", "source": "ytdlp"},
    ])
    db = open_database(str(path))
    try:
        assert (last_sync(db).id, last_sync(db).number) == (2, 1)
        assert (last_sync(db, outcome="finished").id, last_sync(db, outcome="finished").number) == (6, 3)
        assert last_sync(db, outcome="finished").run["status"] == "interrupted"
        assert last_sync(db, source="ytdlp").run is None  # its one keyless sync failed; the other still runs
        assert last_sync(db, outcome="finished", source="ytdlp").id == 3
        assert last_sync(db, before=2).run is None  # the backfill before it is no sync
        assert last_sync(db, outcome="finished", before=6).id == 3
    finally:
        db.close()


def test_after_a_failed_sync_only_a_good_sync_makes_the_archive_healthy(tmp_path):
    """A pin, a caption run and a backfill after a failed sync leave `talks status` at exit 5
    and "last success" where it was; the next good sync heals it."""
    path, repo = tmp_path / "talks.db", tmp_path / "site"
    build_history_repo(repo, series_versions()[:2])
    assert talks("sync", "--db", str(path), *PAGES, "-q").returncode == 0
    code, healthy = status(path)
    assert code == 0 and healthy["last_success"]

    missing_page = tmp_path / "no-such-page.md"
    failed = talks("sync", "--db", str(path), "--source", "none", "--page", str(missing_page), "--no-talks-page",
                   "--today", TODAY, "-q")
    assert failed.returncode == 1
    code, report = status(path)
    problem = report["problem"]
    assert code == 5 and problem.startswith("the last sync (run 2) failed: ") and str(missing_page) in problem

    others = [
        ("match", "pin", "--db", str(path), "S01E01", "1qH-FpyqXtM"),
        ("transcripts", "import", "--db", str(path), str(FIXTURES / "captions"), "-q"),
        ("backfill", "--repo", str(repo), "--db", str(path), "-q"),
    ]
    for command in others:
        done = talks(*command)
        assert done.returncode == 0, (command, done.stderr)
        code, report = status(path)
        assert (code, report["problem"], report["last_success"]) == (5, problem, healthy["last_success"]), command
        assert report["last_run"]["status"] == "ok" and report["last_run"]["kind"] != "sync"

    assert talks("sync", "--db", str(path), *PAGES, "-q").returncode == 0
    code, report = status(path)
    assert code == 0 and report["problem"] is None and report["last_success"] > healthy["last_success"]
    assert [(r["kind"], r["status"]) for r in rows(path, "SELECT kind, status FROM sync_runs ORDER BY id")] == [
        ("sync", "ok"), ("sync", "failed"), ("decision", "ok"), ("captions", "ok"),
        ("backfill", "ok"), ("backfill", "ok"), ("sync", "ok")]


def test_a_backfill_after_a_sync_leaves_the_reports_today_and_the_home_pages_last_sync(tmp_path):
    """The reports count "past" from the last sync's today: a later backfill (its today is a
    replayed commit's day, years back) must not move it, nor be shown as the last sync."""
    path, repo = tmp_path / "talks.db", tmp_path / "site"
    build_history_repo(repo, series_versions()[:2])
    assert talks("sync", "--db", str(path), *PAGES, "-q").returncode == 0
    (synced,) = rows(path, "SELECT today FROM report_today")
    assert synced == {"today": TODAY}
    assert talks("backfill", "--repo", str(repo), "--db", str(path), "-q").returncode == 0
    replayed = rows(path, "SELECT today FROM sync_runs WHERE kind = 'backfill'")
    assert replayed and all(r["today"] < TODAY for r in replayed)
    assert rows(path, "SELECT today FROM report_today") == [synced]

    import asyncio

    from datasette.app import Datasette

    from sync.site import data

    home = asyncio.run(data.home(Datasette([str(path)]).get_database()))
    assert home["last_sync"]["source"] == "none" and home["last_sync"]["started_at"] == rows(
        path, "SELECT started_at FROM sync_runs WHERE kind = 'sync'")[0]["started_at"]


def test_a_file_only_ever_backfilled_counts_from_its_last_commit(tmp_path):
    path, repo = tmp_path / "talks.db", tmp_path / "site"
    build_history_repo(repo, series_versions()[:2])
    assert talks("backfill", "--repo", str(repo), "--db", str(path), "-q").returncode == 0
    (last,) = rows(path, "SELECT today FROM sync_runs WHERE kind = 'backfill' ORDER BY id DESC LIMIT 1")
    assert rows(path, "SELECT today FROM report_today") == [last]
