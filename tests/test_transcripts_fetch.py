"""Fetching captions offline through yt-dlp's own machinery.

A real YoutubeDL with one registered extractor that answers recorded info dicts
(tests/fixtures/youtube/ytdlp_videos.json, given caption tracks per test) or
YouTube's refusals, run through `extract_info` -> `process_ie_result`; the
tracks' URLs point at a loopback HTTP server, so `ydl.urlopen` really runs
(with impersonation, as yt-dlp asks for YouTube's subtitle URLs). Pauses go to a
recorder, never to time.sleep.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yt_dlp
from yt_dlp.extractor.common import InfoExtractor

from sync.transcripts import fetch as transcripts
from sync.transcripts.runs import run_fetch
from sync.transcripts.captions import TranscriptSegment, watch_url_at
from sync.cli import cli
from sync.transcripts.fetch import PAUSE_SECONDS, choose_track

from .conftest import FIXTURES, rows
from .recorded_ytdlp import REFUSALS, load, stand_in_info

CAPTIONS = FIXTURES / "captions"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
# The snapshot's watchable recordings, oldest talk first (the order a first fetch takes).
S01E01, S01E02, S01E03, S02E01, S02E02, S02E03 = (
    "hDKuw28ATe4", "1qH-FpyqXtM", "bWs0y9HmzbE", "K0iLXnqb7A4", "Gh_dscrjdG4", "WscAtTU4dzE")
WATCHABLE = 26


class CaptionServer:
    """Caption bodies on 127.0.0.1: /<name> serves a fixture, /empty an empty 200, /429 a 429."""

    def __init__(self):
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self):
                server.requests.append(self.path)
                name = self.path.split("?")[0].lstrip("/")
                if name == "429":
                    self.send_response(429)
                    body = b"Too Many Requests"
                elif name == "empty":
                    self.send_response(200)
                    body = b""
                elif (CAPTIONS / name).is_file():
                    self.send_response(200)
                    body = (CAPTIONS / name).read_bytes()
                else:
                    self.send_response(404)
                    body = b"not found"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str, **query) -> str:
        qs = "&".join(f"{k}={v}" for k, v in {"fmt": name.rsplit(".", 1)[-1], **query}.items())
        return f"{self.base}/{name}?{qs}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = CaptionServer()
    yield s
    s.close()


def tracks(server, name: str, *, with_translations=True, exts=("json3", "vtt")):
    """A language's formats as yt-dlp lists them (each asks for impersonation)."""
    return [{"ext": ext, "url": server.url(name if ext == name.rsplit(".", 1)[-1] else "missing." + ext),
             "name": "English", "impersonate": True} for ext in exts]


class CaptionedYoutube(InfoExtractor):
    """Recorded info dicts with the caption tracks a test gives, or YouTube's refusal."""

    IE_NAME = "youtube"
    _VALID_URL = r"https://www\.youtube\.com/watch\?v=(?P<id>[\w-]{11})"

    def __init__(self, videos: dict, calls: list):
        super().__init__()
        self.videos, self.calls = videos, calls

    @classmethod
    def ie_key(cls):
        return "Youtube"

    def _real_extract(self, url):
        video_id = self._match_id(url)
        self.calls.append(video_id)
        spec = self.videos.get(video_id, {})
        if "refusal" in spec:
            self.raise_no_formats(REFUSALS[spec["refusal"]], expected=True)
            return {"id": video_id, "title": None, "formats": []}
        info = stand_in_info(load("ytdlp_videos.json")["S01E01aaaaa"], video_id)
        info["subtitles"] = copy.deepcopy(spec.get("subtitles", {}))
        info["automatic_captions"] = copy.deepcopy(spec.get("automatic_captions", {}))
        return info


def factory_for(videos: dict):
    calls: list[str] = []

    def factory(params):
        ydl = yt_dlp.YoutubeDL(params, auto_init=False)  # no real extractors: offline
        ydl.add_info_extractor(CaptionedYoutube(videos, calls))
        return ydl

    factory.calls = calls
    return factory


