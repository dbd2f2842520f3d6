"""The incremental sync misses nothing (#19): every playlist page is asked for, each with
its own etag, and a change on page 2 or 3 behind an unchanged page 1 is stored and
reported once, with the right reason.

The world is the real webinar page of 2026-08-11 and a three-page playlist in the
stand-in Data API (tests/apiserver.py): page 1 is other uploads only, page 2 holds the
recordings of seasons 1-5, page 3 those of seasons 6-9. S04E02's page link is to a
video YouTube never had; S09E03's recording is public outside the playlist.
"""
from __future__ import annotations

import math

import pytest

from .apiserver import Fault, Seen, make_video, playlist_item_for, private_item, running_api_server, video_ids
from .conftest import rows
from .test_sync_youtube import KEY, ok, page_talks, talk_video, talks_sync

PLAYLIST = "PLincrementalThreePages"
FILLERS = video_ids(115, "f")
NEW_FILLER = "fNewUpload1"
NEWS04E02 = "s04e02Reup1"  # S04E02's recording, uploaded between the syncs

S03E02 = "58njMnrzfX8"  # removed from page 2 (the page still links it)
S05E01 = "cQGKHaYj4Ak"  # goes private on page 2
S07E02 = "ebyPOKwxr2c"  # re-titled on page 3
S09E03 = "ZKkgiQinQPM"  # outside the playlist, linked by the page; goes private
S04E02_LINK = "aWhryWZc3Jo"  # YouTube has no such video


def filler(video_id: str, k: int) -> dict:
    return make_video(video_id, f"Channel update {k}", published_at="2022-05-15T12:00:00Z", duration="PT2M",
                      added_at="2022-05-16T08:00:00Z")


def recording(code: str) -> dict:
    (n, talk), = [(n, t) for n, t in enumerate(page_talks()) if t.code == code]
    return talk_video(talk, n)


SEASONS_1_TO_5 = ["S01E01", "S01E02", "S01E03", "S02E01", "S02E02", "S02E03", "S03E01", "S03E02", "S04E01",
                  "S04E03", "S05E01", "S05E02", "S05E03"]
SEASONS_6_TO_9 = ["S06E01", "S06E02", "S06E03", "S07E01", "S07E02", "S07E03", "S08E01", "S08E02", "S08E03",
                  "S09E01", "S09E02"]


def playlist() -> list[dict]:
    fillers = [filler(v, k) for k, v in enumerate(FILLERS)]
    return (fillers[:60] + [recording(c) for c in SEASONS_1_TO_5] + fillers[60:87]
            + [recording(c) for c in SEASONS_6_TO_9] + fillers[87:])


@pytest.fixture
def api(monkeypatch):
    with running_api_server(KEY) as server:
        server.add_playlist(PLAYLIST, playlist())
        server.add_videos(recording("S09E03"))
        monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
        monkeypatch.setenv("YOUTUBE_API_ENDPOINT", server.endpoint)
        monkeypatch.setattr("sync.youtube.execute_request.retry.sleep", lambda seconds: None)
        yield server


def position_of(api, video_id: str) -> int:
    return [e["snippet"]["resourceId"]["videoId"] for e in api.playlists[PLAYLIST]].index(video_id)


def change_pages_two_and_three(api) -> None:
    """A new recording, a removed one, one gone private (page 2), one re-titled (page 3);
    the item count stays, so page 1's answer (and its etag) stays the same too."""
    items = api.playlists[PLAYLIST]
    where = {v: position_of(api, v) for v in (FILLERS[70], S03E02, S05E01, S07E02)}
    assert 50 <= where[FILLERS[70]] < 100 and 50 <= where[S03E02] < 100 and 50 <= where[S05E01] < 100
    assert where[S07E02] >= 100
    new = make_video(NEWS04E02, "S04E02 - When more is less: Incorporating additional datasets can hurt performance"
                     " by introducing spurious correlations", published_at="2026-06-01T10:00:00Z")
    api.add_videos(new)
    items[where[FILLERS[70]]] = playlist_item_for(new)  # a new video (an upload no talk had is gone instead)
    replacement = filler(NEW_FILLER, 999)
    api.add_videos(replacement)
    items[where[S03E02]] = playlist_item_for(replacement)  # S03E02's recording leaves the playlist
    items[where[S05E01]] = private_item(S05E01, added_at="2024-03-26T18:00:00Z")  # gone private
    api.videos[S05E01]["status"]["privacyStatus"] = "private"
    api.videos[S07E02]["snippet"]["title"] = "S07E02 - Tiarna Lee - Racial bias in cardiac imaging (captions fixed)"
    items[where[S07E02]] = playlist_item_for(api.videos[S07E02])  # the playlist shows the new title
    api.videos[S09E03]["status"]["privacyStatus"] = "private"  # outside the playlist: videos.list drops it


