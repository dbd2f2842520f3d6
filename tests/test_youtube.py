"""sync.youtube against a local stand-in of the Data API, and yt-dlp offline.

The API tests drive the real google-api-python-client (static discovery, httplib2)
against tests/apiserver.py; retries never sleep (the sleep is recorded instead).
The yt-dlp tests run a real YoutubeDL with one fake extractor that replays the
recorded info dicts in tests/fixtures/youtube/.
"""
from __future__ import annotations

import copy
import json
import logging
import math

import pytest

from sync.core.errors import (
    BadApiKey,
    BotWall,
    FetchError,
    PlaylistNotFound,
    QuotaExceeded,
    ResponseError,
)
from sync.youtube import (
    Quota,
    build_client,
    classify_ytdlp_message,
    execute_request,
    fetch_playlist_items,
    fetch_youtube_api,
    fetch_youtube_ytdlp,
    quota_bound,
    result_from_recorded,
    retry_after_seconds,
    video_record,
)
from tests.recorded_ytdlp import REFUSALS, recorded_ydl_factory
from tests.apiserver import (  # noqa: F401  (api_server is a fixture)
    TEST_KEY,
    ApiServer,
    Fault,
    Seen,
    api_server,
    deleted_item,
    make_video,
    playlist_item_for,
    private_item,
    video_ids,
)

PLAYLIST = "PLdtlgSeries01"


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    # redact() also blanks $YOUTUBE_API_KEY; without it, the tests prove that our own
    # messages never carry the key in the first place
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.delenv("YOUTUBE_API_ENDPOINT", raising=False)


@pytest.fixture
def waits() -> list[float]:
    """Retry sleeps, recorded instead of slept."""
    return []


def sync_api(server, playlists=(PLAYLIST,), linked=(), *, waits=None, **kw):
    return fetch_youtube_api(
        list(playlists),
        list(linked),
        api_key=kw.pop("api_key", TEST_KEY),
        endpoint=server.endpoint,
        sleep=(waits.append if waits is not None else _no_sleep_expected),
        **kw,
    )


def _no_sleep_expected(seconds: float) -> None:
    raise AssertionError(f"unexpected retry sleep of {seconds} s")


def series(n: int) -> list[dict]:
    return [make_video(vid, f"S01E{i:02d} Talk {i}", added_at=f"2024-01-{1 + i % 28:02d}T09:00:00Z") for i, vid in enumerate(video_ids(n))]


# ------------------------------------------------------------------ pagination and mapping


def test_more_than_50_items_are_read_page_by_page(api_server):
    api_server.add_playlist(PLAYLIST, series(120))

    result = sync_api(api_server)

    assert [item.position for item in result.items] == list(range(120))
    assert [item.video_id for item in result.items] == video_ids(120)
    pages = api_server.seen("playlistItems")
    assert len(pages) == 3
    assert [p.params.get("pageToken") for p in pages] == [None, "PT00050", "PT00100"]
    assert {p.params["maxResults"] for p in pages} == {"50"}
    assert {p.params["part"] for p in pages} == {"snippet,contentDetails,status"}
    assert all(len(batch.ids) <= 50 for batch in api_server.seen("videos"))
    assert set(result.videos) == set(video_ids(120))
    assert result.playlists[0].playlist_id == PLAYLIST and result.playlists[0].etag
    assert result.items[1].added_at == "2024-01-02T09:00:00Z"
    assert result.units == result.requests == api_server.count()