def automatic_only(server, name):
    """Original English plus machine translations (tlang=), as yt-dlp lists automatic captions."""
    return {"automatic_captions": {
        "de": [{"ext": "json3", "url": server.url("translated.json3", tlang="de"), "impersonate": True}],
        "en": [{"ext": "json3", "url": server.url(name), "impersonate": True}],
        "en-orig": [{"ext": "json3", "url": server.url(name), "impersonate": True},
                    {"ext": "vtt", "url": server.url("unused.vtt"), "impersonate": True}],
    }}


def iso(moment):
    return moment.isoformat()


def captions_rows(db_path):
    return {r["video_id"]: r for r in rows(db_path, "select * from captions")}


def test_choose_track_prefers_uploaded_english_then_the_original_automatic_never_a_translation():
    auto = {"de-orig": [{"ext": "vtt", "url": "u/de-orig"}],
            "en": [{"ext": "json3", "url": "u/en?tlang=en"}],
            "fr": [{"ext": "json3", "url": "u/fr?tlang=fr"}]}
    assert choose_track({"automatic_captions": auto}).key == "de-orig"
    assert choose_track({"automatic_captions": auto}).language == "de"
    uploaded = {"fr": [{"ext": "json3", "url": "u/fr"}], "en-GB": [{"ext": "srv3", "url": "x"}, {"ext": "vtt", "url": "u/en-GB"}]}
    track = choose_track({"subtitles": uploaded, "automatic_captions": auto})
    assert (track.kind, track.key, track.fmt) == ("uploaded", "en-GB", "vtt")
    # only translations and formats this archive cannot read: nothing
    assert choose_track({"automatic_captions": {"fr": auto["fr"]}, "subtitles": {"en": [{"ext": "srv3", "url": "x"}]}}) is None
    # no "-orig" label: an automatic track that asks for no translation is the original
    assert choose_track({"automatic_captions": {"en": [{"ext": "vtt", "url": "u/en"}]}}).key == "en"


