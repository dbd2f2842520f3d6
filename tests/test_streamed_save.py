"""The API sync saves each videos.list answer while the playlist pages still come (sync.save.stream).

What must hold whatever the order of writes: a streamed sync stores exactly what a sync
that reads everything first stores (`SyncOptions.stream=False`), ledger included; a
failure after streamed writes rolls all of them back; the mass-disappearance guard
judges against the state before the run wrote anything; a failed write on the writer
thread fails the sync with the database's sentence. Also the two things the same change
made faster: lazy imports of the API client's unused modules, and the matcher's memo.

The YouTube side is the stand-in API (tests/apiserver.py) with the world of
tests/test_sync_youtube.py (the real 2026-08-11 pages and their recordings), grown to
four playlist pages and four videos.list batches.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field

import pytest
import sqlite_utils
from click.testing import CliRunner

import sync.match as match
import sync.save.stream as save_stream
import sync.youtube._api as youtube_api
from db.runs import open_database
from sync.match import match_recordings, prepare_videos
from sync.pipeline import SyncOptions, run_sync

from .apiserver import Fault, deleted_item, make_video, private_item, running_api_server, video_ids
from .bench_scale import synthetic_match_input
from .conftest import TESTS, rows
from .test_match import PLAYLIST as MATCH_PLAYLIST
from .test_match import TALKS as MATCH_TALKS
from .test_match import VIDEOS as MATCH_VIDEOS
from .test_sync_youtube import (
    FILLERS,
    KEY,
    PLAYLIST,
    TALKS,
    WEBINAR,
    error_line,
    ok,
    outside_video,
    playlist_entries,
    runs,
)
from .test_sync_youtube import talks_sync as cli_sync

UPLOADS = video_ids(122, "g")  # more uploads of the channel: 4 playlist pages, 4 batches in all
TWICE = "cQGKHaYj4Ak"  # S05E01's recording, listed a second time at the end of the playlist
FLIP = "flipPUBtoPR"  # public on page 1 (and to videos.list), listed private on page 4
NOW = "2026-08-11T12:00:00+00:00"  # removed_at stamps: the same in both databases


# ------------------------------------------------------------------ the world


def upload(video_id: str, k: int, title: str = "") -> dict:
    return make_video(video_id, title or f"Channel news {k}", published_at=f"2021-{1 + k % 12:02d}-10T09:00:00Z",
                      duration="PT3M", views=k, added_at=f"2021-{1 + k % 12:02d}-11T09:00:00Z")


def entries(*, flip: bool = False) -> list[dict]:
    """178 entries (180 with `flip`): the series playlist of test_sync_youtube (25 recordings,
    one private, 30 uploads, one deleted entry), 122 more uploads, S05E01 listed twice."""
    out = playlist_entries() + [upload(v, k) for k, v in enumerate(UPLOADS)]
    (twice,) = [e for e in out if e.get("id") == TWICE]
    out.append(twice)
    if flip:
        out.insert(10, upload(FLIP, 999, "Made private while the sync read the playlist"))
        out.append(private_item(FLIP))
    return out


def changed_entries(*, flip: bool = False) -> list[dict]:
    """The playlist a while later: an upload on page 1 retitled (so page 1 is no 304), one gone, one new."""
    out = [e for e in entries(flip=flip) if e.get("id") != UPLOADS[40]]
    retitled = next(n for n, e in enumerate(out) if e.get("id") == FILLERS[0])
    out[retitled] = make_video(FILLERS[0], "Channel update 0, retitled", published_at="2022-01-15T12:00:00Z",
                               duration="PT2M", views=0, added_at="2022-01-16T08:00:00Z")
    return out + [upload("newUPLOAD01", 500, "A new upload")]


def serve(api, world: list[dict]) -> None:
    api.add_playlist(PLAYLIST, world)
    api.add_videos(outside_video())  # the page links it; the playlist does not hold it


pytestmark = pytest.mark.usefixtures("no_retry_waits")  # tests/conftest.py


@pytest.fixture
def api(monkeypatch):
    with running_api_server(KEY) as server:
        serve(server, entries())
        monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
        monkeypatch.setenv("YOUTUBE_API_ENDPOINT", server.endpoint)
        yield server


# ------------------------------------------------------------------ helpers


def sync_api(db_path, api, *, stream: bool) -> None:
    run_sync(SyncOptions(
        db_path=str(db_path), webinar_page=str(WEBINAR), talks_page=str(TALKS), today=dt.date(2026, 8, 11),
        source="api", playlists=(PLAYLIST,), api_key=KEY, api_endpoint=api.endpoint, now=NOW, stream=stream,
    ), progress=lambda message: None)


def dump(db_path, *, exact: bool = False) -> dict:
    """Every table but the sync_runs ledger, sorted. `exact`: every row as stored, full-text
    index internals and `changes.id` included; else the data only (what the order of
    writes may change left out: index internals, `changes.id`)."""
    db = sqlite_utils.Database(db_path)
    try:
        out = {}
        for table in db.table_names():
            if table == "sync_runs" or (not exact and "_fts" in table):
                continue
            sql = ("SELECT run_id, table_name, row_key, column_name, old_value, new_value FROM changes"
                   if table == "changes" and not exact else f"SELECT * FROM [{table}]")
            out[table] = sorted(db.execute(sql).fetchall(), key=repr)
        return out
    finally:
        db.close()


def ledger_per_run(db_path) -> dict[int, list]:
    """The `changes` of each run, as a sorted multiset of (table, key, column, old, new)."""
    out: dict[int, list] = {}
    for r in rows(db_path, "SELECT * FROM changes"):
        out.setdefault(r["run_id"], []).append(
            (r["table_name"], r["row_key"], r["column_name"], r["old_value"], r["new_value"]))
    return {run: sorted(changes, key=repr) for run, changes in out.items()}


def assert_same_archive(streamed, read_first) -> None:
    first, second = dump(streamed), dump(read_first)
    assert set(first) == set(second)
    differences = {  # rows only the streamed database has, rows only the other has
        table: ([r for r in first[table] if r not in second[table]], [r for r in second[table] if r not in first[table]])
        for table in first if first[table] != second[table]
    }
    assert differences == {}
    assert ledger_per_run(streamed) == ledger_per_run(read_first)


@dataclass
class SavesSeen:
    """`sync.save.stream.save_videos` wrapped: each call's thread, ids, and the rows the run had then."""

    calls: list[tuple[str, list[str], int]] = field(default_factory=list)
    first: threading.Event = field(default_factory=threading.Event)
    fail_on: int = 0  # raise a full disk on this call (1-based); 0: never

    def install(self, monkeypatch) -> "SavesSeen":
        real = save_stream.save_videos

        def save_videos(db, run, records):
            records = list(records)
            if len(self.calls) + 1 == self.fail_on:
                self.calls.append((threading.current_thread().name, [], -1))
                raise sqlite3.OperationalError("database or disk is full")
            count = real(db, run, records)
            (written,) = db.execute("SELECT count(*) FROM videos WHERE last_seen_run = ?", [run.run_id]).fetchone()
            self.calls.append((threading.current_thread().name, [r.video_id for r in records], written))
            self.first.set()
            return count

        monkeypatch.setattr(save_stream, "save_videos", save_videos)
        return self

    def on_writer_thread(self) -> list[tuple[str, list[str], int]]:
        return [call for call in self.calls if call[0] == "save videos"]


