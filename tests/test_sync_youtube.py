"""Acceptance of the YouTube sync end to end: `talks sync` through the CLI.

Pages are the real fixture pages of 2026-08-11; the playlist is built in the local
stand-in of the Data API (tests/apiserver.py) from the page's own video ids, so the
matcher forms real matches. The keyless path runs a real YoutubeDL offline with a
fake extractor that replays tests/fixtures/youtube/. The module-level behaviour
(retries, mapping, parsing) is tested in tests/test_youtube.py; this file checks
what a user of `talks sync` sees: rows, exit codes, sentences, the ledger, the quota
and that the API key is nowhere.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
import sqlite_utils

from sync import youtube
from sync.cli import cli
from sync.pages import parse_webinar_page
from sync.save import speakers_text

from .recorded_ytdlp import REFUSALS, recorded_ydl_factory
from .apiserver import Fault, deleted_item, make_video, private_item, running_api_server, video_ids
from .conftest import FIXTURES, rows

WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
TALKS = FIXTURES / "pages" / "2026-08-11_dd744744_webinar_talks.md"

# Distinctive, and deliberately not shaped like a real key (a repository hook flags those).
KEY = "TEST-KEY-do-not-leak-42"
WRONG_KEY = "TEST-KEY-wrong-one-77"
PLAYLIST = "PLe2eLookingGlass0001"

OUTSIDE = "ZKkgiQinQPM"  # S09E03: the page links it, the playlist does not hold it; public
MISSING = "1qH-FpyqXtM"  # S01E02: the page links it, YouTube has no such video
PRIVATE = "WscAtTU4dzE"  # S02E03: in the playlist, private
DELETED = "delDELdelDE"  # a deleted playlist entry no page links
FILLERS = video_ids(30, "f")  # other uploads of the channel, in the playlist, linked from nowhere

# Every table a sync writes data to (sync_runs is the ledger, written on failure too).
DATA_TABLES = [
    "talks", "speakers", "talk_speakers", "videos", "playlists", "playlist_items",
    "matches", "match_decisions", "transcript_segments", "changes",
]


# ------------------------------------------------------------------ the world


def page_talks():
    return parse_webinar_page(WEBINAR.read_text("utf-8"), str(WEBINAR)).listed


def talk_video(talk, n: int) -> dict:
    return make_video(
        talk.page_video_id,
        f"{talk.code} - {speakers_text(talk.speakers)} - {talk.title}",
        description=f"Datasets through the Looking-Glass {talk.code}, {talk.date_text}.",
        published_at=f"{talk.date}T17:00:00Z",
        duration=f"PT{40 + n}M{n}S",
        views=100 + n,
        caption=n % 2 == 0,
        added_at=f"{talk.date}T18:00:00Z",
    )


def playlist_entries() -> list[dict]:
    """The series playlist: the page's recordings in order (less two), 30 other uploads, a deleted entry."""
    entries = []
    for n, talk in enumerate(page_talks()):
        if talk.page_video_id in (OUTSIDE, MISSING):
            continue
        if talk.page_video_id == PRIVATE:
            entries.append(private_item(PRIVATE, added_at=f"{talk.date}T18:00:00Z"))
        else:
            entries.append(talk_video(talk, n))
    for k, filler in enumerate(FILLERS):
        entries.append(make_video(filler, f"Channel update {k}", published_at=f"2022-{1 + k % 12:02d}-15T12:00:00Z",
                                  duration="PT2M", views=k, added_at=f"2022-{1 + k % 12:02d}-16T08:00:00Z"))
    entries.append(deleted_item(DELETED, added_at="2022-12-01T10:00:00Z"))
    return entries


def outside_video() -> dict:
    (talk,) = [t for t in page_talks() if t.page_video_id == OUTSIDE]
    return talk_video(talk, 99)


@pytest.fixture
def server():
    with running_api_server(KEY) as api:
        api.add_playlist(PLAYLIST, playlist_entries())
        api.add_videos(outside_video())
        yield api


