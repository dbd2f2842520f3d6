"""Stopping is clean (#18): SIGTERM (what systemd and CI send, on timeout too) and SIGINT
(Ctrl-C) end a run like an interruption, not like a kill.

The open transaction rolls back, the run row says `interrupted` with the requests and
quota units spent so far, and the command exits 143 (SIGTERM) or 130 (SIGINT). A sync is
a real `talks sync` process against the Data API stand-in, signalled while the stand-in
holds one of its requests (`Fault.held`), so the moment is known without a clock.
Caption runs and the backfill commit piece by piece: the pieces committed before the
signal stay, the one in hand rolls back; they are run in this process, and signal
themselves at a chosen step.
"""
from __future__ import annotations

import configparser
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yt_dlp

from sync.cli import EXIT_SIGINT, EXIT_SIGTERM, cli
from sync.core.limits import DEFAULT_REQUEST_TIMEOUT, DEFAULT_SYNC_DEADLINE
from sync.core.signals import STOP_SIGNALS
from sync.pipeline import run as pipeline_run
from sync.transcripts import fetch as caption_fetch
from sync.youtube._batches import _STOP_WAIT, VIDEO_WORKERS
from tests.apiserver import Fault, running_api_server

from .conftest import FIXTURES, rows
from .history_repo import build_history_repo, series_versions
from .test_reliability import (
    KEY,
    ROOT,
    error_lines,
    exact_dump,
    runs,
    serve_series,
    subprocess_env,
    sync,
    talks_command,
)
from .test_transcripts_fetch import S01E01, S01E02, factory_for

pytestmark = pytest.mark.usefixtures("clean_environment")

FILLERS = 220  # five pages: four full videos.list batches go out from the two worker threads
EXIT = {signal.SIGTERM: EXIT_SIGTERM, signal.SIGINT: EXIT_SIGINT}
assert (EXIT_SIGINT, EXIT_SIGTERM) == (130, 143)  # as the README's table of exit codes says


