"""Hostile YouTube and page servers on 127.0.0.1: unreadable answers, drips, floods, loops.

Each test runs `talks sync` through the CLI against the Data API stand-in
(tests/apiserver.py) or a loopback page server, and asserts the clean outcome: one
`Error:` sentence and exit code 1, every data table as it was, the run recorded as
failed, or (for what is only too long) a stored, truncated value.
"""
from __future__ import annotations

import http.server
import json
import signal
import threading
from pathlib import Path

import pytest
import sqlite_utils
import tenacity
from click.testing import CliRunner

from sync import youtube
from sync.pages import sources
from sync.cli import cli
from sync.core.errors import DeadlineExceeded
from sync.core.limits import (
    MAX_DESCRIPTION_CHARS,
    MAX_PLAYLIST_PAGES,
    MAX_RESPONSE_BYTES,
    MAX_TITLE_CHARS,
    REFRESH_DAYS,
)
from sync.core.deadlines import Deadline, hold_deadlines, time_limit
from tests.apiserver import Fault, error_body, make_video, running_api_server, video_ids

from .conftest import FIXTURES, rows

WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
TALKS = FIXTURES / "pages" / "2026-08-11_dd744744_webinar_talks.md"
KEY = "TEST-KEY.network-limits-do-not-leak"
PLAYLIST = "PLnetworkLimits00001"
FILLERS = video_ids(40, "n")
DATA_TABLES = ["talks", "speakers", "talk_speakers", "videos", "playlists", "playlist_items", "matches", "changes"]


# ------------------------------------------------------------------ helpers


pytestmark = pytest.mark.usefixtures("no_retry_waits")  # tests/conftest.py


@pytest.fixture
def api(monkeypatch):
    with running_api_server(KEY) as server:
        server.add_playlist(PLAYLIST, [make_video(v, f"Upload {v}") for v in FILLERS])
        monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
        monkeypatch.setenv("YOUTUBE_API_ENDPOINT", server.endpoint)
        yield server


def talks_sync(db_path, *extra, page=WEBINAR):
    args = ["sync", "--db", str(db_path), "--page", str(page), "--talks-page", str(TALKS),
            "--today", "2026-08-11", "--source", "api", "--playlist", PLAYLIST, *extra]
    return CliRunner().invoke(cli, args)


def ok(result):
    assert result.exit_code == 0, result.output + result.stderr
    return result


def error_line(result) -> str:
    assert result.exit_code == 1, result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def dump(db_path) -> dict:
    return {t: rows(db_path, f"SELECT * FROM [{t}] ORDER BY 1, 2") for t in DATA_TABLES}


def last_run(db_path) -> dict:
    return rows(db_path, "SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1")[0]