@pytest.fixture
def api_env(monkeypatch, server):
    monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
    monkeypatch.setenv("YOUTUBE_API_ENDPOINT", server.endpoint)
    return server


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.delenv("YOUTUBE_API_ENDPOINT", raising=False)


pytestmark = pytest.mark.usefixtures("no_retry_waits")  # tests/conftest.py


# ------------------------------------------------------------------ helpers


def talks_sync(runner, db_path, *extra, source="api", playlist=PLAYLIST):
    args = ["sync", "--db", db_path, "--page", str(WEBINAR), "--talks-page", str(TALKS), "--today", "2026-08-11"]
    if source:
        args += ["--source", source]
    if playlist:
        args += ["--playlist", playlist]
    result = runner.invoke(cli, args + list(extra))
    # a crash also exits 1 under CliRunner: only a deliberate exit counts
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def error_line(result) -> str:
    """The one `Error:` sentence of a failed run, which is also the last thing on stderr."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    assert result.stdout == ""
    return errors[0]


def dump(db_path, tables=None) -> dict:
    """Every row of every table but the sync_runs ledger (full-text index internals included)."""
    db = sqlite_utils.Database(db_path)
    try:
        names = tables or [t for t in db.table_names() if t != "sync_runs"]
        return {t: sorted(db.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in names}
    finally:
        db.close()


def without_last_seen(db_path) -> dict:
    out = {}
    for table in DATA_TABLES:
        # checked_run is bookkeeping like last_seen_run: the refresh cadence's, never in `changes`
        out[table] = [{k: v for k, v in r.items() if k not in ("last_seen_run", "checked_run")}
                      for r in rows(db_path, f"SELECT * FROM [{table}] ORDER BY rowid")]
    return out


def runs(db_path):
    return rows(db_path, "SELECT id, status, source, playlists, requests, quota_units, error FROM sync_runs ORDER BY id")


def assert_key_absent(db_path, *texts, key=KEY):
    needle = key.encode()
    for path in Path(db_path).parent.iterdir():  # the file, its -wal/-shm if any, the lock
        if path.name.startswith(Path(db_path).name):
            assert needle not in path.read_bytes(), f"the API key is in {path.name}"
    for text in texts:
        assert key not in text


def video(db_path, video_id):
    (row,) = rows(db_path, "SELECT * FROM videos WHERE video_id = ?", [video_id])
    return row


# ------------------------------------------------------------------ a full sync


def test_full_sync_stores_playlist_and_linked_videos_as_whole_rows(runner, db_path, api_env):
    result = ok(talks_sync(runner, db_path))

    n = len(playlist_entries())
    assert n == 55 and api_env.count("playlistItems") == 2  # two pages of at most 50
    assert [p.params.get("pageToken") for p in api_env.seen("playlistItems")] == [None, "PT00050"]

    s05e01 = "cQGKHaYj4Ak"
    assert video(db_path, s05e01) == {
        "video_id": s05e01,
        "title": "S05E01 - Hubert Dariusz Zając and Natalia-Rozalia Avlona - Ground Truth Or Dare: "
        "Factors Affecting The Creation Of Medical Datasets For Training AI",
        "description": "Datasets through the Looking-Glass S05E01, 25th March 2024.",
        "published_at": "2024-03-25T17:00:00Z",
        "duration_seconds": 51 * 60 + 11,
        "channel": "Datasets through the Looking-Glass",
        "channel_id": "UCdatasets0looking0glass",
        "thumbnail_url": f"https://i.ytimg.com/vi/{s05e01}/maxresdefault.jpg",
        "view_count": 111,
        "has_captions": 0,
        "availability": "public",
        "url": f"https://www.youtube.com/watch?v={s05e01}",
        "checked_run": 1,  # described by YouTube in run 1 (the refresh cadence counts from it)
        "first_seen_run": 1,
        "last_seen_run": 1,
        "removed_at": None,
    }
    bare = dict.fromkeys(
        ["title", "description", "published_at", "duration_seconds", "channel", "channel_id",
         "thumbnail_url", "view_count", "has_captions"]
    )
    for video_id, availability in [(PRIVATE, "private"), (DELETED, "deleted"), (MISSING, "not_found")]:
        assert video(db_path, video_id) == {
            "video_id": video_id, **bare, "availability": availability,
            "url": f"https://www.youtube.com/watch?v={video_id}", "checked_run": 1,
            "first_seen_run": 1, "last_seen_run": 1, "removed_at": None,
        }, video_id
    outside = video(db_path, OUTSIDE)
    assert (outside["availability"], outside["title"][:6], outside["has_captions"]) == ("public", "S09E03", 0)
    assert rows(db_path, "SELECT availability, count(*) n FROM videos GROUP BY availability ORDER BY availability") == [
        {"availability": "deleted", "n": 1},
        {"availability": "not_found", "n": 1},
        {"availability": "private", "n": 1},
        {"availability": "public", "n": 23 + 30 + 1},
    ]

    items = rows(db_path, "SELECT * FROM playlist_items ORDER BY position")
    assert len(items) == n and [i["position"] for i in items] == list(range(n))
    assert items[0] == {
        "playlist_id": PLAYLIST, "video_id": "hDKuw28ATe4", "position": 0, "added_at": "2023-02-27T18:00:00Z",
        "first_seen_run": 1, "last_seen_run": 1, "removed_at": None,
    }
    assert [i for i in items if i["video_id"] == PRIVATE] == [{
        "playlist_id": PLAYLIST, "video_id": PRIVATE, "position": 4, "added_at": "2023-06-05T18:00:00Z",
        "first_seen_run": 1, "last_seen_run": 1, "removed_at": None,
    }]
    assert items[-1] == {
        "playlist_id": PLAYLIST, "video_id": DELETED, "position": 54, "added_at": "2022-12-01T10:00:00Z",
        "first_seen_run": 1, "last_seen_run": 1, "removed_at": None,
    }
    assert {i["video_id"] for i in items}.isdisjoint({OUTSIDE, MISSING})  # linked ids are not items

    playlist = rows(db_path, "SELECT playlist_id, url, etag IS NOT NULL AS has_etag FROM playlists")
    assert playlist == [{"playlist_id": PLAYLIST, "url": f"https://www.youtube.com/playlist?list={PLAYLIST}", "has_etag": 1}]

    # pages and YouTube in one run: the recordings are matched to their talks
    assert rows(db_path, "SELECT video_id FROM talks WHERE code = 'S05E01'") == [{"video_id": s05e01}]
    assert rows(db_path, "SELECT video_id FROM talks WHERE code = 'S09E03'") == [{"video_id": OUTSIDE}]
    assert rows(db_path, "SELECT code, reason FROM missing_recordings ORDER BY code") == [
        {"code": "S01E02", "reason": "broken_link"},
        {"code": "S02E03", "reason": "private"},
    ]
    (run,) = runs(db_path)
    assert run["status"] == "ok" and run["source"] == "api" and run["playlists"] == PLAYLIST
    assert "30 talks" in result.stdout and "videos" in result.stdout
    assert_key_absent(db_path, result.output)


def test_quota_is_recorded_printed_and_within_the_bound(runner, db_path, api_env):
    result = ok(talks_sync(runner, db_path))

    n = len(playlist_entries())
    linked = {t.page_video_id for t in page_talks()}
    in_playlist = {e["snippet"]["resourceId"]["videoId"] for e in api_env.playlists[PLAYLIST]}
    m = len(linked - in_playlist)
    assert (n, m) == (55, 2)
    bound = math.ceil(n / 50) + math.ceil((n + m) / 50)
    spent = api_env.count()
    assert spent <= bound
    assert all(len(batch.ids) <= 50 for batch in api_env.seen("videos"))
    (run,) = runs(db_path)
    assert (run["requests"], run["quota_units"]) == (spent, spent)
    assert f"{spent} requests, {spent} quota units" in result.stdout
    print(f"\nquota: n={n} m={m} units={spent} bound={bound}")


def test_retried_requests_are_charged_too(runner, db_path, api_env):
    api_env.faults.append(Fault.backend_error(at=2))  # page 2 answers 503 once, then succeeds

    result = ok(talks_sync(runner, db_path))

    assert [s.status for s in api_env.seen("playlistItems")] == [200, 503, 200]
    spent = api_env.count()
    assert runs(db_path)[0]["requests"] == runs(db_path)[0]["quota_units"] == spent == 5
    assert f"{spent} requests, {spent} quota units" in result.stdout


# ------------------------------------------------------------------ re-syncs


def test_unchanged_playlist_is_read_conditionally_and_keeps_its_items(runner, db_path, api_env):
    ok(talks_sync(runner, db_path))
    before = without_last_seen(db_path)
    stored = rows(db_path, "SELECT page_number, etag, next_page_token, item_count FROM playlist_pages ORDER BY 1")
    assert [(p["page_number"], p["item_count"]) for p in stored] == [(1, 50), (2, 5)]
    assert stored[0]["etag"] == rows(db_path, "SELECT etag FROM playlists")[0]["etag"]
    api_env.reset_log()

    result = ok(talks_sync(runner, db_path))

    # every page is asked for, each with its own etag, and each answers 304
    pages = api_env.seen("playlistItems")
    assert [(p.if_none_match, p.status) for p in pages] == [(p["etag"], 304) for p in stored]
    assert pages[1].params["pageToken"] == stored[0]["next_page_token"]  # the stored token leads on
    assert "0 rows changed" in result.stdout
    assert without_last_seen(db_path) == before
    # the 304s confirmed the items: still live, and seen by this run
    assert rows(db_path, "SELECT count(*) n FROM playlist_items WHERE removed_at IS NULL AND last_seen_run = 2") == [{"n": 55}]
    assert rows(db_path, "SELECT count(*) n FROM videos WHERE removed_at IS NULL AND last_seen_run = 2") == [{"n": 57}]
    # The 304 pages, then the videos the reports depend on refreshed in one batch: every
    # page-linked or matched one and MISSING (not found). PRIVATE and DELETED are their
    # pages' stubs, which the 304s confirm; the 30 uploads no page links were described
    # in run 1 and are not due (REFRESH_DAYS).
    asked = [i for batch in api_env.seen("videos") for i in batch.ids]
    every = {r["video_id"] for r in rows(db_path, "SELECT video_id FROM videos")}
    assert len(every) == 57 and sorted(asked) == sorted(every - set(FILLERS) - {PRIVATE, DELETED})
    spent = api_env.count()
    assert spent == 2 + math.ceil(len(asked) / 50) == 2 + 1
    assert runs(db_path)[1]["quota_units"] == spent and f"{spent} quota units" in result.stdout
    checked = rows(db_path, "SELECT checked_run, count(*) n FROM videos GROUP BY checked_run ORDER BY 1")
    assert checked == [{"checked_run": 1, "n": 30}, {"checked_run": 2, "n": 27}]


def test_video_removed_from_the_playlist_keeps_its_rows(runner, db_path, api_env):
    ok(talks_sync(runner, db_path))
    gone_talk, gone_filler = "VlHRsMC96y0", FILLERS[0]  # S03E01 (the page still links it), an upload
    api_env.playlists[PLAYLIST] = [
        e for e in api_env.playlists[PLAYLIST] if e["snippet"]["resourceId"]["videoId"] not in (gone_talk, gone_filler)
    ]

    ok(talks_sync(runner, db_path))

    removed = rows(db_path, "SELECT video_id, removed_at IS NOT NULL AS removed FROM playlist_items"
                            " WHERE video_id IN (?, ?) ORDER BY video_id", [gone_talk, gone_filler])
    assert removed == [{"video_id": gone_talk, "removed": 1}, {"video_id": gone_filler, "removed": 1}]
    assert rows(db_path, "SELECT count(*) n FROM playlist_items WHERE removed_at IS NULL") == [{"n": 53}]
    # the talk's video is still linked from the page: seen, public, live
    talk = video(db_path, gone_talk)
    assert (talk["availability"], talk["removed_at"], talk["last_seen_run"]) == ("public", None, 2)
    # the upload is seen nowhere any more: its row stays, stamped removed
    filler = video(db_path, gone_filler)
    assert filler["title"] == "Channel update 0" and filler["removed_at"] is not None
    assert rows(db_path, "SELECT column_name, new_value IS NOT NULL AS set_ FROM changes"
                         " WHERE run_id = 2 AND table_name = 'playlist_items' AND row_key = ?",
                [f"{PLAYLIST}/{gone_filler}"]) == [{"column_name": "removed_at", "set_": 1}]
    # a video stays matched to its talk when it leaves the playlist
    assert rows(db_path, "SELECT video_id FROM talks WHERE code = 'S03E01'") == [{"video_id": gone_talk}]


def test_video_back_in_the_playlist_is_live_again(runner, db_path, api_env):
    ok(talks_sync(runner, db_path))
    entries = api_env.playlists[PLAYLIST]
    api_env.playlists[PLAYLIST] = entries[1:]  # S01E01 leaves...
    ok(talks_sync(runner, db_path))
    assert rows(db_path, "SELECT removed_at IS NOT NULL AS removed FROM playlist_items WHERE video_id = 'hDKuw28ATe4'") == [
        {"removed": 1}
    ]
    api_env.playlists[PLAYLIST] = entries  # ...and comes back

    ok(talks_sync(runner, db_path))

    assert rows(db_path, "SELECT position, removed_at, last_seen_run FROM playlist_items WHERE video_id = 'hDKuw28ATe4'") == [
        {"position": 0, "removed_at": None, "last_seen_run": 3}
    ]
    assert rows(db_path, "SELECT count(*) n FROM playlist_items WHERE removed_at IS NULL") == [{"n": 55}]


def test_video_gone_from_an_unchanged_playlist_becomes_unavailable(runner, db_path, api_env):
    """The playlist's pages answer 304 but videos.list no longer returns one of its public videos.

    S05E01's recording is page-linked and matched, so the reports depend on it and every
    sync describes it again (the refresh cadence); a video due only by age is covered in
    tests/test_refresh_cadence.py. The playlist still lists it, so it exists: private or
    deleted, which the API cannot tell (`unavailable`), and still S05E01's recording."""
    ok(talks_sync(runner, db_path))
    gone = "cQGKHaYj4Ak"
    del api_env.videos[gone]
    api_env.reset_log()

    ok(talks_sync(runner, db_path))

    assert {s.status for s in api_env.seen("playlistItems")} == {304}
    row = video(db_path, gone)
    assert (row["availability"], row["title"][:6], row["removed_at"]) == ("unavailable", "S05E01", None)
    assert rows(db_path, "SELECT old_value, new_value FROM changes WHERE run_id = 2 AND table_name = 'videos'") == [
        {"old_value": "public", "new_value": "unavailable"}
    ]
    # still listed, so the private and deleted entries keep what they were
    assert (video(db_path, PRIVATE)["availability"], video(db_path, DELETED)["availability"]) == ("private", "deleted")
    assert rows(db_path, "SELECT code, reason FROM missing_recordings ORDER BY code") == [
        {"code": "S01E02", "reason": "broken_link"},
        {"code": "S02E03", "reason": "private"},
        {"code": "S05E01", "reason": "unavailable"},  # its recording, gone: reported once, as that
    ]
    assert rows(db_path, "SELECT code FROM stale_links WHERE code = 'S05E01'") == []
    assert gone not in {r["video_id"] for r in rows(db_path, "SELECT video_id FROM unmatched_videos")}


