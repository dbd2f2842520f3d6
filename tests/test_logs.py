"""What `talks sync` prints where no terminal is attached (cron, systemd, CI): quiet
text by default, or one JSON object a line with --log-format json. Real processes,
so stderr is not a terminal, as under a scheduler."""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import warnings

from tests.apiserver import make_video, running_api_server
from tests.conftest import SNAPSHOT, TODAY
from tests.datasette_process import ROOT, talks_command

KEY = "AIzaSy.TESTKEY-logs-0123456789abcdefghij"  # a dot: no secret scanner mistakes it for a real key
PAGES = ["--source", "none", "--page", str(SNAPSHOT / "webinar.md"), "--talks-page", str(SNAPSHOT / "webinar_talks.md"),
         "--today", TODAY]


def talks(*args, key: str | None = None, endpoint: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOUTUBE_")}
    if key:
        env["YOUTUBE_API_KEY"] = key
    if endpoint:
        env["YOUTUBE_API_ENDPOINT"] = endpoint
    return subprocess.run(talks_command(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]  # fails on any line that is not JSON


def ledger(path) -> dict:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return dict(con.execute("SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone())
    finally:
        con.close()


def test_json_logs_are_one_object_a_line_with_steps_and_the_runs_counts(tmp_path):
    path = tmp_path / "talks.db"
    done = talks("sync", "--db", str(path), *PAGES, "--log-format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    lines = json_lines(done.stderr)
    assert [line.get("step") for line in lines] == ["reading pages", "saving", "matching recordings", "done"]
    for line in lines:
        moment = dt.datetime.fromisoformat(line["time"])
        assert moment.utcoffset() == dt.timedelta(0)
        assert abs(dt.datetime.now(dt.timezone.utc) - moment) < dt.timedelta(minutes=10)
        assert line["level"] == "INFO" and line["logger"] == "talks.sync"
    run = ledger(path)
    assert run["status"] == "ok"
    assert lines[-1]["message"] == f"sync {run['id']} ok (none)" and lines[-1]["run_id"] == run["id"]
    assert lines[-1]["counts"] == {
        "talks_seen": run["talks_seen"], "videos_seen": 0, "rows_changed": run["rows_changed"],
        "requests": 0, "quota_units": 0,
    }
    assert run["talks_seen"] == 30 and run["rows_changed"] > 0

    again = talks("sync", "--db", str(path), *PAGES, "--log-format", "json", "-q")
    assert again.returncode == 0 and again.stdout == again.stderr == ""  # -q: nothing when all is well


def test_a_failed_sync_is_one_json_error_object_with_the_sentence_and_no_key(tmp_path):
    path = tmp_path / "talks.db"
    missing_page = tmp_path / f"no-such-page-{KEY}.md"
    done = talks("sync", "--db", str(path), "--source", "none", "--page", str(missing_page), "--no-talks-page",
                 "--today", TODAY, "--log-format", "json", key=KEY)
    assert done.returncode == 1
    lines = json_lines(done.stderr)
    error = lines[-1]
    assert (error["level"], error["step"]) == ("ERROR", "failed")
    assert error["error"] == error["message"] and str(tmp_path) in error["error"]
    assert error["counts"] == {"requests": 0, "quota_units": 0}
    assert ledger(path)["error"] == error["error"]
    assert KEY not in done.stderr and "REDACTED" in error["error"]


def test_a_database_error_is_a_json_error_object_too(tmp_path):
    path = tmp_path / "talks.db"
    path.write_text("not a database\n" * 100)
    done = talks("sync", "--db", str(path), *PAGES, "--log-format", "json")
    assert done.returncode == 1
    [error] = json_lines(done.stderr)
    assert error["level"] == "ERROR" and str(path) in error["error"] and "not a database" in error["error"]


def test_text_logs_away_from_a_terminal_are_quiet_unless_something_is_wrong(tmp_path):
    path = tmp_path / "talks.db"
    done = talks("sync", "--db", str(path), *PAGES)
    assert done.returncode == 0
    assert done.stderr == ""  # no step lines under cron
    run = ledger(path)
    assert done.stdout == (f"sync {run['id']} ok (none): 30 talks, 0 videos, {run['rows_changed']} rows changed, "
                           "0 requests, 0 quota units\n")
    verbose = talks("sync", "--db", str(path), *PAGES, "-v")
    steps = [line.split(" talks.sync: ", 1)[1] for line in verbose.stderr.splitlines() if " INFO talks.sync: " in line]
    assert steps == ["reading pages", "saving", "matching recordings"]
    quiet = talks("sync", "--db", str(path), *PAGES, "-q")
    assert quiet.returncode == 0 and quiet.stdout == quiet.stderr == ""
    failed = talks("sync", "--db", str(path), "--source", "none", "--page", str(tmp_path / "nope.md"),
                   "--no-talks-page", "--today", TODAY, "-q")
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.splitlines() == [f"Error: {ledger(path)['error']}"]


def test_an_api_sync_is_as_quiet_and_its_json_logs_as_clean_as_any(tmp_path):
    # google-api-core warns on import once a Python nears or passes Google's support dates
    # (3.10 today): unfiltered, a healthy nightly on 3.10 printed it every run, and its
    # JSON logs got a line that is not JSON.
    with running_api_server(KEY) as api:
        api.add_playlist("PLlogs", [make_video("aaaaaaaaaaa", "S01E01 - A talk")])
        api_args = ["--source", "api", "--playlist", "PLlogs", *PAGES[2:]]
        path = tmp_path / "talks.db"
        text = talks("sync", "--db", str(path), *api_args, key=KEY, endpoint=api.endpoint)
        assert text.returncode == 0, text.stderr
        assert text.stderr == ""
        assert text.stdout.startswith("sync 1 ok (api): 30 talks, ") and ", 2 requests, " in text.stdout
        logged = talks("sync", "--db", str(path), *api_args, "--log-format", "json", key=KEY, endpoint=api.endpoint)
    assert logged.returncode == 0, logged.stderr
    lines = json_lines(logged.stderr)
    assert lines[-1]["step"] == "done" and lines[-1]["counts"]["requests"] == 2


def test_googles_python_support_notices_are_not_shown():
    from sync.youtube._client import load_client_modules

    load_client_modules()  # before google.api_core's first import: it warns as it loads
    from google.api_core import _python_version_support as support

    with warnings.catch_warnings(record=True) as shown:
        # every Python is past Google's support on this day, and nearing it before
        for day in (dt.date(2099, 1, 1), dt.date(2029, 8, 1)):
            status = support.check_python_version(package="google.api_core", today=day)
            assert status != support.PythonVersionStatus.PYTHON_VERSION_SUPPORTED
        warnings.warn("any other warning", FutureWarning)
    assert [str(w.message) for w in shown] == ["any other warning"]