@pytest.fixture
def clean_environment(monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.delenv("YOUTUBE_API_ENDPOINT", raising=False)


def wait_for(condition, process, what: str) -> None:
    """Until the stand-in has seen what the test waits for (an event, not a duration)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"the sync ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"no {what} within 120 s"
        time.sleep(0.01)


# Every videos.list is held: one in flight on each worker, and the main thread's last
# batch, sent after the last page (requests: the pages and those). A held third page is
# the main thread's own blocking read, while a worker has described the first 50 videos
# (4 requests): page 1 holds fewer than 50 to describe (some entries are private or
# deleted), so the first batch fills with page 2 and nothing is sent before page 2.
HOLDS = {
    "SIGTERM-worker-request": (signal.SIGTERM, Fault.held(endpoint="videos", times=None),
                               lambda pages: pages + VIDEO_WORKERS + 1),
    "SIGINT-main-thread-read": (signal.SIGINT, Fault.held(endpoint="playlistItems", at=3), lambda pages: 4),
}


@pytest.mark.slow
@pytest.mark.parametrize("signum, hold, requests", list(HOLDS.values()), ids=list(HOLDS))
def test_a_signal_during_a_sync_rolls_it_back_and_records_it_interrupted(signum, hold, requests, tmp_path):
    path = tmp_path / "talks.db"
    with running_api_server(KEY) as api:
        serve_series(api, extra=FILLERS, version=1)
        sync(path, api)
        serve_series(api, extra=FILLERS, version=2)  # a sync now would change many rows
        before, ledger = exact_dump(path), runs(path)
        api.reset_log()
        api.faults.append(hold)
        process = subprocess.Popen(talks_command(path), cwd=ROOT, env=subprocess_env(api),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pages = -(-len(next(iter(api.playlists.values()))) // 50)
        try:
            wait_for(lambda: any(s.fault == "hold" for s in api.requests), process, "the held request")
            wait_for(lambda: api.count() == requests(pages), process, "every request before the wait")
            os.kill(process.pid, signum)
            out, err = process.communicate(timeout=60)
        finally:
            api.release()
        sent = api.count()

    assert process.returncode == EXIT[signum], err
    assert exact_dump(path) == before, "the interrupted sync changed data"
    after = runs(path)
    assert after[:-1] == ledger
    run = after[-1]
    assert (run["kind"], run["status"], run["source"]) == ("sync", "interrupted", "api")
    assert run["requests"] == run["quota_units"] == sent == requests(pages) and run["finished_at"]
    name = signal.Signals(signum).name
    assert run["error"] == f"interrupted by {name} before it finished; nothing was changed"
    assert out == ""
    assert error_lines(err) == [f"Error: sync {run['id']} interrupted by {name}; nothing was changed"]
    assert f"sync stopped after {sent} requests, {sent} quota units" in err
    assert "Traceback" not in err
    assert "retrying" not in err, "the held request timed out before the signal: the test waited for the wrong count"

    status = subprocess.run(talks_command(path)[:3] + ["status", "--db", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 5
    assert status.stdout.splitlines()[0] == (f"{path}: PROBLEM: the last sync (run {run['id']}) was interrupted: "
                                             f"{run['error']}")


def test_the_json_log_says_interrupted_with_what_was_spent(tmp_path):
    path = tmp_path / "talks.db"
    with running_api_server(KEY) as api:
        serve_series(api)
        api.faults.append(Fault.held())
        process = subprocess.Popen(talks_command(path, "--log-format", "json"), cwd=ROOT, env=subprocess_env(api),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: api.count() == 1, process, "the first request")
            process.terminate()  # SIGTERM
            out, err = process.communicate(timeout=60)
        finally:
            api.release()
    last = json.loads(err.splitlines()[-1])
    assert process.returncode == 143 and out == ""
    assert (last["level"], last["step"], last["counts"]) == ("ERROR", "interrupted", {"requests": 1, "quota_units": 1})
    assert last["error"] == "sync 1 interrupted by SIGTERM; nothing was changed"
    assert [(r["status"], r["requests"]) for r in runs(path)] == [("interrupted", 1)]
    assert rows(path, "SELECT count(*) AS n FROM talks") == [{"n": 0}]


# --------------------------------------------------------------------------- in this process


@pytest.fixture
def caught_signals():
    """While a test signals this process: a signal the code under test failed to take
    over is recorded here instead of ending the test run."""
    caught = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in STOP_SIGNALS}
    yield caught
    for s, handler in previous.items():
        signal.signal(s, handler)


def test_a_caption_run_stopped_by_sigterm_keeps_the_videos_it_saved(runner, db_path, monkeypatch, caught_signals):
    assert runner.invoke(cli, ["sync", "--snapshot", "--db", db_path, "-q"]).exit_code == 0
    factory = factory_for({})  # no captions anywhere: each video checked is one `captions` row
    monkeypatch.setattr(caption_fetch, "_default_factory", factory)
    # The pause before the second video is where systemd's SIGTERM lands.
    monkeypatch.setattr(caption_fetch, "_pause", lambda seconds: os.kill(os.getpid(), signal.SIGTERM))
    result = runner.invoke(cli, ["transcripts", "fetch", "--db", db_path, "--max-videos", "5"])
    assert caught_signals == []
    assert result.exit_code == 143, result.output
    assert factory.calls == [S01E01]
    assert rows(db_path, "SELECT video_id, state FROM captions") == [{"video_id": S01E01, "state": "none"}]
    run = rows(db_path, "SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert (run["kind"], run["status"], run["rows_changed"]) == ("captions", "interrupted", 1)
    assert run["error"] == "interrupted by SIGTERM; the videos saved before it are kept"
    assert result.stderr == (f"Error: caption run {run['id']} interrupted by SIGTERM; the videos saved before it "
                             "are kept (1 rows changed)\n")
    # the next run goes on from there
    monkeypatch.setattr(caption_fetch, "_pause", lambda seconds: None)
    assert runner.invoke(cli, ["transcripts", "fetch", "--db", db_path, "--max-videos", "1"]).exit_code == 0
    assert factory.calls == [S01E01, S01E02]


def test_a_caption_import_stopped_by_sigint_rolls_back_its_open_batch(runner, db_path, monkeypatch, caught_signals):
    from sync.transcripts import runs as caption_runs

    assert runner.invoke(cli, ["sync", "--snapshot", "--db", db_path, "-q"]).exit_code == 0
    store = caption_runs._store
    stored = []

    def store_then_ctrl_c(*args, **kwargs):
        store(*args, **kwargs)  # saved in the open batch (a bulk import commits every 50,000 segments)
        stored.append(args[3])
        if len(stored) == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(caption_runs, "_store", store_then_ctrl_c)
    result = runner.invoke(cli, ["transcripts", "import", "--db", db_path, str(FIXTURES / "captions")])
    assert caught_signals == []
    assert result.exit_code == 130, result.output
    assert len(stored) == 2
    assert rows(db_path, "SELECT count(*) AS n FROM captions") == [{"n": 0}]
    assert rows(db_path, "SELECT count(*) AS n FROM transcript_segments") == [{"n": 0}]
    run = rows(db_path, "SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert (run["kind"], run["status"], run["rows_changed"]) == ("captions", "interrupted", 0)
    assert rows(db_path, "SELECT count(*) AS n FROM changes WHERE run_id = ?", [run["id"]]) == [{"n": 0}]


def test_a_backfill_stopped_by_sigterm_keeps_the_commits_it_replayed(runner, db_path, tmp_path, monkeypatch,
                                                                      caught_signals):
    repo = tmp_path / "site"
    build_history_repo(repo, series_versions()[-7:])
    save_talks, calls = pipeline_run.save_talks, []

    def save_then_sigterm(*args, **kwargs):
        saved = save_talks(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:  # inside the second commit's transaction
            os.kill(os.getpid(), signal.SIGTERM)
        return saved

    monkeypatch.setattr(pipeline_run, "save_talks", save_then_sigterm)
    result = runner.invoke(cli, ["backfill", "--repo", str(repo), "--db", db_path])
    assert caught_signals == []
    assert result.exit_code == 143, result.output
    ledger = rows(db_path, "SELECT id, kind, status, commit_id FROM sync_runs ORDER BY id")
    assert [(r["kind"], r["status"]) for r in ledger] == [("backfill", "ok"), ("backfill", "interrupted")]
    assert rows(db_path, "SELECT DISTINCT run_id FROM changes") == [{"run_id": 1}]
    [line] = result.stderr.splitlines()
    assert re.fullmatch(r"Error: backfill stopped at [0-9a-f]{7,} \(\d{4}-\d\d-\d\d\): sync 2 interrupted by SIGTERM; "
                        r"nothing was changed; the commits replayed before it are kept", line), line

    monkeypatch.setattr(pipeline_run, "save_talks", save_talks)
    again = runner.invoke(cli, ["backfill", "--repo", str(repo), "--db", db_path, "-q"])
    assert again.exit_code == 0, again.output
    replayed = rows(db_path, "SELECT commit_id FROM sync_runs WHERE status = 'ok' ORDER BY id")
    assert len(replayed) == len({r["commit_id"] for r in replayed}) > 2
    assert ledger[1]["commit_id"] == replayed[1]["commit_id"]  # the interrupted commit is replayed next


class SigtermOnSecondVideo(list):
    """yt-dlp's record of the URLs asked for: asked for a second video, SIGTERM arrives."""

    def append(self, url):
        super().append(url)
        if sum("watch?v=" in u for u in self) == 2:
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_keyless_sync_stopped_by_sigterm_rolls_back_with_its_extractions_counted(runner, db_path, monkeypatch,
                                                                                   caught_signals):
    from sync import youtube

    from .recorded_ytdlp import RecordedYoutube
    from .test_keyless_refresh import TALKS, WEBINAR, YT_PLAYLIST

    calls = SigtermOnSecondVideo()

    def factory(params):
        ydl = yt_dlp.YoutubeDL(params, auto_init=False)  # offline: only the recorded extractor
        ydl.add_info_extractor(RecordedYoutube(calls=calls, stand_in_for_unknown=True))
        return ydl

    monkeypatch.setattr(youtube, "default_ydl_factory", factory)
    result = runner.invoke(cli, ["sync", "--db", db_path, "--page", str(WEBINAR), "--talks-page", str(TALKS),
                                 "--today", "2026-08-11", "--source", "ytdlp", "--playlist", YT_PLAYLIST])
    assert caught_signals == []
    assert result.exit_code == 143, result.output
    assert rows(db_path, "SELECT count(*) AS n FROM talks") == [{"n": 0}]
    run = rows(db_path, "SELECT kind, status, source, requests FROM sync_runs")
    assert run == [{"kind": "sync", "status": "interrupted", "source": "ytdlp", "requests": len(calls)}]
    assert len(calls) == 3  # the listing and two videos
    assert "sync stopped after 3 requests, 0 quota units" in result.stderr


def test_a_decision_stopped_by_sigterm_is_not_stored(runner, db_path, monkeypatch, caught_signals):
    from sync.reports import decisions

    assert runner.invoke(cli, ["sync", "--snapshot", "--db", db_path, "-q"]).exit_code == 0
    before = rows(db_path, "SELECT * FROM matches ORDER BY talk_id")
    rematch = decisions.rematch

    def rematch_then_sigterm(*args, **kwargs):
        rematch(*args, **kwargs)  # the pin applied, in the decision's transaction
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(decisions, "rematch", rematch_then_sigterm)
    result = runner.invoke(cli, ["match", "pin", "--db", db_path, "S01E01", "1qH-FpyqXtM"])
    assert caught_signals == []
    assert result.exit_code == 143, result.output
    assert result.stderr == "Error: interrupted by SIGTERM; the decision was not stored\n"
    assert rows(db_path, "SELECT count(*) AS n FROM match_decisions") == [{"n": 0}]
    assert rows(db_path, "SELECT * FROM matches ORDER BY talk_id") == before
    run = rows(db_path, "SELECT kind, status, error FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert run == {"kind": "decision", "status": "interrupted",
                   "error": "interrupted by SIGTERM; the decision was not stored"}


# --------------------------------------------------------------------------- the systemd unit

UNIT = ROOT / "contrib" / "talks-sync.service"


def _seconds(value: str) -> float:
    units = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    return sum(float(n) * units[u or "s"] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value))


