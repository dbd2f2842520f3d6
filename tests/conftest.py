"""Shared fixtures: paths to real pages (tests/fixtures), a CLI runner, temporary databases."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
# Every version of the series' two pages (and index.json), copied from the organizers'
# public repository so the suite runs in any clone.
CORPUS = FIXTURES / "corpus"
SNAPSHOT = TESTS.parent / "sync" / "snapshot"
TODAY = "2026-08-11"  # the date of the newest pages in the snapshot


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def no_retry_waits(monkeypatch):
    """Retries sleep through tenacity's `execute_request.retry.sleep`: make it wait 0 s
    (a module uses it with `pytestmark = pytest.mark.usefixtures("no_retry_waits")`)."""
    from sync import youtube

    monkeypatch.setattr(youtube.execute_request.retry, "sleep", lambda seconds: None)


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "talks.db")


def sync_snapshot(path) -> str:
    """`talks sync --snapshot` into `path` (the bundled pages and playlist), checked; its path."""
    from sync.cli import cli

    result = CliRunner().invoke(cli, ["sync", "--snapshot", "--db", str(path), "-q"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def snapshot_db(db_path):
    """A fresh database synced from the bundled snapshot, for one test."""
    return sync_snapshot(db_path)


def open_db(path) -> sqlite_utils.Database:
    return sqlite_utils.Database(path)


def rows(path, sql, params=()):
    db = sqlite_utils.Database(path)
    try:
        return [dict(r) for r in db.query(sql, params)]
    finally:
        db.close()


def search_recordings(path, q: str) -> list[dict]:
    """The canned query search_recordings, as the site plugin serves it."""
    from sync.site.transcript_search import register_functions, search_recordings_query

    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    register_functions(con)
    try:
        return [dict(r) for r in con.execute(search_recordings_query()["sql"], {"q": q})]
    finally:
        con.close()


# Modules whose every test runs real processes (syncs, `talks serve`, Datasette, git) or
# replays whole histories: `slow`, like every browser test and the tests marked one by one.
PROCESS_MODULES = {
    "test_backfill", "test_dbfile", "test_deploy", "test_logs", "test_serving", "test_site_hardening",
    "test_startup", "test_transcripts_real", "test_transcripts_site",
}


def pytest_collection_modifyitems(items):
    """`pytest -m "not slow"` is the quick inner loop; `make test` runs everything."""
    for item in items:
        if item.get_closest_marker("browser") or item.module.__name__.rpartition(".")[2] in PROCESS_MODULES:
            item.add_marker(pytest.mark.slow)