# ------------------------------------------------------------------ failures change nothing


def test_quota_exceeded_mid_pagination_leaves_every_table_as_it_was(runner, db_path, api_env, caplog):
    caplog.set_level(logging.DEBUG)
    ok(talks_sync(runner, db_path))
    api_env.append_to_playlist(PLAYLIST, make_video("NEWtalk0001", "A new upload"))  # page 1 changes: no 304
    before = dump(db_path)
    api_env.reset_log()
    api_env.faults.append(Fault.quota_exceeded(at=2))

    result = talks_sync(runner, db_path, "-v")

    sentence = error_line(result)
    assert "quota" in sentence and "midnight Pacific" in sentence and "try again" in sentence
    assert [(s.endpoint, s.status) for s in api_env.requests] == [("playlistItems", 200), ("playlistItems", 403)]
    assert dump(db_path) == before
    last = runs(db_path)[-1]
    assert last["status"] == "failed" and last["error"] == sentence.removeprefix("Error: ")
    assert (last["requests"], last["quota_units"]) == (2, 2)
    assert len(runs(db_path)) == 2
    assert_key_absent(db_path, result.output, result.stderr, caplog.text)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("bad_key", ("rejected the API key", "check YOUTUBE_API_KEY")),
        ("unknown_playlist", ("PLnoSuchList0000", "--playlist")),
    ],
)
def test_bad_key_and_unknown_playlist_stop_at_once_and_change_nothing(runner, db_path, api_env, monkeypatch, caplog, case, expected):
    caplog.set_level(logging.DEBUG)
    ok(talks_sync(runner, db_path))
    before = dump(db_path)
    api_env.reset_log()
    playlist = PLAYLIST
    if case == "bad_key":
        monkeypatch.setenv("YOUTUBE_API_KEY", WRONG_KEY)
    else:
        playlist = "PLnoSuchList0000"

    result = talks_sync(runner, db_path, "-v", playlist=playlist)

    sentence = error_line(result)
    for words in expected:
        assert words in sentence
    assert api_env.count() == 1  # no retry, no further request
    assert dump(db_path) == before
    last = runs(db_path)[-1]
    assert last["status"] == "failed" and last["error"] == sentence.removeprefix("Error: ")
    assert (last["requests"], last["quota_units"]) == (1, 1)
    assert [r["status"] for r in runs(db_path)] == ["ok", "failed"]
    assert_key_absent(db_path, result.output, caplog.text)
    assert_key_absent(db_path, result.output, caplog.text, key=WRONG_KEY)


