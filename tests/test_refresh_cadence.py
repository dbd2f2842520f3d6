"""The API path's refresh cadence (#14): a playlist that answers 304 is not described again
whole. Every sync refreshes the videos the reports depend on (page-linked, pinned,
matched, not public); the others once they are due (last described REFRESH_DAYS ago or
more, at most REFRESH_CAP a sync, oldest first).

The world is tests/test_sync_youtube.py's (the real pages of 2026-08-11, their
recordings in a stand-in playlist), grown by many uploads no page links and many private
entries, so that both kinds span several videos.list batches.
"""
from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlite_utils

from db.runs import utc_now

from sync import youtube
from sync.pipeline import refresh
from sync.core.limits import REFRESH_CAP, REFRESH_DAYS

from .apiserver import make_video, private_item, running_api_server, video_ids
from .conftest import rows
from .test_sync_youtube import FILLERS, KEY, MISSING, OUTSIDE, PLAYLIST, ok, outside_video, playlist_entries, talks_sync

UPLOADS = video_ids(120, "u")  # other uploads: public, linked from no page, matched to no talk
HIDDEN = video_ids(60, "p")  # private entries: the reports watch them (they may come back)


def big_playlist() -> list[dict]:
    entries = playlist_entries()
    entries += [make_video(u, f"Channel news {k}", duration="PT3M", views=k) for k, u in enumerate(UPLOADS)]
    entries += [private_item(p) for p in HIDDEN]
    return entries


@pytest.fixture
def api(monkeypatch):
    with running_api_server(KEY) as server:
        server.add_playlist(PLAYLIST, big_playlist())
        server.add_videos(outside_video())
        monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
        monkeypatch.setenv("YOUTUBE_API_ENDPOINT", server.endpoint)
        monkeypatch.setattr(youtube.execute_request.retry, "sleep", lambda seconds: None)
        yield server


def asked(server) -> list[str]:
    return [i for batch in server.seen("videos") for i in batch.ids]


def unwatched(db_path) -> set[str]:
    """Videos nothing in the reports depends on: public, linked from no page, matched to no talk."""
    return {r["video_id"] for r in rows(db_path, """
        SELECT video_id FROM videos WHERE availability IN ('public', 'unlisted')
        AND video_id NOT IN (SELECT video_id FROM matches WHERE video_id IS NOT NULL)
        AND video_id NOT IN (SELECT page_video_id FROM talks WHERE page_video_id IS NOT NULL)
        AND video_id NOT IN (SELECT talks_page_video_id FROM talks WHERE talks_page_video_id IS NOT NULL)""")}


def age_run(db_path, run_id: int, days: float) -> None:
    """Pretend run `run_id` started `days` ago (the cadence counts from a run's start)."""
    when = (dt.datetime.fromisoformat(utc_now()) - dt.timedelta(days=days)).isoformat()
    db = sqlite_utils.Database(db_path)
    with db.conn:
        db.execute("UPDATE sync_runs SET started_at = ? WHERE id = ?", [when, run_id])
    db.close()


def test_unchanged_resync_describes_only_the_videos_the_reports_depend_on(runner, db_path, api):
    ok(talks_sync(runner, db_path))
    n = len(api.playlists[PLAYLIST])
    every = {r["video_id"] for r in rows(db_path, "SELECT video_id FROM videos")}
    quiet = unwatched(db_path)
    # the playlist's own private and deleted entries: their 304 pages still say so
    stubs = {r["video_id"] for r in rows(db_path, "SELECT v.video_id FROM videos v JOIN playlist_items pi"
                                                  " ON pi.video_id = v.video_id WHERE v.availability IN ('private', 'deleted')")}
    dependent = every - quiet - stubs
    assert n == 55 + 120 + 60 and quiet == set(UPLOADS) | set(FILLERS)
    assert set(HIDDEN) <= stubs and {MISSING, OUTSIDE} <= dependent and len(dependent) == 27 - 2
    api.reset_log()

    result = ok(talks_sync(runner, db_path))

    pages = math.ceil(n / 50)
    assert [s.status for s in api.seen("playlistItems")] == [304] * pages
    assert sorted(asked(api)) == sorted(dependent)
    spent = api.count()
    assert spent == pages + math.ceil(len(dependent) / 50) == 5 + 1  # not pages + ceil(every / 50) = 5 + 5
    assert f"{spent} requests, {spent} quota units" in result.stdout and "0 rows changed" in result.stdout
    # the quiet videos keep their rows and stay live: the 304s confirmed them
    assert rows(db_path, "SELECT count(*) n FROM videos WHERE removed_at IS NULL AND last_seen_run = 2") == [
        {"n": len(every)}]
    assert {r["video_id"] for r in rows(db_path, "SELECT video_id FROM videos WHERE checked_run = 1")} == quiet