def test_fetch_covers_every_outcome_and_stops_at_a_429(snapshot_db, server):
    videos = {
        S01E01: automatic_only(server, "hDKuw28ATe4.en-orig.json3"),
        S01E02: {"subtitles": {"en": [{"ext": "srv3", "url": server.url("x.srv3")},
                                      {"ext": "vtt", "url": server.url("Z_wULE3_exE.en.vtt"), "impersonate": True}]},
                 **automatic_only(server, "hDKuw28ATe4.en-orig.json3")},
        S01E03: {},  # no captions at all
        S02E01: {"refusal": "private"},
        S02E02: {"automatic_captions": {"en-orig": [{"ext": "json3", "url": server.url("empty", exp="xpe")}]}},
        S02E03: {"automatic_captions": {"en-orig": [{"ext": "json3", "url": server.url("429")}]}},
    }
    factory, pauses = factory_for(videos), []
    report = run_fetch(snapshot_db, max_videos=8, ydl_factory=factory, sleep=pauses.append,
                       rng=random.Random(7), now=NOW)
    assert factory.calls == [S01E01, S01E02, S01E03, S02E01, S02E02, S02E03]  # stopped: 7th and 8th not asked
    assert len(pauses) == 5 and all(PAUSE_SECONDS[0] <= p <= PAUSE_SECONDS[1] for p in pauses)
    assert len(set(pauses)) == 5  # randomised
    # Only the chosen tracks were read, never a translation.
    assert [p.split("?")[0] for p in server.requests] == [
        "/hDKuw28ATe4.en-orig.json3", "/Z_wULE3_exE.en.vtt", "/empty", "/429"]
    assert (report.fetched, report.unchanged, report.none, report.blocked, report.needs_token, report.unavailable) == (
        2, 0, 1, 1, 1, 1)
    assert report.summary().startswith("captions: 2 fetched, 0 unchanged, 1 none, 1 blocked, 1 need a PO token, "
                                       "1 unavailable; stopped (rate limited at WscAtTU4dzE), 20 more videos wait")

    state = captions_rows(snapshot_db)
    picked = {v: {k: state[v][k] for k in ("state", "language", "track", "format", "source", "segments", "attempts",
                                           "next_check_at")} for v in videos}
    later = lambda **kw: iso(NOW + dt.timedelta(**kw))  # noqa: E731
    assert picked == {
        S01E01: {"state": "automatic", "language": "en", "track": "en-orig", "format": "json3", "source": "fetch",
                 "segments": 2, "attempts": 1, "next_check_at": later(days=1)},
        S01E02: {"state": "uploaded", "language": "en", "track": "en", "format": "vtt", "source": "fetch",
                 "segments": 4, "attempts": 1, "next_check_at": later(days=30)},
        S01E03: {"state": "none", "language": None, "track": None, "format": None, "source": None,
                 "segments": None, "attempts": 1, "next_check_at": later(hours=6)},
        S02E01: {"state": "unavailable", "language": None, "track": None, "format": None, "source": None,
                 "segments": None, "attempts": 1, "next_check_at": later(days=1)},
        S02E02: {"state": "needs_token", "language": None, "track": None, "format": None, "source": None,
                 "segments": None, "attempts": 1, "next_check_at": later(days=1)},
        S02E03: {"state": "blocked", "language": None, "track": None, "format": None, "source": None,
                 "segments": None, "attempts": 1, "next_check_at": later(hours=6)},
    }
    assert state[S02E01]["last_error"].startswith("[youtube] Private video.")
    assert state[S02E03]["last_error"] == "rate limited: HTTP 429 on the caption URL"
    assert state[S02E02]["last_error"] == "empty caption body: the track needs a PO token"
    assert state[S01E01]["ytdlp_version"] == yt_dlp.version.__version__
    # Every other watchable recording says when it will be tried: when the block lifts.
    waiting = [r for v, r in state.items() if v not in videos]
    assert len(waiting) == WATCHABLE - 6
    assert {(r["state"], r["next_check_at"], r["attempts"]) for r in waiting} == {("blocked", later(hours=6), 0)}
    assert all(r["last_error"] == "not tried: the run stopped (rate limited at WscAtTU4dzE)" for r in waiting)

    segments = rows(snapshot_db, "select video_id, start_seconds, end_seconds, text, url from transcript_segments"
                                 " where video_id = ? order by seq", [S01E01])
    assert [TranscriptSegment(**s) for s in segments] == [
        TranscriptSegment(S01E01, 1.2, 6.0, "today we talk about fair models and the datasets behind them",
                          watch_url_at(S01E01, 1.2)),
        TranscriptSegment(S01E01, 8.5, 12.4, "equipoise means genuine uncertainty among clinicians",
                          watch_url_at(S01E01, 8.5)),
    ]
    run = rows(snapshot_db, "select source, status, error from sync_runs order by id desc limit 1")[0]
    assert run == {"source": "transcripts", "status": "ok", "error": "rate limited at WscAtTU4dzE"}


def test_nothing_is_asked_before_its_time_and_delays_grow(snapshot_db, server):
    videos = {S01E01: {}}
    factory = factory_for(videos)
    run_fetch(snapshot_db, max_videos=1, ydl_factory=factory, sleep=[].append, now=NOW)
    assert captions_rows(snapshot_db)[S01E01]["next_check_at"] == iso(NOW + dt.timedelta(hours=6))
    # An hour later, the next never-checked video is asked, not the one checked.
    run_fetch(snapshot_db, max_videos=1, ydl_factory=factory, sleep=[].append, now=NOW + dt.timedelta(hours=1))
    assert factory.calls == [S01E01, S01E02]
    # Every video checked and found empty: nothing is due until the delay passes.
    run_fetch(snapshot_db, max_videos=100, ydl_factory=factory, sleep=[].append, now=NOW + dt.timedelta(hours=2))
    asked = len(factory.calls)
    assert asked == WATCHABLE
    run_fetch(snapshot_db, max_videos=100, ydl_factory=factory, sleep=[].append, now=NOW + dt.timedelta(hours=3))
    assert len(factory.calls) == asked
    # The second "none" in a row waits twice as long.
    second = NOW + dt.timedelta(hours=6, minutes=1)
    run_fetch(snapshot_db, max_videos=1, ydl_factory=factory, sleep=[].append, now=second)
    row = captions_rows(snapshot_db)[S01E01]
    assert (row["state"], row["attempts"], row["next_check_at"]) == ("none", 2, iso(second + dt.timedelta(hours=12)))


