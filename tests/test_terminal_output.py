"""Text from the network never drives a terminal (issue 21, item 7), and odd values of the
commands' options are one sentence, never a traceback or a hang (item 9).

An API error message carrying an OSC title sequence, a carriage return, a newline that
forges a log line, a C1 CSI and a right-to-left override reaches `sync`'s error line, the
failed run's `sync_runs.error` and so `talks status`; a caption file's name reaches the
import's error lines. Real processes: stderr is no terminal, as under a scheduler.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.apiserver import Fault, TEST_KEY, api_server  # noqa: F401
from tests.conftest import SNAPSHOT, TODAY
from tests.datasette_process import ROOT, talks_command

FORGED = "2026-01-01 00:00:00,000 INFO talks.sync: sync 99 ok"
HOSTILE = f"Bad request\x1b]0;owned\x07\r\n{FORGED}\x9b2J\u202edecoy"
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e")
PAGES = ["--page", str(SNAPSHOT / "webinar.md"), "--talks-page", str(SNAPSHOT / "webinar_talks.md"), "--today", TODAY]


def talks(*args, env_extra=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOUTUBE_")}
    env.update(env_extra or {})
    return subprocess.run(talks_command(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, errors="surrogateescape")


def assert_inert(text: str) -> None:
    for char in RAW:
        assert char not in text, (char, text)
    assert not any(line.startswith(FORGED[:10]) for line in text.splitlines()), text


@pytest.fixture
def failed_sync(api_server, tmp_path):  # noqa: F811
    api_server.faults.append(Fault(status=400, reason="invalidParameter", message=HOSTILE, times=None))
    db = str(tmp_path / "talks.db")
    env = {"YOUTUBE_API_KEY": TEST_KEY, "YOUTUBE_API_ENDPOINT": api_server.endpoint}
    text = talks("sync", "--db", db, "--source", "api", *PAGES, env_extra=env)
    as_json = talks("sync", "--db", db, "--source", "api", "--log-format", "json", *PAGES, env_extra=env)
    return db, text, as_json


def test_an_api_error_message_cannot_drive_the_terminal(failed_sync):
    _, text, as_json = failed_sync
    assert text.returncode == 1
    assert_inert(text.stdout + text.stderr)
    [error] = [line for line in text.stderr.splitlines() if line.startswith("Error:")]
    assert "\\x1b]0;owned\\x07\\r\\n2026-01-01" in error and "\\x9b2J\\u202edecoy" in error  # shown, inert
    assert as_json.returncode == 1
    assert_inert(as_json.stdout + as_json.stderr)
    # (a library's own warning may precede the log: only the log's lines are JSON objects)
    lines = [json.loads(line) for line in as_json.stderr.splitlines() if line.startswith("{")]
    assert HOSTILE in lines[-1]["error"]  # JSON readers get the message back exactly


def test_a_stored_error_cannot_drive_the_terminal_through_status(failed_sync):
    db = failed_sync[0]
    shown = talks("status", "--db", db)
    assert shown.returncode == 5
    assert_inert(shown.stdout + shown.stderr)
    assert "\\x1b]0;owned" in shown.stdout
    as_json = talks("status", "--db", db, "--format", "json")
    assert_inert(as_json.stdout)
    assert HOSTILE in json.loads(as_json.stdout)["runs"][0]["error"]
    assert talks("missing", "--db", db, "--format", "csv").returncode == 0


def test_a_caption_file_name_cannot_drive_the_terminal(tmp_path):
    captions = tmp_path / "captions"
    captions.mkdir()
    (captions / "talk\x1b]0;owned\x07\r.en.vtt").write_text("WEBVTT\n")
    done = talks("transcripts", "import", str(captions), "--db", str(tmp_path / "talks.db"))
    assert done.returncode == 1
    assert_inert(done.stdout + done.stderr)
    assert "talk\\x1b]0;owned\\x07\\r.en.vtt: not named" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["status", "--max-age", "99999999999999999999d"], "longer than any age"),
    (["status", "--max-age", "1e400"], "not an age"),
    (["sync", "--snapshot", "--timeout", "1e308"], "'1e308' is not between 0.1 and 3600 seconds"),
    (["sync", "--snapshot", "--timeout", "nan"], "'nan' is not between"),
    (["sync", "--snapshot", "--deadline", "inf"], "'inf' is not between"),
])
def test_odd_option_values_are_usage_errors(tmp_path, args, message):
    done = talks(*args, "--db", str(tmp_path / "talks.db"))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_page_url_that_is_no_url_is_one_sentence(tmp_path):
    done = talks("sync", "--db", str(tmp_path / "talks.db"), "--source", "none", "--page", "http://[::1",
                 "--no-talks-page")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "Error: http://[::1 is not a valid URL (Invalid port: ':1')"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["status"], ["sync", "--snapshot"], ["missing"], ["serve", "--port", "0"]])
def test_a_database_that_is_a_fifo_is_refused_at_once(tmp_path, command):
    fifo = tmp_path / "talks.db"
    os.mkfifo(fifo)
    done = subprocess.run(talks_command(*command, "--db", str(fifo)), cwd=ROOT, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)  # it blocked for ever before
    assert done.returncode == 2
    assert "is not a regular file (a FIFO, device or socket)" in done.stderr


def test_lone_surrogates_and_controls_in_a_message_print_without_a_traceback(runner, tmp_path):
    """An argument that is not UTF-8 comes back in the error sentence: printed escaped."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())", "sync", "--source", "none",
         "--db", str(tmp_path / "talks.db"), "--no-talks-page", b"--page", b"/nowhere/\xff\x1b]0;x\x07.md"],
        cwd=ROOT, capture_output=True, timeout=60,
    )
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr and b"\x1b" not in done.stderr
    assert done.stderr.decode().splitlines()[-1] == "Error: /nowhere/\\udcff\\x1b]0;x\\x07.md: no such file"