def test_video_fields_are_mapped(api_server):
    api_server.add_playlist(
        PLAYLIST,
        [
            make_video("aaaaaaaaaaa", "S01E01 Ana: Shortcuts", description="Abstract", duration="PT1H2M3S", views=4021, caption=True),
            make_video("bbbbbbbbbbb", "Unlisted", privacy="unlisted", views=None, thumbnail_sizes=("default", "high")),
        ],
    )

    videos = sync_api(api_server).videos

    full = videos["aaaaaaaaaaa"]
    assert (full.availability, full.title, full.description) == ("public", "S01E01 Ana: Shortcuts", "Abstract")
    assert full.duration_seconds == 3723
    assert full.view_count == 4021 and full.has_captions is True
    assert full.published_at == "2023-09-18T15:00:04Z"
    assert full.channel == "Datasets through the Looking-Glass" and full.channel_id == "UCdatasets0looking0glass"
    assert full.thumbnail_url == "https://i.ytimg.com/vi/aaaaaaaaaaa/maxresdefault.jpg"
    hidden = videos["bbbbbbbbbbb"]
    assert hidden.availability == "unlisted"
    assert hidden.view_count is None  # the owner hid the counts: no viewCount at all
    assert hidden.has_captions is False
    assert hidden.thumbnail_url == "https://i.ytimg.com/vi/bbbbbbbbbbb/hqdefault.jpg"


def test_video_record_tolerates_odd_durations():
    resource = make_video("aaaaaaaaaaa", duration="P0D")  # an upcoming premiere
    assert video_record(resource).duration_seconds == 0
    resource["contentDetails"]["duration"] = "not a duration"
    assert video_record(resource).duration_seconds is None


# ------------------------------------------------------------------ private, deleted, linked


def test_private_and_deleted_items_are_detected_by_structure_not_title(api_server):
    private = private_item("prvprvprvpr")
    private["snippet"]["title"] = "Vidéo privée"  # titles are localised; the structure is not
    deleted = deleted_item("delDELdelDE")
    deleted["snippet"]["title"] = "Vidéo supprimée"
    api_server.add_playlist(
        PLAYLIST, [make_video("aaaaaaaaaaa", "Private video"), private, deleted, make_video("ccccccccccc", "Talk")]
    )

    result = sync_api(api_server)

    assert [item.video_id for item in result.items] == ["aaaaaaaaaaa", "prvprvprvpr", "delDELdelDE", "ccccccccccc"]
    assert result.videos["aaaaaaaaaaa"].availability == "public"  # a public talk titled "Private video"
    assert result.videos["prvprvprvpr"].availability == "private"
    assert result.videos["delDELdelDE"].availability == "deleted"
    assert result.videos["prvprvprvpr"].title is None  # YouTube's placeholder is not the talk's title
    # unavailable entries are known from the playlist: they are not paid for again
    asked = {vid for batch in api_server.seen("videos") for vid in batch.ids}
    assert asked == {"aaaaaaaaaaa", "ccccccccccc"}


def test_page_linked_videos_outside_the_playlist(api_server):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.add_videos(
        make_video("LINKEDfffff", "Panel linked from the talks page"),
        make_video("LINKEDprivt", "Went private", privacy="private"),
    )

    result = sync_api(api_server, linked=["LINKEDfffff", "NOSUCHvideo", "LINKEDprivt", video_ids(3)[0]])

    assert result.videos["LINKEDfffff"].availability == "public"
    assert result.videos["LINKEDfffff"].title == "Panel linked from the talks page"
    # videos.list silently leaves out missing and private ids: both read as not_found
    assert result.videos["NOSUCHvideo"].availability == "not_found"
    assert result.videos["LINKEDprivt"].availability == "not_found"
    assert set(result.videos) == {*video_ids(3), "LINKEDfffff", "NOSUCHvideo", "LINKEDprivt"}
    assert {i.video_id for i in result.items} == set(video_ids(3))  # linked ids are not playlist items
    assert api_server.count("videos") == 1


@pytest.mark.parametrize(("n", "m"), [(120, 3), (50, 0), (51, 49), (49, 2), (0, 1)])
def test_quota_stays_within_pages_plus_video_batches(api_server, n, m):
    entries = series(n)
    if n >= 2:
        entries[0] = private_item(entries[0]["id"])
        entries[1] = deleted_item(entries[1]["id"])
    api_server.add_playlist(PLAYLIST, entries)
    linked = [f"x{i:010d}" for i in range(m)]
    api_server.add_videos(*(make_video(i) for i in linked[:1]))

    result = sync_api(api_server, linked=linked)

    # an empty playlist still costs its one (empty) page
    bound = max(1, math.ceil(n / 50)) + math.ceil((n + m) / 50)
    assert api_server.count() <= bound
    assert api_server.count() <= quota_bound([n], m)
    assert result.units == result.requests == api_server.count()
    assert len(result.videos) == n + m