def test_unchanged_captions_are_not_rewritten_and_a_video_gone_private_keeps_them(snapshot_db, server):
    # Every watchable recording is checked each time (the others have no captions).
    videos = {S01E01: automatic_only(server, "hDKuw28ATe4.en-orig.json3")}
    factory = factory_for(videos)
    run_fetch(snapshot_db, max_videos=100, ydl_factory=factory, sleep=[].append, now=NOW)
    ids = rows(snapshot_db, "select id from transcript_segments order by id")
    report = run_fetch(snapshot_db, max_videos=100, ydl_factory=factory, sleep=[].append, now=NOW + dt.timedelta(days=2))
    assert (report.fetched, report.unchanged) == (0, 1)
    assert rows(snapshot_db, "select id from transcript_segments order by id") == ids
    assert captions_rows(snapshot_db)[S01E01]["attempts"] == 2
    # A re-check that finds what is stored writes no ledger row and counts no changed row (issue
    # #19): when it checked and when it checks next are bookkeeping, updated in place.
    run = rows(snapshot_db, "select id, rows_changed from sync_runs order by id desc limit 1")[0]
    assert run["rows_changed"] == 0
    assert rows(snapshot_db, "select count(*) n from changes where run_id = ?", [run["id"]]) == [{"n": 0}]
    row = captions_rows(snapshot_db)[S01E01]
    assert (row["checked_at"], row["fetched_at"]) == (iso(NOW + dt.timedelta(days=2)), iso(NOW))

    videos[S01E01] = {"refusal": "private"}
    report = run_fetch(snapshot_db, max_videos=100, ydl_factory=factory, sleep=[].append, now=NOW + dt.timedelta(days=9))
    assert report.unavailable == 1
    row = captions_rows(snapshot_db)[S01E01]
    # The video's state, not a caption failure: what was stored stays, and is said to be stored.
    assert (row["state"], row["track"], row["segments"], row["content_hash"] is not None) == (
        "unavailable", "en-orig", 2, True)
    assert rows(snapshot_db, "select count(*) n from transcript_segments where removed_at is null") == [{"n": 2}]


def test_sync_with_transcripts_survives_a_bot_wall(runner, db_path, server, monkeypatch):
    factory = factory_for({S01E01: {"refusal": "bot_wall"}, S01E02: automatic_only(server, "hDKuw28ATe4.en-orig.json3")})
    monkeypatch.setattr(transcripts, "_default_factory", factory)
    result = runner.invoke(cli, ["sync", "--snapshot", "--transcripts", "--db", db_path])
    assert result.exit_code == 0, result.output
    assert "sync 1 ok (snapshot): 30 talks" in result.output
    assert f"captions: 0 fetched, 0 unchanged, 0 none, 1 blocked; stopped (bot wall at {S01E01}), " \
           f"{WATCHABLE - 1} more videos wait until" in result.output
    assert factory.calls == [S01E01] and server.requests == []
    assert rows(db_path, "select count(*) n from talks") == [{"n": 30}]
    assert rows(db_path, "select id, source, status from sync_runs") == [
        {"id": 1, "source": "snapshot", "status": "ok"}, {"id": 2, "source": "transcripts", "status": "ok"}]
    state = captions_rows(db_path)
    assert len(state) == WATCHABLE
    wall = state[S01E01]
    assert wall["state"] == "blocked" and "not a bot" in wall["last_error"]
    assert {r["next_check_at"] for r in state.values()} == {wall["next_check_at"]}
    hours = (dt.datetime.fromisoformat(wall["next_check_at"]) - dt.datetime.fromisoformat(wall["checked_at"]))
    assert hours == dt.timedelta(hours=6)
    # A second sync inside the back-off asks YouTube nothing.
    result = runner.invoke(cli, ["sync", "--snapshot", "--transcripts", "--db", db_path])
    assert result.exit_code == 0 and factory.calls == [S01E01]
    assert "captions: 0 fetched, 0 unchanged, 0 none, 0 blocked" in result.output