@dataclass
class FailFromPage(Fault):
    """playlistItems fails from its `page`-th request on (counted here: the server's request
    numbers depend on when the videos.list worker's requests arrive)."""

    page: int = 3
    pages: int = 0

    def matches(self, number: int, endpoint: str) -> bool:
        if endpoint != "playlistItems" or not super().matches(number, endpoint):
            return False
        self.pages += 1
        return self.pages >= self.page


def page_waits_for(monkeypatch, page: int, event: threading.Event) -> None:
    """The sync asks for playlist page `page` only once `event` is set (a streamed save done)."""
    real, asked = youtube_api.call_api, []

    def call_api(request, quota, **kw):
        if kw.get("playlist_id"):
            asked.append(request.uri)
            if len(asked) == page:
                assert event.wait(60), "no streamed save before the failing page"  # bounded, not timed
        return real(request, quota, **kw)

    monkeypatch.setattr(youtube_api, "call_api", call_api)


def talks_sync(db_path, *extra):
    return cli_sync(CliRunner(), str(db_path), *extra)


# ------------------------------------------------------------------ 1. the same archive either way


@pytest.mark.parametrize("flip", [False, True], ids=["playlist", "public-then-listed-private"])
def test_a_streamed_sync_stores_what_a_read_first_sync_stores(tmp_path, flip):
    """Two syncs (first, then after a retitle, a removal and an addition) give the same tables and ledger streamed or not."""
    streamed, read_first = tmp_path / "streamed.db", tmp_path / "read_first.db"
    saves = SavesSeen()
    with running_api_server(KEY) as api, pytest.MonkeyPatch.context() as mp:
        saves.install(mp)
        serve(api, entries(flip=flip))
        sync_api(streamed, api, stream=True)
        assert len(saves.on_writer_thread()) == len(api.seen("videos")) == 4  # every answer saved as it came
        sync_api(read_first, api, stream=False)
        assert len(saves.on_writer_thread()) == 4  # not streamed: saved once, after the read
        assert [p.params.get("pageToken") for p in api.seen("playlistItems")] == [None, "PT00050", "PT00100", "PT00150"] * 2
        assert_same_archive(streamed, read_first)

        serve(api, changed_entries(flip=flip))
        sync_api(streamed, api, stream=True)
        sync_api(read_first, api, stream=False)
        assert_same_archive(streamed, read_first)

    # what the world holds really is in both
    videos = {r["video_id"]: r for r in rows(streamed, "SELECT * FROM videos")}
    assert videos["newUPLOAD01"]["availability"] == "public" and videos[UPLOADS[40]]["removed_at"] == NOW
    assert videos[FILLERS[0]]["title"] == "Channel update 0, retitled"
    assert videos["WscAtTU4dzE"]["availability"] == "private" and videos["delDELdelDE"]["availability"] == "deleted"
    assert videos["ZKkgiQinQPM"]["availability"] == "public" and videos["1qH-FpyqXtM"]["availability"] == "not_found"
    assert rows(streamed, "SELECT count(*) n FROM playlist_items WHERE video_id = ?", [TWICE]) == [{"n": 1}]
    assert rows(streamed, "SELECT video_id FROM talks WHERE code = 'S05E01'") == [{"video_id": TWICE}]
    if flip:  # the later page wins: private, as a read-first sync has always stored it
        assert videos[FLIP]["availability"] == "private"
    assert [r["status"] for r in runs(streamed)] == [r["status"] for r in runs(read_first)] == ["ok", "ok"]