def test_a_video_due_by_the_cadence_is_refreshed_and_a_vanished_one_found_out(runner, db_path, api):
    ok(talks_sync(runner, db_path))  # run 1 describes everything
    gone, counted = UPLOADS[0], UPLOADS[1]
    del api.videos[gone]  # videos.list no longer returns it; its playlist page looks the same (304)
    api.videos[counted]["statistics"]["viewCount"] = "5000"
    api.reset_log()

    ok(talks_sync(runner, db_path))  # run 2: the uploads were described a moment ago, not due
    assert not set(asked(api)) & set(UPLOADS)
    assert rows(db_path, "SELECT availability, view_count FROM videos WHERE video_id IN (?, ?) ORDER BY video_id",
                [gone, counted]) == [{"availability": "public", "view_count": 0}, {"availability": "public", "view_count": 1}]

    age_run(db_path, 1, days=REFRESH_DAYS - 1)  # not yet due
    api.reset_log()
    ok(talks_sync(runner, db_path))
    assert not set(asked(api)) & set(UPLOADS)

    age_run(db_path, 1, days=REFRESH_DAYS)  # run 1 was REFRESH_DAYS ago: every upload is due
    api.reset_log()
    result = ok(talks_sync(runner, db_path))

    assert {s.status for s in api.seen("playlistItems")} == {304}
    assert set(UPLOADS) | set(FILLERS) <= set(asked(api))
    assert api.count() == api.count("playlistItems") + math.ceil(len(asked(api)) / 50)
    assert rows(db_path, "SELECT video_id, availability, view_count, removed_at FROM videos WHERE video_id IN (?, ?)"
                         " ORDER BY video_id", [gone, counted]) == [
        {"video_id": gone, "availability": "unavailable", "view_count": 0, "removed_at": None},  # still listed
        {"video_id": counted, "availability": "public", "view_count": 5000, "removed_at": None},
    ]
    assert rows(db_path, "SELECT row_key, column_name, old_value, new_value FROM changes WHERE run_id = 4"
                         " AND table_name = 'videos' ORDER BY row_key") == [
        {"row_key": gone, "column_name": "availability", "old_value": "public", "new_value": "unavailable"},
        {"row_key": counted, "column_name": "view_count", "old_value": "1", "new_value": "5000"},
    ]
    assert "2 rows changed" in result.stdout
    # described now, so not due again for REFRESH_DAYS; the vanished one is no longer
    # public, so the reports watch it every sync (it may come back)
    api.reset_log()
    ok(talks_sync(runner, db_path))
    assert set(asked(api)) & set(UPLOADS) == {gone}


def test_due_videos_are_refreshed_oldest_first_at_most_the_cap_a_sync(runner, db_path, api, monkeypatch):
    assert REFRESH_CAP >= 1_000  # a daily sync keeps a 5,000-video playlist within REFRESH_DAYS
    monkeypatch.setattr(refresh, "REFRESH_CAP", 100)
    ok(talks_sync(runner, db_path))
    age_run(db_path, 1, days=REFRESH_DAYS + 1)  # all 150 quiet videos are due
    quiet = unwatched(db_path)
    api.reset_log()

    ok(talks_sync(runner, db_path))
    first = set(asked(api)) & quiet
    assert len(first) == 100

    api.reset_log()
    ok(talks_sync(runner, db_path))  # run 1 is still old: the 50 left are the oldest now
    assert set(asked(api)) & quiet == quiet - first


def test_videos_never_described_are_due_first(runner, db_path, api):
    """A database from before the cadence (checked_run empty) catches up at the next syncs."""
    ok(talks_sync(runner, db_path))
    db = sqlite_utils.Database(db_path)
    with db.conn:
        db.execute("UPDATE videos SET checked_run = NULL WHERE video_id IN (?, ?)", UPLOADS[5:7])
    db.close()
    api.reset_log()

    ok(talks_sync(runner, db_path))

    assert set(asked(api)) & set(UPLOADS) == set(UPLOADS[5:7])
    assert rows(db_path, "SELECT DISTINCT checked_run FROM videos WHERE video_id IN (?, ?)", UPLOADS[5:7]) == [
        {"checked_run": 2}]


def test_the_module_describes_every_known_video_of_a_304_playlist_without_a_cadence(api):
    """`fetch_youtube_api` without `refresh` describes every video of an unchanged page
    again; with it, only those named (a playlist's stubs never: their pages say it all)."""
    first = youtube.fetch_youtube_api([PLAYLIST], [], api_key=KEY, endpoint=api.endpoint)
    stored = {PLAYLIST: first.pages[PLAYLIST]}
    listed = [item.video_id for item in first.items]

    api.reset_log()
    whole = youtube.fetch_youtube_api([PLAYLIST], [], api_key=KEY, endpoint=api.endpoint, stored_pages=stored)
    assert {p.fresh for p in whole.pages[PLAYLIST]} == {False}
    stubs = {i for i in listed if first.videos[i].availability in ("private", "deleted")}
    assert set(HIDDEN) < stubs and sorted(asked(api)) == sorted(set(listed) - stubs)

    api.reset_log()
    some = youtube.fetch_youtube_api([PLAYLIST], [OUTSIDE], api_key=KEY, endpoint=api.endpoint, stored_pages=stored,
                                     refresh=[UPLOADS[3], HIDDEN[0], "notInThePlaylist"])
    assert asked(api) == [UPLOADS[3], OUTSIDE]  # playlist order, then the page's links
    assert {UPLOADS[3], OUTSIDE, HIDDEN[0]} <= set(some.videos) and some.videos[HIDDEN[0]].availability == "private"
    assert some.units == api.count() == len(stored[PLAYLIST]) + 1