def test_fetch_command_checks_at_most_max_videos(runner, snapshot_db, server, monkeypatch):
    factory, pauses = factory_for({S01E01: automatic_only(server, "hDKuw28ATe4.en-orig.json3")}), []
    monkeypatch.setattr(transcripts, "_default_factory", factory)
    monkeypatch.setattr(transcripts, "_pause", pauses.append)
    result = runner.invoke(cli, ["transcripts", "fetch", "--db", snapshot_db, "--max-videos", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "captions: 1 fetched, 0 unchanged, 2 none, 0 blocked"
    assert factory.calls == [S01E01, S01E02, S01E03] and len(pauses) == 2
    assert rows(snapshot_db, "select count(*) n from captions") == [{"n": 3}]
    assert runner.invoke(cli, ["transcripts", "fetch", "--db", snapshot_db, "--max-videos", "0"]).exit_code == 2


def test_sync_with_transcripts_fetches_the_same_captions_with_json_logs(runner, tmp_path, server, monkeypatch):
    """JSON logs change nothing but the logs: `sync --transcripts --log-format json` (the
    systemd unit's format) fetches and stores what the text format does, and says it as
    one JSON object on stderr instead of the summary line on stdout."""
    factory = factory_for({S01E01: automatic_only(server, "hDKuw28ATe4.en-orig.json3")})
    monkeypatch.setattr(transcripts, "_default_factory", factory)
    monkeypatch.setattr(transcripts, "_pause", [].append)
    stored, said = {}, {}
    for log_format in ("text", "json"):
        db_path = str(tmp_path / f"{log_format}.db")
        factory.calls.clear()
        result = runner.invoke(cli, ["sync", "--snapshot", "--transcripts", "--db", db_path,
                                     "--log-format", log_format])
        assert result.exit_code == 0, result.output
        assert len(factory.calls) == 10 and factory.calls[0] == S01E01  # the default --max-videos
        assert rows(db_path, "select id, kind, source, status from sync_runs") == [
            {"id": 1, "kind": "sync", "source": "snapshot", "status": "ok"},
            {"id": 2, "kind": "captions", "source": "transcripts", "status": "ok"}]
        when = ("checked_at", "fetched_at", "next_check_at")  # the real now: differs between the two runs
        stored[log_format] = {v: {k: c for k, c in row.items() if k not in when}
                              for v, row in captions_rows(db_path).items()}
        said[log_format] = (result, list(factory.calls))
    assert said["json"][1] == said["text"][1]  # the same videos asked, in the same order
    said = {log_format: result for log_format, (result, _) in said.items()}
    assert stored["json"] == stored["text"]
    assert len(stored["text"]) == 10 and stored["text"][S01E01]["state"] == "automatic"
    assert said["text"].stdout.splitlines()[-1] == "captions: 1 fetched, 0 unchanged, 9 none, 0 blocked"
    assert said["json"].stdout == ""
    lines = [json.loads(line) for line in said["json"].stderr.splitlines()]  # every line is one object
    captions = [line for line in lines if line.get("step") == "captions"]
    assert captions == [{**captions[0], "level": "INFO", "run_id": 2,
                         "message": "captions: 1 fetched, 0 unchanged, 9 none, 0 blocked",
                         "counts": {"fetched": 1, "unchanged": 0, "none": 9, "blocked": 0,
                                    "needs_token": 0, "unavailable": 0, "deferred": 0}}]
    assert [line.get("step") for line in lines if line.get("step") in ("done", "captions")] == ["done", "captions"]