def test_key_is_nowhere_after_a_successful_verbose_sync(runner, db_path, api_env, caplog):
    caplog.set_level(logging.DEBUG)  # googleapiclient logs each request URL, key=... included

    result = ok(talks_sync(runner, db_path, "-v"))
    again = ok(talks_sync(runner, db_path, "-v"))  # the conditional re-sync too

    assert "reading YouTube (api)" in result.stderr  # -v really logged
    assert "key=REDACTED" in caplog.text  # the client's request lines were captured, redacted
    assert_key_absent(db_path, result.output, result.stderr, again.output, again.stderr, caplog.text)


# ------------------------------------------------------------------ source selection


def test_auto_with_a_key_uses_the_api_for_pages_and_youtube_in_one_run(runner, db_path, api_env, monkeypatch):
    monkeypatch.setattr(youtube, "default_ydl_factory", _ytdlp_must_not_run)

    result = ok(talks_sync(runner, db_path, source=None))

    assert api_env.count() > 0
    (run,) = runs(db_path)
    assert run["source"] == "api" and run["status"] == "ok"
    assert rows(db_path, "SELECT count(*) n FROM talks") == [{"n": 30}]
    assert rows(db_path, "SELECT count(*) n FROM playlist_items") == [{"n": 55}]
    assert "(api)" in result.stdout