# ------------------------------------------------------------------ retries


@pytest.mark.parametrize(
    "fault",
    [Fault.backend_error(503), Fault.backend_error(500), Fault.user_rate_limited(), Fault.rate_limited()],
    ids=["503", "500", "403-userRateLimitExceeded", "429"],
)
def test_transient_http_errors_are_retried(api_server, waits, fault):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults += [fault, copy.copy(fault)]

    result = sync_api(api_server, waits=waits)

    assert len(result.items) == 3
    assert len(waits) == 2
    assert all(0 < w <= 60 for w in waits)
    assert api_server.count("playlistItems") == 3
    assert result.units == api_server.count() == 4  # failed attempts are charged too


def test_503_twice_then_success_with_the_exposed_retrying_callable(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults += [Fault.backend_error(), Fault.backend_error()]
    client = build_client(TEST_KEY, api_server.endpoint)
    quota = Quota()
    execute = execute_request.retry_with(sleep=waits.append)

    fetched = fetch_playlist_items(client, PLAYLIST, quota, execute=execute)

    assert len(fetched.items) == 3 and [p.fresh for p in fetched.pages] == [True]
    assert execute.statistics["attempt_number"] == 3
    assert len(waits) == 2 and waits[1] >= 2  # exponential: 1 s, then 2 s, plus jitter
    assert (quota.requests, quota.units) == (3, 3)


def test_429_retry_after_is_honoured(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.rate_limited(retry_after=7))

    sync_api(api_server, waits=waits)

    assert waits == [7.0]


def test_retry_after_as_http_date():
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from googleapiclient.errors import HttpError
    from httplib2 import Response

    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    error = HttpError(Response({"status": "429", "retry-after": when}), b"{}", uri="http://x/youtube/v3/videos")
    assert 25 <= retry_after_seconds(error) <= 30


def test_retry_after_longer_than_the_budget_gives_up(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.rate_limited(retry_after=3600))

    with pytest.raises(FetchError, match=r"playlistItems kept failing \(HTTP 429 rateLimitExceeded\) after 1 attempt; it asked to wait 3600 s"):
        sync_api(api_server, waits=waits)

    assert waits == [] and api_server.count() == 1


def test_reset_connections_are_retried(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(60))
    # two in a row: httplib2 silently re-sends once on a clean EOF, never on a reset
    api_server.faults += [Fault.reset(endpoint="playlistItems", at=2), Fault.reset(endpoint="playlistItems", at=2)]

    result = sync_api(api_server, waits=waits)

    assert len(result.items) == 60
    assert len(waits) == 2
    assert [s.fault for s in api_server.seen("playlistItems")] == [None, "reset", "reset", None]


def test_truncated_body_is_retried(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.truncated(endpoint="videos"))

    result = sync_api(api_server, waits=waits)

    assert len(result.videos) == 3 and len(waits) == 1
    assert api_server.count("videos") == 2


def test_slow_response_times_out_and_is_retried(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.slow(2.0))

    result = sync_api(api_server, waits=waits, timeout=0.25)

    assert len(result.items) == 3 and len(waits) == 1


def test_malformed_json_that_persists_is_a_response_error(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.malformed(times=None))

    with pytest.raises(ResponseError, match="playlistItems.*malformed JSON"):
        sync_api(api_server, waits=waits)

    assert api_server.count() == 5 and len(waits) == 4


def test_server_errors_that_persist_end_in_a_fetch_error(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.backend_error(times=None))

    with pytest.raises(FetchError, match=r"playlistItems kept failing \(HTTP 503 backendError\) after 5 attempts"):
        sync_api(api_server, waits=waits)

    assert api_server.count() == 5 and len(waits) == 4


# ------------------------------------------------------------------ errors never retried


def test_quota_exceeded_in_the_middle_of_pagination(api_server, waits):
    api_server.add_playlist(PLAYLIST, series(120))
    api_server.faults.append(Fault.quota_exceeded(at=2))

    with pytest.raises(QuotaExceeded) as caught:
        # serially, so that request 2 is page 2 (overlapped, the first videos.list batch
        # races it: tests/test_fetch_overlap.py covers quota errors there)
        sync_api(api_server, waits=waits, overlap=False)

    message = str(caught.value)
    assert "quota" in message and "midnight Pacific" in message and "try again" in message
    assert waits == [] and api_server.count() == 2
    # the failed run still spent 2 units: the error carries them to the run ledger
    assert (caught.value.requests, caught.value.units) == (2, 2)


def test_bad_key(api_server):
    api_server.add_playlist(PLAYLIST, series(3))

    with pytest.raises(BadApiKey, match="YOUTUBE_API_KEY") as caught:
        sync_api(api_server, api_key="WRONG-KEY-999")

    assert "WRONG-KEY-999" not in str(caught.value)
    assert api_server.count() == 1


def test_bad_key_fault_mid_run(api_server):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.bad_key(endpoint="videos"))

    with pytest.raises(BadApiKey):
        sync_api(api_server)


