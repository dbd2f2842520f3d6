"""Reliability, end to end: faults, failures, kills, the lock, the WAL and the API key.

Every sync here reads the real pages of 2026-08-11 (tests/fixtures/pages) and a
playlist built from the real video ids those pages link, served by the Data API
stand-in (tests/apiserver.py) on 127.0.0.1. "The same database" means the same
rows in every data table, ignoring only bookkeeping that depends on when or as
which run a sync happened (first/last_seen_run, changes.run_id, the removed_at
timestamps, which are compared as set or not set).

Retry waits never really sleep in-process: the retry policy's sleep
(`youtube.execute_request.retry.sleep`, tenacity's) is replaced by a recorder.
"""
from __future__ import annotations

import copy
import datetime as dt
import fcntl
import http.server
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from db.runs import INTERRUPTED
from sync import youtube
from sync.cli import cli
from sync.core.errors import BadApiKey, FetchError, PageError, QuotaExceeded, ResponseError, TalksError
from sync.pages import parse_talks_page, parse_webinar_page
from sync.pipeline import SyncOptions, run_sync
from tests.datasette_process import serving
from tests.apiserver import (
    ApiServer,
    Fault,
    deleted_item,
    make_video,
    private_item,
    running_api_server,
    video_ids,
)

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
TALKS = FIXTURES / "pages" / "2026-08-11_dd744744_webinar_talks.md"
OLDER_WEBINAR = FIXTURES / "pages" / "2025-04-14_3f04584f_webinar.md"
TODAY = dt.date(2026, 8, 11)

# Looks like a real key (39 characters, AIza prefix), so no redaction rule can pass it by accident.
KEY = "AIzaSy.R3liab1l1ty-T3st-K3y-d0-n0t-L3ak0"  # a dot: no secret scanner mistakes it for a real key
WRONG_KEY = "AIzaSy.WR0NG-k3y-th4t-must-n0t-l3ak-3ith"

PAGE = parse_webinar_page(WEBINAR.read_text("utf-8"), str(WEBINAR))
PLAYLIST = PAGE.playlist_ids[0]
XSS_TITLE = '<script>alert("xss-4711")</script><img src=x onerror=alert(2)> & "quoted"'
XSS_VIDEO = "xSSvideo001"

DATA_TABLES = ("talks", "speakers", "talk_speakers", "videos", "playlists", "playlist_items", "matches")
RUN_BOOKKEEPING = {"first_seen_run", "last_seen_run", "checked_run"}  # checked_run: the refresh cadence's


# --------------------------------------------------------------------------- the playlist


def series_videos() -> list[dict]:
    """The series' playlist as the stand-in serves it: every video the pages link, as a
    public upload titled like the real ones, plus a private, a deleted and an extra
    video whose title and description are HTML and script."""
    talks_page_ids = [a.video_id for a in parse_talks_page(TALKS.read_text("utf-8"), str(TALKS)) if a.video_id]
    entries, seen = [], set()
    for talk in PAGE.listed:
        if talk.page_video_id and talk.page_video_id not in seen:
            seen.add(talk.page_video_id)
            speakers = " and ".join(p.name for p in talk.speakers)
            entries.append(make_video(
                talk.page_video_id,
                f"{talk.code} - {speakers} - {talk.title}",
                description=f"Datasets through the Looking-Glass, {talk.date_text}.",
                published_at=f"{talk.date or '2023-01-01'}T17:00:00Z",
                caption=talk.episode == 1,
            ))
    for video_id in talks_page_ids:
        if video_id not in seen:
            seen.add(video_id)
            entries.append(make_video(video_id, f"Talk {video_id}"))
    entries.append(make_video(XSS_VIDEO, XSS_TITLE, description="<iframe src=//example.invalid></iframe>"))
    entries.append(private_item("pRivate0001"))
    entries.append(deleted_item("dEleted0001"))
    return entries