def _ytdlp_must_not_run(params):
    raise AssertionError("yt-dlp used although an API key is set")


# ------------------------------------------------------------------ yt-dlp, no key


YT_PLAYLIST = "PLdtlgSeries01"  # the recorded listing


def fake_ytdlp(monkeypatch, **kw):
    """Replace the YoutubeDL factory of sync.youtube; returns the list of URLs asked for."""
    factory = recorded_ydl_factory(stand_in_for_unknown=True, **kw)
    monkeypatch.setattr(youtube, "default_ydl_factory", factory)
    return factory.calls


@pytest.mark.parametrize("source", ["ytdlp", None], ids=["ytdlp", "auto-without-key"])
def test_keyless_sync_through_ytdlp(runner, db_path, no_key, monkeypatch, source):
    calls = fake_ytdlp(monkeypatch, refusals={MISSING: REFUSALS["unavailable"]})

    result = ok(talks_sync(runner, db_path, source=source, playlist=YT_PLAYLIST))

    (run,) = runs(db_path)
    assert (run["source"], run["status"], run["playlists"]) == ("ytdlp", "ok", YT_PLAYLIST)
    watched = [u for u in calls if "watch?v=" in u]
    assert len(watched) == 3 + 26  # the playlist's 3 available videos, then every page link
    assert (run["requests"], run["quota_units"]) == (1 + len(watched), 0)
    assert f"{1 + len(watched)} requests, 0 quota units" in result.stdout
    items = rows(db_path, "SELECT video_id, position FROM playlist_items ORDER BY position")
    assert items == [{"video_id": v, "position": n} for n, v in
                     enumerate(["S01E01aaaaa", "S01E02bbbbb", "S01E03ccccc", "S01E04ddddd", "S02E01eeeee"])]
    assert video(db_path, "S01E01aaaaa") == {
        "video_id": "S01E01aaaaa",
        "title": "S01E01 Amelia Jiménez-Sánchez: Shortcuts in medical imaging datasets",
        "description": video(db_path, "S01E01aaaaa")["description"],
        "published_at": "2023-09-18T15:00:04Z",
        "duration_seconds": 3131,
        "channel": "Datasets through the Looking-Glass",
        "channel_id": "UCdatasets0looking0glass",
        "thumbnail_url": "https://i.ytimg.com/vi/S01E01aaaaa/maxresdefault.jpg",
        "view_count": 412,
        "has_captions": 1,
        "availability": "public",
        "url": "https://www.youtube.com/watch?v=S01E01aaaaa",
        "checked_run": 1,  # yt-dlp described it in run 1
        "first_seen_run": 1,
        "last_seen_run": 1,
        "removed_at": None,
    }
    availability = {r["video_id"]: r["availability"] for r in rows(db_path, "SELECT video_id, availability FROM videos")}
    assert availability["S01E02bbbbb"] == "private" and availability["S01E04ddddd"] == "deleted"
    assert availability[MISSING] == "not_found" and availability[OUTSIDE] == "public"
    assert rows(db_path, "SELECT video_id FROM talks WHERE code = 'S05E01'") == [{"video_id": "cQGKHaYj4Ak"}]

    # again: what the reports depend on is asked for again (every page link, every video
    # not watchable), the rest on a rotation; every row stays live
    calls.clear()
    again = ok(talks_sync(runner, db_path, source=source, playlist=YT_PLAYLIST))
    asked = {u.rsplit("=", 1)[1] for u in calls if "watch?v=" in u}
    page_links = {t.page_video_id for t in page_talks() if t.page_video_id}
    assert page_links <= asked and MISSING in asked
    assert len(asked) == len(watched)  # 29 stored videos: under one rotation's worth, so all
    assert "0 rows changed" in again.stdout
    assert rows(db_path, "SELECT count(*) n FROM videos WHERE removed_at IS NOT NULL") == [{"n": 0}]
    assert rows(db_path, "SELECT count(*) n FROM videos WHERE last_seen_run != 2") == [{"n": 0}]