def test_unknown_playlist(api_server):
    with pytest.raises(PlaylistNotFound, match="PLnoSuchList"):
        sync_api(api_server, playlists=["PLnoSuchList"])

    assert api_server.count() == 1


def test_key_and_endpoint_default_to_the_environment(api_server, monkeypatch):
    api_server.add_playlist(PLAYLIST, series(2))
    monkeypatch.setenv("YOUTUBE_API_KEY", TEST_KEY)
    monkeypatch.setenv("YOUTUBE_API_ENDPOINT", api_server.endpoint)

    result = fetch_youtube_api([PLAYLIST], [], api_key=None)

    assert len(result.videos) == 2
    assert {seen.key for seen in api_server.requests} == {TEST_KEY}


def test_missing_key_is_refused_before_any_request(api_server):
    with pytest.raises(BadApiKey, match="YOUTUBE_API_KEY"):
        sync_api(api_server, api_key=None)

    assert api_server.count() == 0


# ------------------------------------------------------------------ conditional requests


def first_sync(server, n=60):
    entries = series(n)
    entries[3] = private_item(entries[3]["id"])
    server.add_playlist(PLAYLIST, entries)
    result = sync_api(server)
    return result, {PLAYLIST: result.pages[PLAYLIST]}


def test_unchanged_pages_answer_304_and_give_their_stored_items(api_server):
    first, stored = first_sync(api_server)
    assert [(p.number, len(p.items), p.fresh) for p in stored[PLAYLIST]] == [(1, 50, True), (2, 10, True)]
    api_server.reset_log()

    second = sync_api(api_server, stored_pages=stored)

    pages = api_server.seen("playlistItems")
    assert [(p.if_none_match, p.status) for p in pages] == [(page.etag, 304) for page in stored[PLAYLIST]]
    assert [p.fresh for p in second.pages[PLAYLIST]] == [False, False]
    assert second.items == first.items  # the stored items, in order
    assert second.playlists[0].etag == first.playlists[0].etag
    private_id = first.items[3].video_id
    assert second.videos[private_id].availability == "private"  # the stored page's stub, never asked
    assert private_id not in {i for s in api_server.seen("videos") for i in s.ids}
    # without a cadence (`refresh`) every other video of the unchanged pages is described again
    assert set(second.videos) == {i.video_id for i in first.items}
    assert second.units == api_server.count() == 2 + 2  # the 304 pages are charged too