def serve_series(server: ApiServer, extra: int = 0, version: int = 1) -> ApiServer:
    """The series playlist; `extra` filler videos make a run long; `version` 2 retitles
    every filler, drops every tenth and adds new ones (a playlist that changed)."""
    fillers = []
    for n, video_id in enumerate(video_ids(extra, "f")):
        if version == 2 and n % 10 == 0:
            continue
        fillers.append(make_video(video_id, f"Filler {n} (v{version})", description=f"v{version} " * 20))
    if version == 2:
        fillers += [make_video(v, f"New filler {v}") for v in video_ids(extra // 10, "n")]
    server.add_playlist(PLAYLIST, series_videos() + fillers)
    return server


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    # redact() also blanks $YOUTUBE_API_KEY: without it in-process, the tests show our
    # own messages and rows never carry the key in the first place.
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.delenv("YOUTUBE_API_ENDPOINT", raising=False)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The retry waits the sync asked for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(youtube.execute_request.retry, "sleep", recorded.append)
    return recorded


@pytest.fixture
def server():
    with running_api_server(KEY) as api:
        yield serve_series(api)


def sync_options(db_path, api: ApiServer, *, key=KEY, page=WEBINAR, talks=TALKS, **kw) -> SyncOptions:
    return SyncOptions(
        db_path=str(db_path),
        webinar_page=str(page),
        talks_page=str(talks) if talks else None,
        today=TODAY,
        source="api",
        api_key=key,
        api_endpoint=api.endpoint,
        **kw,
    )


def sync(db_path, api: ApiServer, **kw):
    return run_sync(sync_options(db_path, api, **kw), progress=lambda message: None)


def cli_args(db_path, *extra) -> list[str]:
    return ["sync", "--db", str(db_path), "--page", str(WEBINAR), "--talks-page", str(TALKS),
            "--today", TODAY.isoformat(), "--source", "api", *extra]


def subprocess_env(api: ApiServer, key: str = KEY) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOUTUBE_")}
    return {**env, "YOUTUBE_API_KEY": key, "YOUTUBE_API_ENDPOINT": api.endpoint, "PYTHONUNBUFFERED": "1"}


def talks_command(db_path, *extra) -> list[str]:
    """`talks sync ...` as a real process (the console script may not be on PATH)."""
    return [sys.executable, "-m", "sync", *cli_args(db_path, *extra)]


def table_rows(path, table: str, uri: bool = False) -> list[dict]:
    con = sqlite3.connect(path, uri=uri)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"SELECT * FROM [{table}]")]
    finally:
        con.close()


def _canonical(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows)


def exact_dump(path, tables=DATA_TABLES + ("changes",)) -> dict[str, list[str]]:
    """Every row of the data tables, as stored."""
    return {t: _canonical(table_rows(path, t)) for t in tables}


def content_dump(path) -> dict[str, list[str]]:
    """The data tables without run bookkeeping: what two equivalent syncs agree on."""
    out = {}
    for table in DATA_TABLES:
        rows = table_rows(path, table)
        for row in rows:
            for column in RUN_BOOKKEEPING:
                row.pop(column, None)
            row["removed_at"] = row.get("removed_at") is not None
        out[table] = _canonical(rows)
    changes = table_rows(path, "changes")
    for row in changes:
        del row["id"], row["run_id"]
        if row["column_name"] == "removed_at":
            row["old_value"], row["new_value"] = row["old_value"] is not None, row["new_value"] is not None
    out["changes"] = _canonical(changes)
    return out


def runs(path) -> list[dict]:
    return table_rows(path, "sync_runs")


def copy_db(source, target) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    assert not Path(f"{source}-wal").exists(), "copy a database whose WAL is folded"
    shutil.copyfile(source, target)


