"""Shared fixtures: paths to real pages (tests/fixtures), a CLI runner, temporary databases."""
from __future__ import annotations

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
def db_path(tmp_path):
    return str(tmp_path / "talks.db")


def open_db(path) -> sqlite_utils.Database:
    return sqlite_utils.Database(path)


def rows(path, sql, params=()):
    db = sqlite_utils.Database(path)
    try:
        return [dict(r) for r in db.query(sql, params)]
    finally:
        db.close()


def pytest_collection_modifyitems(items):
    """Browser tests start Datasette and Chromium: slow too (`pytest -m "not slow"` is the
    quick inner loop; `make test` runs everything)."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