@pytest.mark.parametrize("where", ["video", "listing"])
def test_ytdlp_bot_wall_stops_and_changes_nothing(runner, db_path, no_key, monkeypatch, where):
    ok(talks_sync(runner, db_path, source="none", playlist=None))  # the pages are stored already
    before = dump(db_path)
    if where == "video":
        calls = fake_ytdlp(monkeypatch, refusals={"S01E03ccccc": REFUSALS["bot_wall"]})
    else:
        calls = fake_ytdlp(monkeypatch, playlist_refusal=REFUSALS["bot_wall"])

    result = talks_sync(runner, db_path, source="ytdlp", playlist=YT_PLAYLIST)

    sentence = error_line(result)
    assert "not a bot" in sentence and "YOUTUBE_API_KEY" in sentence
    assert dump(db_path) == before
    last = runs(db_path)[-1]
    assert last["status"] == "failed" and last["source"] == "ytdlp" and "not a bot" in last["error"]
    # it stopped at the first refusal: nothing asked after it
    assert calls[-1] == ("https://www.youtube.com/watch?v=S01E03ccccc" if where == "video"
                         else f"https://www.youtube.com/playlist?list={YT_PLAYLIST}")
    assert last["requests"] == len(calls)



def test_a_failed_sync_prints_the_quota_it_spent(runner, db_path, api_env):
    """Every run prints requests and units, the failed ones too (before the one error sentence)."""
    api_env.faults.append(Fault.quota_exceeded(at=2))
    result = talks_sync(runner, db_path)
    sentence = error_line(result)
    assert "quota" in sentence
    assert result.stderr.strip().splitlines()[-2] == "sync failed after 2 requests, 2 quota units"