def test_a_change_on_page_two_is_read_while_page_one_answers_304(api_server):
    first, stored = first_sync(api_server, n=120)
    items = api_server.playlists[PLAYLIST]
    items[60] = playlist_item_for(make_video("NEWtalk0001", "S09E09 A new talk"))  # page 2 only
    api_server.reset_log()

    second = sync_api(api_server, stored_pages=stored, refresh=[])

    pages = api_server.seen("playlistItems")
    assert [p.if_none_match for p in pages] == [page.etag for page in stored[PLAYLIST]]
    assert [p.status for p in pages] == [304, 200, 304]
    assert [p.fresh for p in second.pages[PLAYLIST]] == [False, True, False]
    assert second.items[60].video_id == "NEWtalk0001" and len(second.items) == 120
    assert second.pages[PLAYLIST][1].etag != stored[PLAYLIST][1].etag
    # only the changed page's videos are described (the cadence asked for none)
    assert sorted(i for s in api_server.seen("videos") for i in s.ids) == sorted(i.video_id for i in second.items[50:100])


def test_pages_without_a_stored_etag_are_asked_unconditionally(api_server):
    first, stored = first_sync(api_server)
    api_server.reset_log()

    second = sync_api(api_server, stored_pages={PLAYLIST: stored[PLAYLIST][:1]})  # page 2 was never stored

    assert [(p.if_none_match, p.status) for p in api_server.seen("playlistItems")] == [
        (stored[PLAYLIST][0].etag, 304), (None, 200)]
    assert len(second.items) == 60


# ------------------------------------------------------------------ recorded responses (snapshot)


def test_recorded_responses_replay_like_a_live_sync():
    server = ApiServer()  # not started: `answer()` gives the JSON the API would send
    server.add_playlist(PLAYLIST, [*series(55), private_item("prvprvprvpr")])
    server.add_videos(make_video("LINKEDfffff", "Linked"))

    def answer(endpoint, **params):
        status, body, _ = server.answer(Seen(0, endpoint, {"part": "snippet,contentDetails,statistics,status", **params}, None, TEST_KEY))
        assert status == 200
        return body

    pages = [answer("playlistItems", playlistId=PLAYLIST, maxResults="50"),
             answer("playlistItems", playlistId=PLAYLIST, maxResults="50", pageToken="PT00050")]
    ids = [*video_ids(55), "LINKEDfffff"]
    recorded = {"playlistItems": {PLAYLIST: pages},
                "videos": [answer("videos", id=",".join(ids[:50])), answer("videos", id=",".join(ids[50:]))]}

    result = result_from_recorded(json.loads(json.dumps(recorded)))

    assert result.source == "snapshot" and (result.requests, result.units) == (0, 0)
    assert len(result.items) == 56 and result.playlists[0].etag == pages[0]["etag"]
    assert result.videos["prvprvprvpr"].availability == "private"
    assert result.videos["LINKEDfffff"].title == "Linked"
    assert result.videos[video_ids(55)[54]].duration_seconds == 3131


# ------------------------------------------------------------------ the key stays secret


def test_key_never_appears_in_messages_or_logs(api_server, waits, caplog):
    caplog.set_level(logging.DEBUG)  # googleapiclient logs every request URL at DEBUG
    api_server.add_playlist(PLAYLIST, series(60))
    api_server.faults += [Fault.backend_error(), Fault.reset(), Fault.truncated(), Fault.rate_limited(retry_after=1)]
    sync_api(api_server, waits=waits)

    errors = []
    for fault, playlists in [
        (Fault.quota_exceeded(), [PLAYLIST]),
        (Fault.backend_error(times=None), [PLAYLIST]),
        (Fault.reset(times=None), [PLAYLIST]),
        (Fault.malformed(times=None), [PLAYLIST]),
        (Fault(status=400, reason="invalidParameter", message="Bad request key=TEST-KEY-123"), [PLAYLIST]),
        (None, ["PLnoSuchList"]),
    ]:
        api_server.faults[:] = [fault] if fault else []
        with pytest.raises(Exception) as caught:
            sync_api(api_server, playlists=playlists, waits=waits)
        errors.append(caught.value)

    assert len(waits) > 4 and "retrying" in caplog.text
    assert "key=REDACTED" in caplog.text  # the client's DEBUG lines are there, redacted
    for text in [caplog.text, *map(str, errors), *map(repr, errors)]:
        assert TEST_KEY not in text