# ------------------------------------------------------------------ 2. a late failure rolls back the streamed writes


@pytest.mark.parametrize("status", [403, 500], ids=["quota-exceeded", "500-until-retries-run-out"])
@pytest.mark.parametrize("earlier", [False, True], ids=["empty-db", "after-a-sync"])
def test_a_failure_on_a_late_page_rolls_back_what_the_writer_thread_saved(tmp_path, api, monkeypatch, status, earlier):
    """Page 3 of 4 fails after videos.list answers were saved on the writer thread: every data table stays as it was."""
    db_path = tmp_path / "talks.db"
    if earlier:
        ok(talks_sync(db_path))
        serve(api, changed_entries())  # page 1 changed: the playlist is read whole again
    else:
        open_database(str(db_path)).close()  # the schema, no data
    before = dump(db_path, exact=True)
    assert bool(before["videos"]) == earlier
    api.reset_log()
    saves = SavesSeen().install(monkeypatch)
    page_waits_for(monkeypatch, 3, saves.first)
    api.faults.append(FailFromPage.quota_exceeded(page=3) if status == 403
                      else FailFromPage.backend_error(status=500, page=3, times=None))

    result = talks_sync(db_path)

    sentence = error_line(result)
    assert ("quota" in sentence) if status == 403 else ("500" in sentence and "5 attempts" in sentence), sentence
    pages = [p.params.get("pageToken") for p in api.seen("playlistItems")]
    assert pages == [None, "PT00050"] + ["PT00100"] * (1 if status == 403 else 5)  # page 4 never asked
    # the writer thread saved at least one answer into the open transaction before the failure...
    written = saves.on_writer_thread()
    assert written and all(rows_of_run > 0 for _, _, rows_of_run in written), saves.calls
    assert {name for name, _, _ in saves.calls} == {"save videos"}
    # ...and none of it is left
    assert dump(db_path, exact=True) == before
    last = runs(db_path)[-1]
    assert last["status"] == "failed" and last["error"] == sentence.removeprefix("Error: ")
    assert [r["status"] for r in runs(db_path)] == ["ok"] * earlier + ["failed"]
    assert last["requests"] == last["quota_units"] == api.count()
    assert rows(db_path, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]