def integrity(path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


# --------------------------------------------------------------------------- the clean reference


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A clean sync into a fresh file: (path, content dump, requests it took)."""
    path = tmp_path_factory.mktemp("clean") / "talks.db"
    with running_api_server(KEY) as api:
        serve_series(api)
        report = sync(path, api)
        requests = api.count()
    assert report.requests == requests
    return path, content_dump(path), requests


def test_clean_sync_is_the_series_and_deterministic(clean, server, tmp_path):
    path, content, requests = clean
    assert len(table_rows(path, "videos")) == len(series_videos())
    matched = {r["code"] for r in table_rows(path, "matches")}
    assert matched == {t.code for t in PAGE.listed if t.page_video_id}
    sync(tmp_path / "again.db", server)
    assert content_dump(tmp_path / "again.db") == content


# --------------------------------------------------------------------------- transient faults

SLOW_TIMEOUT = 0.3

TRANSIENT = {
    "5xx-burst": [Fault.backend_error(503), Fault.backend_error(500), Fault.backend_error(502)],
    "5xx-on-videos": [Fault.backend_error(503, endpoint="videos", times=4)],
    "429-retry-after": [Fault.rate_limited(retry_after=7, times=2)],
    "403-user-rate-limit": [Fault.user_rate_limited(times=2)],
    "reset": [Fault.reset(times=2)],
    "reset-on-videos": [Fault.reset(endpoint="videos")],
    "truncated": [Fault.truncated(times=2)],
    "malformed-once": [Fault.malformed()],
    "mixed": [
        Fault.backend_error(),
        Fault.reset(endpoint="videos"),
        Fault.truncated(endpoint="videos"),
        Fault.rate_limited(retry_after=1, endpoint="videos"),
    ],
    "slow-past-timeout": [Fault.slow(delay=1.5)],
}


def _fault_params():
    for name, faults in TRANSIENT.items():
        yield pytest.param(name, faults, id=name)


@pytest.mark.parametrize("name, faults", list(_fault_params()))
def test_transient_faults_end_in_the_same_database_as_a_clean_run(name, faults, clean, server, waits, tmp_path):
    clean_path, clean_content, clean_requests = clean
    faults = copy.deepcopy(faults)  # the server counts them down
    fired = sum(f.times for f in faults)
    server.faults.extend(faults)
    path = tmp_path / "talks.db"

    # the small timeout only where a slow answer must outlive it (a loaded machine
    # could time out a normal answer after 0.3 s)
    report = sync(path, server, **({"timeout": SLOW_TIMEOUT} if name.startswith("slow") else {}))

    assert all(f.times == 0 for f in faults), "every scripted fault fired"
    assert len(waits) == fired, f"one retry per fault, none slept for real: {waits}"
    if name == "429-retry-after":
        assert waits == [7.0, 7.0], "Retry-After is honoured"
    assert content_dump(path) == clean_content
    # every attempt is counted, failed ones included
    assert report.requests == report.quota_units == clean_requests + fired == server.count()
    [run] = runs(path)
    assert run["status"] == "ok" and run["error"] is None
    assert (run["requests"], run["quota_units"]) == (report.requests, report.quota_units)


def test_transient_faults_on_a_second_sync_of_a_changed_playlist(clean, waits, tmp_path):
    """An existing archive, a playlist that changed (first page no longer 304), faults on both
    endpoints: the same database as the same second sync without faults."""
    first, faulty = tmp_path / "reference.db", tmp_path / "faulty.db"
    copy_db(clean[0], first)
    copy_db(clean[0], faulty)
    with running_api_server(KEY) as api:
        serve_series(api, extra=60, version=2)
        sync(first, api)
        api.faults += [Fault.reset(), Fault.backend_error(endpoint="videos", times=2), Fault.truncated(endpoint="videos")]
        sync(faulty, api)
    assert len(waits) == 4
    assert content_dump(faulty) == content_dump(first)
    assert [r["status"] for r in runs(faulty)] == ["ok", "ok"]


# --------------------------------------------------------------------------- permanent failures

PERMANENT = {
    "quota-at-once": ([Fault.quota_exceeded()], KEY, "quota exceeded"),
    "quota-on-videos": ([Fault.quota_exceeded(at=2)], KEY, "quota exceeded"),
    "bad-key-answer": ([Fault.bad_key(times=None)], KEY, "rejected the API key"),
    "wrong-key": ([], WRONG_KEY, "rejected the API key"),
    "malformed-json-always": ([Fault.malformed(times=None)], KEY, "malformed JSON"),
    "5xx-never-ends": ([Fault.backend_error(times=None)], KEY, "kept failing"),
    "429-never-ends": ([Fault.rate_limited(retry_after=0, times=None)], KEY, "kept failing"),
}


@pytest.mark.parametrize("faults, key, expected", PERMANENT.values(), ids=PERMANENT.keys())
def test_permanent_failures_change_no_data_and_add_one_failed_run(faults, key, expected, clean, server, waits, runner, tmp_path):
    path = tmp_path / "talks.db"
    copy_db(clean[0], path)
    before, runs_before = exact_dump(path), runs(path)
    server.faults.extend(copy.deepcopy(faults))

    result = runner.invoke(cli, cli_args(path, "-v"), env={"YOUTUBE_API_KEY": key, "YOUTUBE_API_ENDPOINT": server.endpoint})

    assert result.exit_code == 1, result.output
    [error] = error_lines(result.stderr)
    assert result.stderr.rstrip().endswith(error) and expected in error, result.stderr
    assert "\n" not in error
    assert exact_dump(path) == before
    after = runs(path)
    assert after[: len(runs_before)] == runs_before
    [failed] = after[len(runs_before):]
    assert failed["status"] == "failed" and failed["finished_at"]
    assert failed["error"] == error.removeprefix("Error: ")
    assert failed["requests"] == failed["quota_units"] == server.count() > 0
    for secret in (KEY, WRONG_KEY):
        assert secret not in result.output + result.stderr + json.dumps(after)
    assert not Path(f"{path}-wal").exists()


@pytest.mark.parametrize("faults, error_type", [
    ([Fault.quota_exceeded(at=2)], QuotaExceeded),
    ([Fault.bad_key(times=None)], BadApiKey),
    ([Fault.malformed(times=None)], ResponseError),
    ([Fault.reset(times=None)], FetchError),
    ([Fault.truncated(times=None)], FetchError),
], ids=["quota", "bad-key", "malformed", "reset", "truncated"])
def test_failure_tracebacks_and_logs_never_carry_the_key(faults, error_type, clean, server, waits, caplog, tmp_path):
    """In-process: the raised error, its whole chain (suppressed contexts included), the
    traceback as printed and every log record at DEBUG (the API client's included)."""
    path = tmp_path / "talks.db"
    copy_db(clean[0], path)
    server.faults.extend(copy.deepcopy(faults))
    caplog.set_level("DEBUG")
    with pytest.raises(error_type) as raised:
        sync(path, server)
    chain, error = [], raised.value
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    text = "".join(traceback.format_exception(raised.value))
    text += "".join(f"{e!r} {e} {getattr(e, 'args', '')}" for e in chain)
    text += caplog.text + json.dumps(runs(path))
    assert KEY not in text
    assert isinstance(raised.value, TalksError) and "\n" not in str(raised.value)


# --------------------------------------------------------------------------- bad input


def test_malformed_api_json_is_a_one_line_error_naming_the_endpoint(clean, server, waits, runner, tmp_path):
    path = tmp_path / "talks.db"
    copy_db(clean[0], path)
    before = exact_dump(path)
    server.faults.append(Fault.malformed(times=None, endpoint="videos"))
    result = runner.invoke(cli, cli_args(path), env={"YOUTUBE_API_KEY": KEY, "YOUTUBE_API_ENDPOINT": server.endpoint})
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [
        "Error: YouTube API videos answered with malformed JSON (5 attempts)."
    ], result.stderr
    assert exact_dump(path) == before


def test_a_20_mb_page_is_refused_naming_it(clean, runner, tmp_path):
    path = tmp_path / "talks.db"
    copy_db(clean[0], path)
    before = exact_dump(path)
    huge = tmp_path / "huge-webinar.md"
    line = WEBINAR.read_text("utf-8").splitlines()[-1] + "\n"
    with huge.open("w", encoding="utf-8") as out:
        out.write(WEBINAR.read_text("utf-8"))
        while out.tell() < 20 * 2**20:
            out.write(line * 1000)
    result = runner.invoke(cli, ["sync", "--db", str(path), "--page", str(huge), "--no-talks-page",
                                 "--source", "none", "--today", TODAY.isoformat()])
    assert result.exit_code == 1
    [error] = error_lines(result.stderr)
    assert str(huge) in error and "MB" in error, error
    assert exact_dump(path) == before
    assert [r["status"] for r in runs(path)] == ["ok", "failed"]


class _HugePage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/markdown; charset=utf-8")
        self.send_header("Content-Length", str(20 * 2**20))
        self.end_headers()
        chunk = b"* S01E01 - **Someone** (Somewhere). 1st May 2023. **A talk**\n" * 1000
        try:
            for _ in range(20 * 2**20 // len(chunk)):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def test_a_20_mb_page_by_url_is_refused_without_reading_it_all(tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HugePage)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/_pages/webinar.md"
    try:
        with pytest.raises(PageError) as raised:
            run_sync(SyncOptions(db_path=str(tmp_path / "t.db"), webinar_page=url, talks_page=None,
                                 today=TODAY, source="none"), progress=lambda m: None)
    finally:
        httpd.shutdown()
        httpd.server_close()
    message = str(raised.value)
    assert "\n" not in message and "MB" in message and "/_pages/webinar.md" in message
    [run] = runs(tmp_path / "t.db")
    assert run["status"] == "failed" and run["error"] == message


def test_html_and_script_are_stored_as_text(clean, server, tmp_path):
    page = tmp_path / "webinar.md"
    text = WEBINAR.read_text("utf-8")
    s01e01 = next(t for t in PAGE.listed if t.code == "S01E01")
    payload = '<script>alert("title")</script><b onmouseover="x()">'
    assert text.count(f"**{s01e01.title}**") == 1
    page.write_text(text.replace(f"**{s01e01.title}**", f"**{payload} {s01e01.title}**"), "utf-8")
    path = tmp_path / "talks.db"
    sync(path, server, page=page)
    [talk] = [r for r in table_rows(path, "talks") if r["code"] == "S01E01"]
    assert talk["title"] == f"{payload} {s01e01.title}"
    [video] = [r for r in table_rows(path, "videos") if r["video_id"] == XSS_VIDEO]
    assert video["title"] == XSS_TITLE
    assert video["description"] == "<iframe src=//example.invalid></iframe>"


# --------------------------------------------------------------------------- the lock


@pytest.mark.slow
def test_a_second_sync_exits_3_at_once_while_one_holds_the_lock(tmp_path):
    """The first sync is held on its first request until the second has answered: the
    second cannot have waited for the lock (no clock involved)."""
    path = tmp_path / "talks.db"
    with running_api_server(KEY) as api:
        serve_series(api)
        api.faults.append(Fault.held())  # the first sync waits on its first request
        first = subprocess.Popen(talks_command(path), cwd=ROOT, env=subprocess_env(api),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while api.count() == 0:  # it holds the lock and its run row is written
                assert first.poll() is None and time.monotonic() < deadline, first.communicate()
                time.sleep(0.02)
            second = subprocess.run(talks_command(path), cwd=ROOT, env=subprocess_env(api),
                                    capture_output=True, text=True, timeout=60)
            held = first.poll() is None
        finally:
            api.release()
            out, err = first.communicate(timeout=60)
    assert held, "the first sync was held all along"
    assert second.returncode == 3, second.stderr
    [error] = error_lines(second.stderr)
    assert second.stderr.strip() == error
    assert "another sync holds the lock" in error and str(path) in error
    assert first.returncode == 0, err
    assert [r["status"] for r in runs(path)] == ["ok"], "the refused sync added no run"


def test_the_lock_is_the_flock_on_the_lock_file(tmp_path):
    """Whoever holds the flock on `<db>.lock`, a sync refuses before touching the database."""
    path = tmp_path / "talks.db"
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(TalksError) as raised:
            run_sync(SyncOptions(db_path=str(path), webinar_page=str(WEBINAR), talks_page=None,
                                 today=TODAY, source="none"), progress=lambda m: None)
        assert raised.value.exit_code == 3
        assert "another sync holds the lock" in str(raised.value)
        assert not path.exists() or runs(path) == []
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- WAL


def test_a_sync_ends_with_the_wal_folded_so_an_immutable_reader_sees_every_row(server, tmp_path):
    path = tmp_path / "talks.db"
    sync(path, server)
    # a second run with changes (the older page links another playlist: keep the stand-in's)
    sync(path, server, page=OLDER_WEBINAR, playlists=(PLAYLIST,), allow_shrink=True)
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    for table in DATA_TABLES + ("changes", "sync_runs"):
        normal = table_rows(path, table)
        immutable = table_rows(f"file:{path}?immutable=1", table, uri=True)
        assert _canonical(immutable) == _canonical(normal), table
    assert [r["status"] for r in table_rows(f"file:{path}?immutable=1", "sync_runs", uri=True)] == ["ok", "ok"]


# --------------------------------------------------------------------------- kills

KILLS = 20
KILL_SEED = 20260811
KILL_FILLERS = 120  # videos beyond the series': a run long enough to kill mid-transaction


def _logged_at(log: str, message: str) -> float:
    """The epoch time of the first log line with `message` (the CLI's asctime format)."""
    for line in log.splitlines():
        if message in line:
            return dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    raise AssertionError(f"{message!r} not logged:\n{log}")


# Loaded by a child sync through PYTHONPATH: after the named step of the transaction
# returns, the process stops itself (SIGSTOP), so the test kills it at that very point of
# the transaction, by event rather than by a sleep that a busy machine stretches.
STOP_AFTER = """
import os, signal
point = os.environ.get("TALKS_TEST_STOP_AFTER")
if point:
    import sync.pipeline.run as pipeline
    original = getattr(pipeline, point)
    def stop_after(*args, **kwargs):
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGSTOP)
        return result
    setattr(pipeline, point, stop_after)
"""
TRANSACTION_STEPS = ["save_talks", "save_youtube", "rematch"]  # the last is just before the commit


@pytest.mark.slow
def test_sigkill_inside_the_transaction_leaves_the_database_as_before(tmp_path):
    """Killed after each step of the save-and-match transaction (the process stops itself
    there): the file is exactly as before the run, and the next sync completes."""
    base, work, hook = tmp_path / "base.db", tmp_path / "work.db", tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(STOP_AFTER)
    with running_api_server(KEY) as api:
        serve_series(api, extra=KILL_FILLERS, version=1)
        sync(base, api, page=OLDER_WEBINAR, playlists=(PLAYLIST,))
        serve_series(api, extra=KILL_FILLERS, version=2)
        before = exact_dump(base)
        for step in TRANSACTION_STEPS:
            copy_db(base, work)
            env = {**subprocess_env(api), "PYTHONPATH": str(hook), "TALKS_TEST_STOP_AFTER": step}
            process = subprocess.Popen(talks_command(work, "-v"), cwd=ROOT, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            _, status = os.waitpid(process.pid, os.WUNTRACED)  # returns once it has stopped itself
            assert os.WIFSTOPPED(status), (step, process.stderr.read())
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            process.stderr.close()
            assert integrity(work) == "ok"
            assert exact_dump(work) == before, f"data changed by a run killed after {step}"
            report = sync(work, api)
            assert {r["id"]: r["status"] for r in runs(work)}[report.run_id] == "ok"
            assert INTERRUPTED in [r["error"] for r in runs(work) if r["status"] == "interrupted"]


@pytest.mark.slow
def test_sigkill_just_after_the_commit_finds_the_run_ok_with_what_it_spent(tmp_path):
    """The run's end commits with its data: killed as soon as the transaction committed
    (`_run` returned), the data is the run's and its row says `ok`, with the requests and
    quota units the stand-in saw, not `running` (then interrupted, with 0 requests)."""
    path, hook = tmp_path / "talks.db", tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(STOP_AFTER)
    with running_api_server(KEY) as api:
        serve_series(api, extra=KILL_FILLERS, version=1)
        sync(path, api, page=OLDER_WEBINAR, playlists=(PLAYLIST,))
        serve_series(api, extra=KILL_FILLERS, version=2)
        before = exact_dump(path)
        api.reset_log()
        env = {**subprocess_env(api), "PYTHONPATH": str(hook), "TALKS_TEST_STOP_AFTER": "_run"}
        process = subprocess.Popen(talks_command(path, "-v"), cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), process.stderr.read()
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stderr.close()
        sent = api.count()
        assert integrity(path) == "ok" and exact_dump(path) != before
        killed = runs(path)[-1]
        assert (killed["status"], killed["requests"], killed["quota_units"]) == ("ok", sent, sent)
        sync(path, api)
        assert runs(path)[-2] == killed and all(r["status"] == "ok" for r in runs(path))


@pytest.mark.slow
def test_sigkill_at_20_moments_never_leaves_a_broken_or_partial_database(tmp_path):
    """A sync (pages of 2025-04 -> 2026-08, a playlist that changed) killed with SIGKILL at
    20 seeded moments spread over its run. After each: integrity ok, the data tables
    exactly as before or as after a complete run, and the next sync completes."""
    base, work = tmp_path / "base.db", tmp_path / "work.db"
    with running_api_server(KEY) as api:
        serve_series(api, extra=KILL_FILLERS, version=1)
        sync(base, api, page=OLDER_WEBINAR, playlists=(PLAYLIST,))
        serve_series(api, extra=KILL_FILLERS, version=2)  # the playlist as it is now
        before = exact_dump(base)
        env, command = subprocess_env(api), talks_command(work, "-v")

        # whole runs in a real process: the "after" state, how long a run takes and when its
        # transaction starts (the quicker of two, in case the machine is busy)
        timings = []
        for _ in range(2):
            copy_db(base, work)
            started, wall = time.monotonic(), time.time()
            whole = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            elapsed = time.monotonic() - started
            assert whole.returncode == 0, whole.stderr
            saving_at = min(max(_logged_at(whole.stderr, "talks.sync: saving") - wall, 0.0), elapsed)
            # the transaction itself, not the wrap-up after it: saves got fast enough that
            # the time to the process's end would put most "saving" kills after the commit
            committed = _logged_at(whole.stderr, "talks.sync: committed") - _logged_at(whole.stderr, "talks.sync: saving")
            timings.append((elapsed, saving_at, committed))
        duration = min(t for t, _, _ in timings)
        transaction = min(c for _, _, c in timings)
        after = content_dump(work)
        assert after != content_dump(base)
        sync(work, api)  # a sync is a fixed point: the next one changes nothing
        assert content_dump(work) == after

        # Half the moments spread over the whole run from its start (one in each tenth),
        # half over its save-and-match transaction, counted from the "saving" log line (so
        # a slow start on a busy machine does not push them out of it): there a kill is
        # most dangerous.
        rng = random.Random(KILL_SEED)
        half = KILLS // 2
        moments = [("start", duration * (i + rng.random()) / half) for i in range(half)]
        moments += [("saving", transaction * (i + rng.random()) / half) for i in range(KILLS - half)]
        outcomes = []
        for since, delay in moments:
            copy_db(base, work)
            log = tmp_path / "sync.log"
            with log.open("w") as stderr:
                process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
                if since == "saving":
                    deadline = time.monotonic() + 60
                    while "talks.sync: saving" not in log.read_text() and process.poll() is None:
                        assert time.monotonic() < deadline
                        time.sleep(0.002)
                time.sleep(delay)
                finished = process.poll() is not None
                if not finished:
                    os.kill(process.pid, signal.SIGKILL)
                process.wait()
            logged = log.read_text()

            assert integrity(work) == "ok"
            if exact_dump(work) == before:
                state = "before"
            else:
                assert content_dump(work) == after, f"partial data after a kill {delay:.2f} s from {since}"
                state = "after"
            if finished:
                outcome = "finished"
            elif state == "after":
                outcome = "after commit"
            elif "talks.sync: saving" in logged:
                outcome = "mid-transaction"
            else:
                outcome = "before the transaction"
            outcomes.append((since, round(delay, 2), outcome))
            killed_runs = [r["id"] for r in runs(work) if r["status"] == "running"]
            # the data and its run's end commit together: the data is there iff the run says ok
            this_run = [r["status"] for r in runs(work)[1:]]  # the base's own sync is the first
            assert this_run == ["ok"] if state == "after" else this_run in ([], ["running"]), (state, this_run)

            report = sync(work, api)  # the next sync completes with the full content
            assert content_dump(work) == after
            ledger = {r["id"]: r for r in runs(work)}
            assert ledger[report.run_id]["status"] == "ok"
            assert all(r["status"] != "running" for r in ledger.values())
            assert all(ledger[i]["status"] == "interrupted" and ledger[i]["error"] == INTERRUPTED for i in killed_runs)
            wal = Path(f"{work}-wal")
            assert not wal.exists() or wal.stat().st_size == 0
            assert len(table_rows(f"file:{work}?immutable=1", "videos", uri=True)) == len(table_rows(work, "videos"))

    counts = {kind: sum(1 for *_, o in outcomes if o == kind) for kind in
              ("before the transaction", "mid-transaction", "after commit", "finished")}
    # Where the 20 moments land depends on the machine's speed; that the transaction's
    # every step is covered is the event-driven test above.
    print(f"\nrun {duration:.2f} s, transaction {transaction:.2f} s; kills: {counts}; {sorted(outcomes)}")


# --------------------------------------------------------------------------- the key, everywhere


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{url}: HTTP {error.code}: {error.read()[:500]!r}") from None


@pytest.mark.slow
def test_the_api_key_never_reaches_the_database_logs_or_served_pages(tmp_path):
    """Real processes with -v: syncs that retry, succeed and fail (quota, endless rate
    limiting, a wrong key, an unknown playlist); then the file itself and Datasette's
    pages. (Malformed JSON and broken transfers: the in-process traceback test above.)"""
    path = tmp_path / "talks.db"
    outputs = []
    with running_api_server(KEY) as api:
        serve_series(api)

        def talks_sync(key=KEY, *extra):
            done = subprocess.run(talks_command(path, "-v", *extra), cwd=ROOT, env=subprocess_env(api, key),
                                  capture_output=True, text=True, timeout=120)
            outputs.append(done.stdout + done.stderr)
            return done

        # Retry-After: 0 keeps these real processes from sleeping between attempts
        api.faults += [Fault.rate_limited(retry_after=0), Fault.rate_limited(retry_after=0, endpoint="videos")]
        assert talks_sync().returncode == 0, outputs[-1]
        assert "retrying" in outputs[-1]  # the retries were logged
        api.faults += [Fault.quota_exceeded(at=api.count() + 2)]
        assert talks_sync().returncode == 1
        api.faults.clear()
        api.faults += [Fault.rate_limited(retry_after=0, times=None)]
        assert talks_sync().returncode == 1
        api.faults.clear()
        assert talks_sync(WRONG_KEY).returncode == 1
        assert talks_sync(KEY, "--playlist", "PLnotThere000").returncode == 1

    statuses = [r["status"] for r in runs(path)]
    assert statuses == ["ok", "failed", "failed", "failed", "failed"], statuses
    for output in outputs:
        assert "Traceback" not in output, output
        assert KEY not in output and WRONG_KEY not in output, output
    files = [p for p in tmp_path.iterdir() if p.name.startswith("talks.db")]
    for file in files:
        data = file.read_bytes()
        assert KEY.encode() not in data and WRONG_KEY.encode() not in data, file

    with serving(path, tmp_path / "datasette.log") as base:
        pages = {
            page: _get(base + page)
            for page in [
                "/", "/talks", "/talks/sync_runs", "/talks/changes", "/talks/changes?_size=max",
                "/talks/sync_runs.json?_shape=array", "/talks/changes.json?_shape=array&_size=max",
                "/talks/videos", "/talks/playlists", "/talks/talks", "/-/metadata.json",
                "/talks.json?sql=select+*+from+sync_runs",
            ]
        }
        counted = json.loads(_get(base + "/talks.json?sql=select+count(*)+n+from+videos&_shape=array"))
    for page, body in pages.items():
        assert KEY not in body and WRONG_KEY not in body, page
    assert "quota exceeded" in pages["/talks/sync_runs"]
    # the served (live) file holds every row, and HTML in a title is shown as text
    assert counted == [{"n": len(table_rows(path, "videos"))}]
    assert '<script>alert("xss-4711")' not in pages["/talks/videos"]
    assert "&lt;script&gt;alert(" in pages["/talks/videos"]