def test_retry_log_line_names_the_endpoint_and_the_reason(api_server, waits, caplog):
    api_server.add_playlist(PLAYLIST, series(3))
    api_server.faults.append(Fault.backend_error())

    with caplog.at_level(logging.WARNING, logger="talks.youtube"):
        sync_api(api_server, waits=waits)

    (line,) = [r.getMessage() for r in caplog.records if r.name == "talks.youtube"]
    assert "playlistItems" in line and "HTTP 503 backendError" in line and "attempt 2 of 5" in line


# ------------------------------------------------------------------ yt-dlp, offline




def video_calls(factory) -> list[str]:
    return [url for url in factory.calls if "watch?v=" in url]


def test_ytdlp_lists_the_playlist_and_reads_each_video():
    factory = recorded_ydl_factory()

    result = fetch_youtube_ytdlp([PLAYLIST], ["LINKEDfffff"], ydl_factory=factory)

    assert result.source == "yt-dlp" and result.units == 0
    assert [i.video_id for i in result.items] == ["S01E01aaaaa", "S01E02bbbbb", "S01E03ccccc", "S01E04ddddd", "S02E01eeeee"]
    assert [i.position for i in result.items] == [0, 1, 2, 3, 4]
    assert result.playlists[0].title == "Datasets through the Looking-Glass"
    assert result.videos["S01E02bbbbb"].availability == "private"
    assert result.videos["S01E04ddddd"].availability == "deleted"
    first = result.videos["S01E01aaaaa"]
    assert first.title == "S01E01 Amelia Jiménez-Sánchez: Shortcuts in medical imaging datasets"
    assert first.published_at == "2023-09-18T15:00:04Z"  # from the timestamp when yt-dlp has one
    assert (first.duration_seconds, first.view_count, first.channel) == (3131, 412, "Datasets through the Looking-Glass")
    assert first.thumbnail_url == "https://i.ytimg.com/vi/S01E01aaaaa/maxresdefault.jpg"
    assert first.description.startswith("Datasets through the Looking-Glass, season 1")
    assert first.has_captions is True  # automatic captions
    assert result.videos["S01E03ccccc"].published_at == "2023-11-20"  # upload_date only
    assert result.videos["S01E03ccccc"].has_captions is True  # uploaded subtitles
    assert result.videos["S02E01eeeee"].has_captions is False  # live chat replay is not captions
    assert result.videos["LINKEDfffff"].availability == "unlisted"
    # one listing, then one extraction per available video; placeholders are not fetched
    assert len(video_calls(factory)) == 4 and result.requests == 5


def test_ytdlp_skips_known_videos():
    factory = recorded_ydl_factory()

    result = fetch_youtube_ytdlp([PLAYLIST], [], known_video_ids={"S01E01aaaaa", "S01E03ccccc"}, ydl_factory=factory)

    assert video_calls(factory) == ["https://www.youtube.com/watch?v=S02E01eeeee"]
    assert set(result.videos) == {"S01E02bbbbb", "S01E04ddddd", "S02E01eeeee"}


def test_ytdlp_bot_wall_stops_the_run_after_one_attempt():
    factory = recorded_ydl_factory(refusals={"S01E01aaaaa": REFUSALS["bot_wall"], "S01E03ccccc": REFUSALS["bot_wall"]})

    with pytest.raises(BotWall, match="not a bot") as caught:
        fetch_youtube_ytdlp([PLAYLIST], ["LINKEDfffff"], ydl_factory=factory)

    assert len(video_calls(factory)) == 1
    assert (caught.value.requests, caught.value.units) == (2, 0)  # the listing and one video


def test_ytdlp_bot_wall_raised_as_download_error_stops_too():
    factory = recorded_ydl_factory(refusals={"S01E01aaaaa": REFUSALS["bot_wall"]}, hard_failures={"S01E01aaaaa"})

    with pytest.raises(BotWall):
        fetch_youtube_ytdlp([PLAYLIST], [], ydl_factory=factory)

    assert len(video_calls(factory)) == 1