def failed_and_unchanged(db_path, before, result) -> str:
    sentence = error_line(result)
    assert dump(db_path) == before
    run = last_run(db_path)
    assert run["status"] == "failed" and run["error"] and KEY not in run["error"]
    assert rows(db_path, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    return sentence


@pytest.fixture
def synced(tmp_path, api):
    """A database after one good sync, and its data. That sync is made REFRESH_DAYS old,
    so every video is due (the refresh cadence) and the next sync, although the playlist
    answers 304, asks videos.list about all of them: these tests are about its answers."""
    db_path = tmp_path / "talks.db"
    ok(talks_sync(db_path))
    db = sqlite_utils.Database(db_path)
    with db.conn:
        db.execute("UPDATE sync_runs SET started_at = date(started_at, ?)", [f"-{REFRESH_DAYS} days"])
    db.close()
    api.reset_log()
    return db_path, dump(db_path)


# ------------------------------------------------------------------ unreadable answers (#13.2)


@pytest.mark.parametrize("body, said", [
    (error_body(403, "forbidden", "The request is not allowed."), "error document"),
    ({"kind": "youtube#videoListResponse"}, "without a readable items list"),
    ({"kind": "youtube#videoListResponse", "items": {"id": "x"}}, "without a readable items list"),
    ({"kind": "youtube#videoListResponse", "items": ["n0000000000"]}, "without a readable items list"),
    ({"kind": "youtube#searchListResponse", "items": []}, "other than a videos list"),
    ({"items": []}, "other than a videos list"),
], ids=["error-body", "no-items", "items-object", "items-strings", "wrong-kind", "no-kind"])
def test_an_unreadable_videos_answer_fails_the_sync_and_marks_nothing_not_found(synced, api, body, said):
    db_path, before = synced
    api.faults.append(Fault.body_200(body, endpoint="videos", times=None))
    result = talks_sync(db_path)
    sentence = failed_and_unchanged(db_path, before, result)
    assert sentence.startswith("Error: YouTube API videos answered with") and said in sentence
    assert "(5 attempts)" in sentence  # retried like any failed request
    assert api.count("videos") == 5
    assert last_run(db_path)["requests"] == api.count()


def test_an_error_body_once_is_retried_and_the_sync_succeeds(synced, api):
    db_path, before = synced
    api.faults.append(Fault.body_200(error_body(500, "backendError", "Backend Error"), endpoint="videos"))
    ok(talks_sync(db_path))
    assert api.count("videos") == 3  # two batches, one of them twice
    assert dump(db_path)["changes"] == before["changes"]  # nothing changed: no availability wiped


def test_a_mass_disappearance_trips_the_shrink_guard(synced, api):
    """videos.list answering valid but empty lists: every known video would turn not_found."""
    db_path, before = synced
    with api._lock:
        api.videos.clear()
    result = talks_sync(db_path)
    sentence = failed_and_unchanged(db_path, before, result)
    assert "--allow-shrink" in sentence and "40 of the" in sentence

    ok(talks_sync(db_path, "--allow-shrink"))  # the organizers say it is real
    gone = rows(db_path, "SELECT count(*) n FROM videos WHERE availability IN ('deleted', 'unavailable', 'not_found')")
    assert gone[0]["n"] >= 40


def test_a_few_videos_going_is_news_not_a_wipe(synced, api):
    db_path, _ = synced
    with api._lock:
        for video_id in FILLERS[:2]:
            del api.videos[video_id]
    ok(talks_sync(db_path))
    # still listed, so they exist: private or deleted, which the API cannot tell
    assert rows(db_path, "SELECT video_id FROM videos WHERE availability = 'unavailable' AND video_id LIKE 'n%'"
                " ORDER BY 1") == [{"video_id": v} for v in FILLERS[:2]]


# ------------------------------------------------------------------ deadlines (#13.3b)


def test_an_api_that_drips_is_cut_off_by_the_request_deadline(synced, api):
    db_path, before = synced
    api.faults.append(Fault.drip(0.05, endpoint="videos", times=None))
    result = talks_sync(db_path, "--timeout", "0.5")
    sentence = failed_and_unchanged(db_path, before, result)
    assert sentence == "Error: YouTube API videos gave no complete answer within 0.5 s (--timeout) after 5 attempts."
    assert api.count("videos") == 5 and last_run(db_path)["requests"] == 1 + 5


def test_the_sync_deadline_ends_a_sync_cleanly_and_releases_the_lock(synced, api):
    db_path, before = synced
    api.faults.append(Fault.slow(60, times=None))
    result = talks_sync(db_path, "--deadline", "1", "--timeout", "120")
    sentence = failed_and_unchanged(db_path, before, result)
    assert sentence == "Error: the sync ran past its deadline of 1 s (--deadline); nothing was changed."
    assert last_run(db_path)["requests"] == 1  # the request it was waiting on
    api.faults.clear()
    ok(talks_sync(db_path))  # the lock was released


def test_the_sync_deadline_bounds_retry_waits_too(synced, api, monkeypatch):
    db_path, before = synced
    monkeypatch.setattr(youtube.execute_request.retry, "sleep", tenacity.nap.sleep)  # really wait
    api.faults.append(Fault.rate_limited(retry_after=60, times=None))
    result = talks_sync(db_path, "--deadline", "1")
    assert failed_and_unchanged(db_path, before, result).startswith("Error: the sync ran past its deadline")


class DripPages(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), DripHandler)
        self.stopping = threading.Event()
        self.hits = 0


class DripHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits += 1
        body = WEBINAR.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for n in range(len(body)):  # a byte every 50 ms: each read is quick, the whole is not
                if self.server.stopping.wait(0.05):
                    return
                self.wfile.write(body[n : n + 1])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_a_page_that_drips_is_cut_off_by_the_request_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "_get", sources._get.retry_with(wait=tenacity.wait_none()))
    server = DripPages()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        db_path = tmp_path / "talks.db"
        url = f"http://127.0.0.1:{server.server_address[1]}/webinar.md"
        result = CliRunner().invoke(cli, ["sync", "--db", str(db_path), "--page", url, "--no-talks-page",
                                          "--source", "none", "--timeout", "0.5"])
        assert error_line(result) == (f"Error: {url} could not be fetched in 4 attempts: "
                                      "each attempt ran past its deadline of 0.5 s (--timeout).")
        assert server.hits == 4
        assert last_run(db_path)["status"] == "failed"
        assert rows(db_path, "SELECT count(*) n FROM talks") == [{"n": 0}]
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ caps (#13.7)


@pytest.mark.parametrize("size", [200 * 2**20, None], ids=["content-length", "unsized"])
def test_a_200_mb_answer_is_refused_without_reading_it_whole(synced, api, size):
    db_path, before = synced
    api.faults.append(Fault.huge(size, endpoint="videos", times=None))
    result = talks_sync(db_path)
    sentence = failed_and_unchanged(db_path, before, result)
    assert sentence == f"Error: YouTube API videos sent an answer larger than {MAX_RESPONSE_BYTES // 2**20} MB; refused unread."
    (seen,) = api.seen("videos")  # not retried: it would be as large again
    assert seen.finished.wait(30)  # the stand-in stops sending once the client hangs up
    assert seen.sent < MAX_RESPONSE_BYTES + 8 * 2**20  # the cap and socket buffers, never the 200 MB


def test_huge_descriptions_and_titles_are_stored_truncated(tmp_path, api, caplog):
    huge = make_video("hUgeDescrip", "T" * 50_000, description="D" * (5 * 2**20))
    api.add_playlist(PLAYLIST, [huge, *(make_video(v, f"Upload {v}") for v in FILLERS)])
    db_path = tmp_path / "talks.db"
    result = ok(talks_sync(db_path))
    (row,) = rows(db_path, "SELECT length(title) t, length(description) d FROM videos WHERE video_id = 'hUgeDescrip'")
    assert row == {"t": MAX_TITLE_CHARS, "d": MAX_DESCRIPTION_CHARS}
    assert f"video hUgeDescrip's description was longer than {MAX_DESCRIPTION_CHARS} characters" in result.stderr


def test_endless_page_tokens_are_stopped_at_the_most_a_playlist_can_have(tmp_path, api):
    db_path = tmp_path / "talks.db"
    ok(talks_sync(db_path, "--source", "none"))
    before = dump(db_path)
    api.faults.append(Fault.endless_tokens(times=None))
    result = talks_sync(db_path)
    sentence = failed_and_unchanged(db_path, before, result)
    assert sentence == (f"Error: YouTube API playlistItems kept sending page tokens for playlist {PLAYLIST} past "
                        f"{MAX_PLAYLIST_PAGES} pages (5,000 videos, the most a playlist holds); stopped.")
    assert api.count("playlistItems") == MAX_PLAYLIST_PAGES == last_run(db_path)["quota_units"]


# ------------------------------------------------------------------ odd text, loops, the key (#13.6, #13.9)


def test_a_lone_surrogate_in_a_title_does_not_fail_the_sync(tmp_path, api):
    odd = make_video("sUrrogate01", "Talk \ud83d about emoji", description="bad \udfff end")
    api.add_playlist(PLAYLIST, [odd, *(make_video(v, f"Upload {v}") for v in FILLERS)])
    db_path = tmp_path / "talks.db"
    ok(talks_sync(db_path))
    assert rows(db_path, "SELECT title, description FROM videos WHERE video_id = 'sUrrogate01'") == [
        {"title": "Talk \ufffd about emoji", "description": "bad \ufffd end"}]


def test_a_redirect_loop_is_one_sentence_and_its_requests_are_counted(synced, api):
    db_path, before = synced
    api.faults.append(Fault.redirect_loop(times=None))
    result = talks_sync(db_path)
    sentence = failed_and_unchanged(db_path, before, result)
    assert sentence == ("Error: YouTube API playlistItems answered with a redirect (HTTP 302), "
                        "which the API never sends; not followed.")
    assert last_run(db_path)["requests"] == api.count() == 1


def test_the_key_echoed_into_data_is_never_stored(tmp_path, api):
    echo = f"Requested https://www.googleapis.com/youtube/v3/videos?id=eChoKey0001&key={KEY}&part=snippet ({KEY})"
    api.add_playlist(PLAYLIST, [make_video("eChoKey0001", f"Echo {KEY}", description=echo),
                                *(make_video(v, f"Upload {v}") for v in FILLERS)])
    db_path = tmp_path / "talks.db"
    ok(talks_sync(db_path))
    stored = json.dumps(dump(db_path), ensure_ascii=False)
    assert KEY not in stored and Path(db_path).read_bytes().find(KEY.encode()) == -1
    (row,) = rows(db_path, "SELECT title, description FROM videos WHERE video_id = 'eChoKey0001'")
    assert row["title"] == "Echo REDACTED" and "key=REDACTED&part=snippet (REDACTED)" in row["description"]


def test_numbers_no_database_can_hold_are_left_empty(tmp_path, api):
    odd = make_video("hUgeNumbers", "Odd numbers", duration="PT99999999999999999999H", views=None)
    odd["statistics"]["viewCount"] = 1e999  # json.dumps writes Infinity, which Python's json reads back
    big = make_video("bIgNumbers0", "Big numbers", views=None)
    big["statistics"]["viewCount"] = 10**30
    api.add_playlist(PLAYLIST, [odd, big, *(make_video(v, f"Upload {v}") for v in FILLERS)])
    db_path = tmp_path / "talks.db"
    ok(talks_sync(db_path))
    assert rows(db_path, "SELECT video_id, duration_seconds, view_count FROM videos"
                         " WHERE video_id IN ('hUgeNumbers', 'bIgNumbers0') ORDER BY 1") == [
        {"video_id": "bIgNumbers0", "duration_seconds": 3131, "view_count": None},
        {"video_id": "hUgeNumbers", "duration_seconds": None, "view_count": None}]


def test_a_deadline_passing_while_the_sync_commits_does_not_fail_it():
    """After hold_deadlines() (the sync's last step before its commit) an expired deadline's alarm is held
    back and then dropped; before it, the same alarm ends the work with the deadline's sentence."""
    def expire_now(deadline):
        deadline.end -= 120  # expired, without waiting for it
        signal.raise_signal(signal.SIGALRM)

    with pytest.raises(DeadlineExceeded, match="the sync ran past its deadline of 60 s"):
        with time_limit(deadline := Deadline(60, "the sync")):
            expire_now(deadline)
    with time_limit(deadline := Deadline(60, "the sync")):
        hold_deadlines()
        expire_now(deadline)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == set()  # nothing left blocked
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