def test_the_systemd_unit_stops_a_sync_the_way_it_stops_cleanly():
    """systemd stops the sync (`systemctl stop`, shutdown, TimeoutStartSec) with KillSignal,
    then SIGKILL after TimeoutStopSec: the signal must be one the sync turns into an
    interrupted run, with time enough to roll back and record it, and the sync's own
    --deadline must end it first, as a failed run that says why."""
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str
    unit.read(UNIT)
    service = unit["Service"]
    assert signal.Signals[service["KillSignal"]] in STOP_SIGNALS
    assert service.get("KillMode", "control-group") in ("control-group", "mixed")
    assert service.get("SendSIGKILL", "yes") == "yes"
    # SIGTERM interrupts the main thread's read at once and cuts the worker's request; were
    # that cut to fail, the worker is waited for --timeout + _STOP_WAIT at most
    assert _seconds(service["TimeoutStopSec"]) > DEFAULT_REQUEST_TIMEOUT + _STOP_WAIT
    success = service.get("SuccessExitStatus", "").split()
    assert "143" not in success and "SIGTERM" not in success  # an interrupted sync is no success
    command = service["ExecStart"].split()
    assert command[1:3] == ["sync", "--db"] and "--log-format" in command
    deadline = float(command[command.index("--deadline") + 1]) if "--deadline" in command else DEFAULT_SYNC_DEADLINE
    assert deadline < _seconds(service["TimeoutStartSec"])
    assert Path(command[0]).name == "talks"