def test_ytdlp_bot_wall_on_the_playlist_listing():
    factory = recorded_ydl_factory(playlist_refusal=REFUSALS["bot_wall"])

    with pytest.raises(BotWall):
        fetch_youtube_ytdlp([PLAYLIST], ["LINKEDfffff"], ydl_factory=factory)

    assert factory.calls == [f"https://www.youtube.com/playlist?list={PLAYLIST}"]


@pytest.mark.parametrize("hard", [False, True], ids=["warning", "DownloadError"])
def test_ytdlp_private_and_unavailable_videos(hard):
    refusals = {
        "S01E03ccccc": REFUSALS["unavailable"],  # in the playlist: it was there, now deleted
        "LINKEDfffff": REFUSALS["private"],
        "NOSUCHvideo": REFUSALS["unavailable"],  # only linked from a page: not found
    }
    factory = recorded_ydl_factory(refusals=refusals, hard_failures=set(refusals) if hard else set())

    result = fetch_youtube_ytdlp([PLAYLIST], ["LINKEDfffff", "NOSUCHvideo"], ydl_factory=factory)

    assert result.videos["S01E03ccccc"].availability == "deleted"
    assert result.videos["LINKEDfffff"].availability == "private"
    assert result.videos["NOSUCHvideo"].availability == "not_found"
    assert result.videos["S01E03ccccc"].title is None  # not yt-dlp's "youtube video #..." stand-in
    assert result.videos["S02E01eeeee"].availability == "public"


def test_ytdlp_rate_limit_stops_without_hammering():
    factory = recorded_ydl_factory(refusals={"S01E01aaaaa": REFUSALS["rate_limited"]})

    with pytest.raises(FetchError, match="rate-limited"):
        fetch_youtube_ytdlp([PLAYLIST], ["LINKEDfffff"], ydl_factory=factory)

    assert len(video_calls(factory)) == 1


def test_ytdlp_unexplained_failure_is_a_warning_and_the_run_goes_on():
    outage = "Unable to download webpage: HTTPSConnection(host='www.youtube.com', port=443): Failed to resolve"
    factory = recorded_ydl_factory(refusals={"S01E03ccccc": outage}, hard_failures={"S01E03ccccc"})

    result = fetch_youtube_ytdlp([PLAYLIST], ["LINKEDfffff"], ydl_factory=factory)

    assert "S01E03ccccc" not in result.videos  # nothing learnt: the caller keeps what it has
    assert len(result.warnings) == 1 and "S01E03ccccc" in result.warnings[0]
    assert {"S01E01aaaaa", "S02E01eeeee", "LINKEDfffff"} <= set(result.videos)


def test_ytdlp_stops_after_three_unexplained_failures_in_a_row():
    outage = "Unable to download webpage: Failed to resolve 'www.youtube.com'"
    failing = {"S01E01aaaaa", "S01E03ccccc", "S02E01eeeee"}
    factory = recorded_ydl_factory(refusals=dict.fromkeys(failing, outage), hard_failures=failing)

    with pytest.raises(FetchError, match="3 videos in a row"):
        fetch_youtube_ytdlp([PLAYLIST], ["LINKEDfffff"], ydl_factory=factory)

    assert len(video_calls(factory)) == 3  # LINKEDfffff was never asked for


def test_ytdlp_unknown_playlist():
    factory = recorded_ydl_factory(playlist_refusal="The playlist does not exist.")

    with pytest.raises(PlaylistNotFound, match="PLnoSuchList"):
        fetch_youtube_ytdlp(["PLnoSuchList"], [], ydl_factory=factory)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("ERROR: [youtube] x: Sign in to confirm you\u2019re not a bot", "bot_wall"),
        ("ERROR: [youtube] x: Sign in to confirm you're NOT A BOT", "bot_wall"),
        ("This content isn\u2019t available, try again later.", "rate_limited"),
        ("[youtube] Private video. Sign in if you've been granted access", "private"),
        ("ERROR: [youtube] x: Video unavailable. This video is no longer available", "unavailable"),
        ("[youtube] x: No video formats found!", None),
    ],
)
def test_ytdlp_message_classification(message, kind):
    assert classify_ytdlp_message(message) == kind