def reports(db_path) -> dict:
    return {
        "missing": rows(db_path, "SELECT code, reason FROM missing_recordings ORDER BY code"),
        "stale": rows(db_path, "SELECT code, page_video_id, video_id, reason FROM stale_links ORDER BY code"),
        "orphans": {r["video_id"] for r in rows(db_path, "SELECT video_id FROM unmatched_videos")},
    }


def availability(db_path, *ids) -> list[str]:
    found = dict((r["video_id"], r["availability"]) for r in rows(db_path, "SELECT video_id, availability FROM videos"))
    return [found.get(i) for i in ids]


def test_a_change_behind_an_unchanged_first_page_is_stored_and_reported_once(runner, db_path, api):
    assert len(api.playlists[PLAYLIST]) == 139  # three pages: 50, 50, 39
    ok(talks_sync(runner, db_path, playlist=PLAYLIST))
    before = reports(db_path)
    assert before["missing"] == [{"code": "S04E02", "reason": "broken_link"}]
    assert before["stale"] == [
        {"code": "S04E02", "page_video_id": S04E02_LINK, "video_id": None, "reason": "not_found"},
        {"code": "S09E03", "page_video_id": S09E03, "video_id": S09E03, "reason": "not_in_playlist"},
    ]
    assert before["orphans"] == set(FILLERS)
    stored = rows(db_path, "SELECT page_number, etag, item_count FROM playlist_pages ORDER BY 1")
    assert [(p["page_number"], p["item_count"]) for p in stored] == [(1, 50), (2, 50), (3, 39)]

    change_pages_two_and_three(api)
    api.reset_log()
    result = ok(talks_sync(runner, db_path, playlist=PLAYLIST))

    pages = api.seen("playlistItems")
    assert [(p.if_none_match, p.status) for p in pages] == [(stored[0]["etag"], 304), (stored[1]["etag"], 200),
                                                            (stored[2]["etag"], 200)]
    # stored: the new video, the removed one, the one gone private, the new title
    live = {r["video_id"]: r["position"] for r in rows(
        db_path, "SELECT video_id, position FROM playlist_items WHERE removed_at IS NULL")}
    assert len(live) == 139 and NEWS04E02 in live and NEW_FILLER in live
    assert S03E02 not in live and FILLERS[70] not in live
    assert availability(db_path, S05E01, S09E03, S03E02, NEWS04E02) == ["private", "unavailable", "public", "public"]
    assert rows(db_path, "SELECT title FROM videos WHERE video_id = ?", [S07E02]) == [
        {"title": "S07E02 - Tiarna Lee - Racial bias in cardiac imaging (captions fixed)"}]
    assert rows(db_path, "SELECT code, video_id FROM talks WHERE code IN ('S04E02', 'S05E01', 'S07E02', 'S09E03')"
                         " ORDER BY code") == [
        {"code": "S04E02", "video_id": NEWS04E02}, {"code": "S05E01", "video_id": S05E01},
        {"code": "S07E02", "video_id": S07E02}, {"code": "S09E03", "video_id": S09E03}]

    # each affected talk reported once, with the right reason
    after = reports(db_path)
    assert after["missing"] == [{"code": "S05E01", "reason": "private"}, {"code": "S09E03", "reason": "unavailable"}]
    assert after["stale"] == [
        {"code": "S03E02", "page_video_id": S03E02, "video_id": S03E02, "reason": "not_in_playlist"},
        {"code": "S04E02", "page_video_id": S04E02_LINK, "video_id": NEWS04E02, "reason": "not_found"},
    ]
    assert after["orphans"] == set(FILLERS) - {FILLERS[70]} | {NEW_FILLER}
    affected = [r["code"] for r in after["missing"]] + [r["code"] for r in after["stale"]]
    assert sorted(affected) == ["S03E02", "S04E02", "S05E01", "S09E03"]  # no talk twice
    assert result.exit_code == 0

    # and the page cache follows: pages 2 and 3 rewritten, page 1 kept
    cache = rows(db_path, "SELECT page_number, etag, fetched_run FROM playlist_pages ORDER BY 1")
    assert [(p["page_number"], p["fetched_run"]) for p in cache] == [(1, 1), (2, 2), (3, 2)]
    assert cache[0]["etag"] == stored[0]["etag"] and cache[1]["etag"] != stored[1]["etag"]

    # a third sync of the same playlist: every page 304, nothing changes
    api.reset_log()
    third = ok(talks_sync(runner, db_path, playlist=PLAYLIST))
    assert [p.status for p in api.seen("playlistItems")] == [304, 304, 304]
    assert "0 rows changed" in third.stdout
    assert reports(db_path) == after