def test_a_playlist_no_longer_read_is_retired_with_its_items(runner, db_path, api_env):
    """The real page switched playlists in 2025: the old one stops being a source, rows kept."""
    ok(talks_sync(runner, db_path))
    newer = "PLe2eLookingGlass0002"
    api_env.add_playlist(newer, playlist_entries()[:3])
    result = ok(talks_sync(runner, db_path, playlist=newer))
    assert "no longer read" in result.stderr
    playlists = rows(db_path, "SELECT playlist_id, removed_at IS NOT NULL AS removed FROM playlists ORDER BY playlist_id")
    assert playlists == [{"playlist_id": PLAYLIST, "removed": 1}, {"playlist_id": newer, "removed": 0}]
    live = rows(db_path, "SELECT playlist_id, count(*) AS n FROM playlist_items WHERE removed_at IS NULL GROUP BY 1")
    assert live == [{"playlist_id": newer, "n": 3}]
    kept = rows(db_path, "SELECT count(*) AS n FROM playlist_items WHERE playlist_id = ?", [PLAYLIST])
    assert kept[0]["n"] > 50
    assert {r["video_id"] for r in rows(db_path, "SELECT video_id FROM unmatched_videos")} <= {
        e.get("id") or e.get("contentDetails", {}).get("videoId") for e in playlist_entries()[:3]}


def test_a_page_that_lost_its_playlist_link_is_refused_by_the_shrink_guard(runner, db_path, api_env, tmp_path):
    ok(talks_sync(runner, db_path))
    before = dump(db_path)
    page = tmp_path / "webinar.md"
    page.write_text(WEBINAR.read_text("utf-8").replace("youtube.com/playlist?list=", "example.org/?gone="), "utf-8")
    result = runner.invoke(cli, ["sync", "--db", db_path, "--page", str(page), "--talks-page", str(TALKS),
                                 "--today", "2026-08-11", "--source", "api"])
    assert "--allow-shrink" in error_line(result)
    assert dump(db_path) == before