# ------------------------------------------------------------------ 3. the mass-disappearance guard, streamed


SMALL = video_ids(10, "s")
NEW = video_ids(20, "t")


def test_the_mass_disappearance_guard_judges_the_state_before_the_streamed_writes(tmp_path, api, monkeypatch):
    """6 of the watchable videos vanish while 20 new ones are streamed in: refused, counted against the pre-run state."""
    db_path = tmp_path / "talks.db"
    with api._lock:
        api.videos.clear()  # only what `serve` adds now
    serve(api, [upload(v, k) for k, v in enumerate(SMALL)])
    ok(talks_sync(db_path))
    watchable = rows(db_path, "SELECT count(*) n FROM videos WHERE availability IN ('public', 'unlisted')")[0]["n"]
    assert watchable == len(SMALL) + 1  # and the page-linked recording outside the playlist
    # Now three are deleted, three are unknown to videos.list, twenty new uploads joined.
    world = [deleted_item(v) for v in SMALL[:3]] + [upload(v, k) for k, v in enumerate(SMALL[3:])]
    serve(api, world + [upload(v, 100 + k) for k, v in enumerate(NEW)])
    with api._lock:
        for video_id in SMALL[3:6]:
            del api.videos[video_id]
    # Counted against what the run itself streamed in, 6 of 31 would pass: the test tells the two apart.
    assert 6 >= 5 and 6 >= watchable / 2 and 6 < (watchable + len(NEW)) / 2
    before = dump(db_path, exact=True)
    saves = SavesSeen().install(monkeypatch)

    result = talks_sync(db_path)

    assert error_line(result) == (
        f"Error: YouTube now says 6 of the {watchable} watchable videos are gone; refusing to record that"
        " (rerun with --allow-shrink if this is real)"
    )
    streamed = {i for name, ids, _ in saves.calls if name == "save videos" for i in ids}
    assert set(NEW) <= streamed  # the new uploads were written before the guard ran...
    assert dump(db_path, exact=True) == before  # ...and rolled back with the rest
    assert runs(db_path)[-1]["status"] == "failed"

    ok(talks_sync(db_path, "--allow-shrink"))
    availability = dict((r["video_id"], r["availability"]) for r in rows(db_path, "SELECT * FROM videos"))
    assert [availability[v] for v in SMALL[:6]] == ["deleted"] * 3 + ["unavailable"] * 3
    assert {availability[v] for v in NEW + SMALL[6:]} == {"public"}


# ------------------------------------------------------------------ 4. a failed write on the writer thread