def test_an_unchanged_resync_asks_every_page_and_only_the_videos_due(runner, db_path, api):
    ok(talks_sync(runner, db_path, playlist=PLAYLIST))
    api.reset_log()

    result = ok(talks_sync(runner, db_path, playlist=PLAYLIST))

    n = len(api.playlists[PLAYLIST])
    assert [p.status for p in api.seen("playlistItems")] == [304] * math.ceil(n / 50)
    asked = {i for s in api.seen("videos") for i in s.ids}
    # the videos the reports depend on: the pages' links (S04E02's dead one, S09E03's outside
    # the playlist) and the matched recordings; no upload, none due yet
    assert asked == {recording(c)["id"] for c in SEASONS_1_TO_5 + SEASONS_6_TO_9} | {S04E02_LINK, S09E03}
    assert api.count("videos") == math.ceil(len(asked) / 50) == 1
    assert "0 rows changed" in result.stdout


def test_a_playlist_that_shrinks_by_a_page_forgets_the_stored_page(runner, db_path, api):
    ok(talks_sync(runner, db_path, playlist=PLAYLIST))
    del api.playlists[PLAYLIST][95:]  # 95 items: two pages
    api.reset_log()

    ok(talks_sync(runner, db_path, playlist=PLAYLIST))

    assert [p.status for p in api.seen("playlistItems")] == [200, 200]  # the count changed: both re-read
    assert rows(db_path, "SELECT page_number, item_count FROM playlist_pages ORDER BY 1") == [
        {"page_number": 1, "item_count": 50}, {"page_number": 2, "item_count": 45}]
    assert rows(db_path, "SELECT count(*) n FROM playlist_items WHERE removed_at IS NULL") == [{"n": 95}]


def test_an_unreadable_stored_page_is_asked_for_again_without_its_etag(runner, db_path, api):
    ok(talks_sync(runner, db_path, playlist=PLAYLIST))
    import sqlite3

    con = sqlite3.connect(db_path)
    with con:
        con.execute("UPDATE playlist_pages SET items = '{\"not\": \"a list\"}' WHERE page_number = 2")
    con.close()
    api.reset_log()

    result = ok(talks_sync(runner, db_path, playlist=PLAYLIST))

    assert [(p.if_none_match is not None, p.status) for p in api.seen("playlistItems")] == [
        (True, 304), (False, 200), (False, 200)]
    assert "stored page 2 is unreadable" in result.stderr
    assert "0 rows changed" in result.stdout  # the same items: nothing to record
    assert rows(db_path, "SELECT count(*) n FROM playlist_pages WHERE items LIKE '[%'") == [{"n": 3}]


def test_a_page_whose_etag_is_unusable_is_asked_for_unconditionally_and_the_others_still_304(runner, db_path, api):
    status, first_page, _ = api.answer(Seen(0, "playlistItems", {"playlistId": PLAYLIST, "maxResults": "50",
                                                                  "part": "snippet,contentDetails,status"}, None, KEY))
    assert status == 200
    api.faults.append(Fault.body_200({**first_page, "etag": "x" * 300}, at=1))  # longer than any etag is
    ok(talks_sync(runner, db_path, playlist=PLAYLIST))
    assert [r["etag"] is None for r in rows(db_path, "SELECT etag FROM playlist_pages ORDER BY page_number")] == [
        True, False, False]
    api.reset_log()

    result = ok(talks_sync(runner, db_path, playlist=PLAYLIST))

    assert [(p.if_none_match is not None, p.status) for p in api.seen("playlistItems")] == [
        (False, 200), (True, 304), (True, 304)]
    # the only change: playlists.etag (page 1's), which the first answer's was too long to keep
    assert rows(db_path, "SELECT table_name, column_name FROM changes WHERE run_id = 2") == [
        {"table_name": "playlists", "column_name": "etag"}]
    assert "1 rows changed" in result.stdout
