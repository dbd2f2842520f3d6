"""Defects found in review (issue #12.3), each through the CLI or the public writers."""
from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils
import yaml

from db.schema import ensure_schema
from db.store import RunContext, mark_removed, save_row
from sync.cli import cli

from .conftest import FIXTURES, rows

ROOT = FIXTURES.parent.parent
WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
ANNOUNCEMENT = """#### Next webinar: Federated data
Date: **8th June 2026**

Speakers:

* **Kwame Mensah** - University of Ghana, Ghana
Title: Federated learning across hospitals without sharing data

"""


def sync(runner, db_path, page, today="2026-08-11"):
    result = runner.invoke(cli, ["sync", "--db", db_path, "--page", str(page), "--no-talks-page",
                                 "--today", today, "--source", "none", "-q"])
    assert result.exit_code == 0, (result.output, result.exc_info)


def announcing_page(tmp_path):
    page = tmp_path / "announced.md"
    page.write_text(WEBINAR.read_text("utf-8").replace("#### Previous talks:", ANNOUNCEMENT + "#### Previous talks:"),
                    "utf-8")
    return page


def upcoming_calendar(db_path) -> list[str]:
    """The rows of metadata.yml's upcoming_talks query (the iCalendar feed)."""
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text("utf-8"))
    sql = metadata["databases"]["talks"]["queries"]["upcoming_talks"]["sql"]
    return [r["event_dtstart"] for r in rows(db_path, sql)]


def test_the_calendar_counts_from_the_reports_today_whatever_runs_since(runner, db_path):
    sync(runner, db_path, WEBINAR, today="2024-06-01")
    calendar = upcoming_calendar(db_path)
    # the listed talks after 2024-06-01 (the upcoming ones have no date: TBA)
    assert calendar == sorted(r["date"] for r in rows(
        db_path, "SELECT date FROM talks WHERE status = 'listed' AND date >= '2024-06-01'"))
    assert len(calendar) == 12
    missing = rows(db_path, "SELECT * FROM missing_recordings")
    # a decision is a run without a today: neither the calendar nor the reports move
    result = runner.invoke(cli, ["match", "reject", "--db", db_path, "S01E01", "hDKuw28ATe4"])
    assert result.exit_code == 0, result.output
    assert upcoming_calendar(db_path) == calendar
    assert rows(db_path, "SELECT * FROM missing_recordings") == missing
    assert rows(db_path, "SELECT today FROM report_today") == [{"today": "2024-06-01"}]


def test_a_vanished_announcement_was_last_seen_by_the_run_that_showed_it(runner, db_path, tmp_path):
    sync(runner, db_path, announcing_page(tmp_path), today="2026-05-01")
    sync(runner, db_path, WEBINAR)
    [kwame] = rows(db_path, "SELECT id, status, first_seen_run, last_seen_run, removed_at IS NOT NULL AS removed"
                            " FROM talks WHERE speakers = 'Kwame Mensah'")
    assert kwame == {"id": kwame["id"], "status": "unlisted", "first_seen_run": 1, "last_seen_run": 1, "removed": 1}


def test_speakers_of_no_live_talk_get_removed_at_and_lose_it_when_they_return(runner, db_path, tmp_path):
    announced = announcing_page(tmp_path)
    sync(runner, db_path, announced, today="2026-05-01")
    sync(runner, db_path, WEBINAR)
    speakers = "SELECT name, last_seen_run, removed_at IS NOT NULL AS removed FROM speakers"
    assert rows(db_path, speakers + " WHERE name = 'Kwame Mensah'") == [
        {"name": "Kwame Mensah", "last_seen_run": 1, "removed": 1}]
    assert rows(db_path, speakers + " WHERE removed_at IS NOT NULL") == [
        {"name": "Kwame Mensah", "last_seen_run": 1, "removed": 1}]
    assert rows(db_path, "SELECT column_name, old_value FROM changes WHERE table_name = 'speakers' AND run_id = 2") \
        == [{"column_name": "removed_at", "old_value": None}]
    sync(runner, db_path, announced)  # announced again
    assert rows(db_path, speakers + " WHERE name = 'Kwame Mensah'") == [
        {"name": "Kwame Mensah", "last_seen_run": 3, "removed": 0}]


@pytest.mark.parametrize("written", ["s3e2", "S3E2", "S0302", "[S03E02]", " S03E02 "])
def test_match_pin_takes_a_code_as_people_write_it(runner, db_path, written):
    sync(runner, db_path, WEBINAR)
    result = runner.invoke(cli, ["match", "pin", "--db", db_path, written, "58njMnrzfX8"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("pinned 58njMnrzfX8 for S03E02")
    assert rows(db_path, "SELECT code, video_id, action FROM match_decisions") == [
        {"code": "S03E02", "video_id": "58njMnrzfX8", "action": "pin"}]


def test_match_pin_of_no_code_is_one_sentence(runner, db_path):
    sync(runner, db_path, WEBINAR)
    result = runner.invoke(cli, ["match", "pin", "--db", db_path, "episode 2", "58njMnrzfX8"])
    assert result.exit_code == 1
    assert result.stderr == "Error: 'episode 2' is not an episode code (like S03E02)\n"


def test_mark_removed_reads_its_rows_before_writing(tmp_path, monkeypatch):
    """No row is updated while the query over the table is still being read (undefined in
    SQLite: rows may be skipped or seen twice); every unseen row is removed once."""
    db = sqlite_utils.Database(tmp_path / "t.db")
    ensure_schema(db)
    run = RunContext(1, "2026-01-01T00:00:00+00:00")
    for i in range(60):
        save_row(db, run, "playlist_items", {"playlist_id": "PL", "video_id": f"v{i:010d}", "position": i})
    reading = []

    def rows_where(self, *args, **kwargs):
        reading.append(True)
        try:
            yield from original_rows_where(self, *args, **kwargs)
        finally:  # exhausted or dropped (Table.get reads one row)
            reading.pop()

    def update(self, *args, **kwargs):
        assert not reading, "update under a live cursor"
        return original_update(self, *args, **kwargs)

    original_rows_where, original_update = sqlite_utils.db.Table.rows_where, sqlite_utils.db.Table.update
    monkeypatch.setattr(sqlite_utils.db.Table, "rows_where", rows_where)
    monkeypatch.setattr(sqlite_utils.db.Table, "update", update)
    removed = mark_removed(db, RunContext(2, "2026-01-02T00:00:00+00:00"), "playlist_items",
                           [f"PL/v{i:010d}" for i in range(0, 60, 2)], "playlist_id = ?", ["PL"])
    assert removed == [f"PL/v{i:010d}" for i in range(1, 60, 2)]
    assert db.execute("SELECT count(*) FROM playlist_items WHERE removed_at IS NOT NULL").fetchone() == (30,)
    assert db.execute("SELECT count(*) FROM changes WHERE column_name = 'removed_at'").fetchone() == (30,)


def test_report_today_is_one_view_the_others_read():
    from db.schema import VIEWS

    assert list(VIEWS)[0] == "report_today"
    for name, sql in VIEWS.items():
        # talk_history joins sync_runs for a change's commit and date, never for a today
        assert "sync_runs" not in sql or name == "report_today" or "today" not in sql, name
    con = sqlite3.connect(":memory:")
    db = sqlite_utils.Database(con)
    ensure_schema(db)
    assert con.execute("SELECT today = date('now') FROM report_today").fetchone() == (1,)