def test_a_failed_write_on_the_writer_thread_fails_the_sync_with_the_database_sentence(tmp_path, api, monkeypatch):
    """The writer's second save hits a full disk: one database sentence, data as it was, no hang."""
    db_path = tmp_path / "talks.db"
    ok(talks_sync(db_path))
    serve(api, changed_entries())
    before = dump(db_path, exact=True)
    saves = SavesSeen(fail_on=2).install(monkeypatch)
    outcome: dict = {}

    worker = threading.Thread(target=lambda: outcome.setdefault("result", talks_sync(db_path)), daemon=True)
    worker.start()
    worker.join(120)  # a bound on a hang, not a timing check: the sync takes about a second

    assert not worker.is_alive(), "the sync hung after the writer thread failed"
    sentence = error_line(outcome["result"])
    assert sentence == (
        f"Error: writing {db_path} failed: the disk is full (database or disk is full); the unfinished"
        " transaction was rolled back, so free some space and run the command again"
    )
    assert [name for name, _, _ in saves.calls] == ["save videos"] * 2  # nothing saved after the failure
    assert dump(db_path, exact=True) == before
    last = runs(db_path)[-1]
    assert last["status"] == "failed" and last["error"] == sentence.removeprefix("Error: ")


# ------------------------------------------------------------------ 5. lazy imports of the API client


LAZY_CLIENT = """
import importlib.util, sys
from sync.youtube._client import _DeferredFinder, build_client
assert importlib.util.find_spec("cryptography") and importlib.util.find_spec("pyparsing")  # installed
build_client("k", "http://127.0.0.1:9")
assert "googleapiclient.discovery" in sys.modules
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("cryptography", "pyparsing"))
assert heavy == [], heavy
assert not [f for f in sys.meta_path if isinstance(f, _DeferredFinder)], sys.meta_path
assert type(sys.modules["google.oauth2.service_account"]).__name__ == "_LazyModule"
from google.oauth2 import service_account
assert service_account.Credentials.__name__ == "Credentials" and hasattr(service_account.Credentials, "from_service_account_info")
assert type(sys.modules["google.oauth2.service_account"]).__name__ == "module"  # loaded on use
print("lazy ok")
"""


def test_a_key_only_client_loads_neither_cryptography_nor_pyparsing():
    """build_client leaves cryptography and pyparsing unimported, removes its finder, and the lazy module loads on use."""
    done = subprocess.run([sys.executable, "-c", LAZY_CLIENT], cwd=TESTS.parent, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "lazy ok", done.stderr


# ------------------------------------------------------------------ 6. the matcher's memo


class PeakDict(dict):
    """A dict that remembers the most entries it ever held."""

    peak = 0

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.peak = max(self.peak, len(self))


@pytest.mark.parametrize("inputs", [
    (MATCH_TALKS, MATCH_VIDEOS, MATCH_PLAYLIST), synthetic_match_input(300),
], ids=["test_match", "synthetic-300"])
def test_the_video_text_memo_is_bounded_and_changes_no_match(monkeypatch, inputs):
    """_VIDEO_TEXTS never holds more than _VIDEO_TEXTS_MAX; cold, warm or bounded, the matches are the same."""
    talks, videos, playlist = inputs
    monkeypatch.setattr(match, "_VIDEO_TEXTS", PeakDict())
    cold = match_recordings(talks, videos, playlist)
    assert cold and len(match._VIDEO_TEXTS) == len({(v.title or "", v.description or "", v.published_at)
                                                     for v in videos.values() if v.availability != "not_found"}) > 0

    monkeypatch.setattr(match, "_VIDEO_TEXTS", PeakDict())
    prepare_videos(videos.values())  # warm, as the writer thread leaves it
    warmed = dict(match._VIDEO_TEXTS)
    assert match_recordings(talks, videos, playlist) == cold
    assert match._VIDEO_TEXTS == warmed  # every text came from the memo
    some = next(iter(videos.values()))
    assert match._VideoText.of(some) is match._VideoText.of(some)

    bound = 7
    monkeypatch.setattr(match, "_VIDEO_TEXTS_MAX", bound)
    monkeypatch.setattr(match, "_VIDEO_TEXTS", PeakDict())
    prepare_videos(videos.values())
    assert match_recordings(talks, videos, playlist) == cold
    prepare_videos(videos.values())
    assert match._VIDEO_TEXTS.peak == bound < len(videos)
