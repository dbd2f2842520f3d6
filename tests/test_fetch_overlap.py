"""videos.list batches go out while the next playlist page is on its way (#14).

The batches are those of a serial run (same ids, same quota; two workers may send them
in another order); failures in a worker thread surface as the same sentences and stop
the sync with nothing saved; every request is counted, the workers' included. The
stand-in API is tests/apiserver.py.
"""
from __future__ import annotations

import math
import threading
from collections import Counter
import time

import pytest
from click.testing import CliRunner

from sync import youtube
from sync.cli import cli
from sync.core.errors import FetchError, QuotaExceeded
from sync.youtube._batches import VIDEO_WORKERS

from .apiserver import TEST_KEY, Fault, deleted_item, make_video, private_item, running_api_server, video_ids
from .conftest import FIXTURES, rows

PLAYLIST = "PLoverlap00000000001"
N = 230  # five pages; 226 public videos: five batches (four full)


def entries() -> list[dict]:
    out = [make_video(v, f"Upload {k}", views=k) for k, v in enumerate(video_ids(N - 4, "o"))]
    out[60:60] = [private_item("privOVL0001"), deleted_item("deldOVL0001")]
    out[170:170] = [private_item("privOVL0002"), deleted_item("deldOVL0002")]
    return out


@pytest.fixture
def api():
    with running_api_server() as server:
        server.add_playlist(PLAYLIST, entries())
        yield server


def fetch(server, waits=None, **kw):
    return youtube.fetch_youtube_api(
        [PLAYLIST], ["linkedOVL01"], api_key=TEST_KEY, endpoint=server.endpoint,
        sleep=(waits.append if waits is not None else None), **kw,
    )


def batches(server) -> list[list[str]]:
    return [s.ids for s in server.seen("videos")]


def wait_until(condition, seconds: float = 20.0) -> bool:
    """Wait for an event the test cannot be told of directly (bounded; not a timing check)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_the_same_requests_and_result_as_a_serial_run(api):
    serial = fetch(api, overlap=False)
    serial_batches, serial_count = batches(api), api.count()
    api.reset_log()

    overlapped = fetch(api)

    assert sorted(batches(api)) == sorted(serial_batches) and api.count() == serial_count
    assert overlapped.videos == serial.videos and overlapped.items == serial.items
    assert (overlapped.requests, overlapped.units) == (serial.requests, serial.units) == (api.count(),) * 2
    pages, described = 5, N - 4 + 1  # the linked id too; private and deleted entries are not asked
    assert api.count() == pages + math.ceil(described / 50) == 5 + 5
    assert [len(b) for b in serial_batches] == [50, 50, 50, 50, 27]
    assert overlapped.videos["privOVL0001"].availability == "private"
    assert overlapped.videos["linkedOVL01"].availability == "not_found"


def test_a_batch_goes_out_while_the_next_page_is_still_awaited(api):
    """Page 2 is held by the server until released: the first batch (filled by page 1)
    is answered meanwhile. A serial run would send it only after the last page."""
    api.faults.append(Fault.held(endpoint="playlistItems", at=2))
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", fetch(api)))
    worker.start()
    try:
        # page 2 is held until released: once asked for, it stays unanswered until then
        assert wait_until(lambda: any(s.status == 200 for s in api.seen("videos"))
                          and [s.status for s in api.seen("playlistItems")] == [200, None])
    finally:
        api.release()
        worker.join(30)
    assert len(done["result"].videos) == N - 4 + 1 + 4
    assert done["result"].requests == api.count() == 10


def test_quota_exceeded_on_a_batch_in_flight_stops_cleanly_and_counts_every_request(api):
    api.faults.append(Fault.quota_exceeded(endpoint="videos"))  # for ever, from the first batch on

    with pytest.raises(QuotaExceeded, match="midnight Pacific") as caught:
        fetch(api, waits=[])

    assert (caught.value.requests, caught.value.units) == (api.count(),) * 2
    # nothing is sent after the failure: at most the batches in flight with it, one on each
    # worker and the calling thread's (it sends the batches left after the last page)
    assert 1 <= api.count("videos") <= VIDEO_WORKERS + 1


def test_a_dripping_batch_is_cut_off_by_the_request_deadline_in_the_worker(api):
    """SIGALRM reaches the main thread only: the worker's watchdog bounds its requests."""
    api.faults.append(Fault.drip(delay=0.2, endpoint="videos", times=None))
    waits: list[float] = []
    started = time.monotonic()

    with pytest.raises(FetchError, match=r"no complete answer within 0.5 s \(--timeout\) after 5 attempts") as caught:
        fetch(api, waits=waits, timeout=0.5)

    assert time.monotonic() - started < 60  # bounded (5 attempts of 0.5 s), not the drip's length
    # the batch that failed was tried 5 times; the others (one a worker, and the last
    # batch, sent after the last page) stopped at most at the same count
    attempts = Counter(tuple(ids) for ids in batches(api))
    assert max(attempts.values()) == 5 and len(waits) >= 4
    assert len(attempts) <= VIDEO_WORKERS + 1 and api.count("videos") <= 5 * (VIDEO_WORKERS + 1)
    assert caught.value.requests == api.count()  # every request counted, the workers' too


def test_through_the_cli_a_worker_failure_saves_nothing(tmp_path, api, monkeypatch):
    monkeypatch.setenv("YOUTUBE_API_KEY", TEST_KEY)
    monkeypatch.setenv("YOUTUBE_API_ENDPOINT", api.endpoint)
    monkeypatch.setattr(youtube.execute_request.retry, "sleep", lambda seconds: None)
    db = str(tmp_path / "talks.db")
    api.faults.append(Fault.quota_exceeded(endpoint="videos"))
    pages = FIXTURES / "pages"
    args = ["sync", "--db", db, "--source", "none", "--page", str(pages / "2026-08-11_dd744744_webinar.md"),
            "--talks-page", str(pages / "2026-08-11_dd744744_webinar_talks.md"), "--today", "2026-08-11"]
    assert CliRunner().invoke(cli, args).exit_code == 0  # the talks are stored first
    before = rows(db, "SELECT count(*) n FROM talks")

    result = CliRunner().invoke(cli, [*args[:4], "api", *args[5:], "--playlist", PLAYLIST])

    assert result.exit_code == 1 and "quota" in result.stderr
    assert rows(db, "SELECT count(*) n FROM videos") == [{"n": 0}] and rows(db, "SELECT count(*) n FROM talks") == before
    run = rows(db, "SELECT status, requests, quota_units FROM sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert run == {"status": "failed", "requests": api.count(), "quota_units": api.count()}
