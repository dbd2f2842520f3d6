"""Each problem is reported once: a talk's own private or deleted recording is its missing
recording, not an orphan video and a stale link besides.

A synthetic playlist through the stand-in Data API (tests/apiserver.py): the first sync
sees S05E01's and S06E03's recordings public, titled with their codes; by the second,
S05E01's has gone private and S06E03's has been deleted. The playlist also holds real
orphans (a trailer, a private video of nobody's talk), which stay listed as unmatched.
"""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from tenacity import wait_none

from sync import youtube
from sync.cli import cli

from .apiserver import deleted_item, make_video, private_item, running_api_server
from .conftest import FIXTURES, rows

KEY = "TEST-KEY-once.1"
PLAYLIST = "PLreportsOnceLookingGlass"
TODAY = "2026-08-11"
WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"

ZAJAC = "cQGKHaYj4Ak"  # S05E01's recording, as the real page links it
REINKE = "FQ0MpMqmwlQ"  # S05E02's
ALIKHANI = "_ZzRJFdK2pI"  # S06E03's
TRAILER = "trailer0001"
NOBODYS = "privOrphan1"  # a private video that is no talk's
KEPT = ("S05E01", "S05E02", "S06E03")


def webinar_page(linked: bool) -> str:
    """The real page of 2026-08-11 with only three listed talks; without `linked`, their
    lines link no video (only the code in a video's title ties it to its talk)."""
    lines = []
    for line in WEBINAR.read_text("utf-8").splitlines(keepends=True):
        code = re.match(r"\* (S\d\dE\d\d) - ", line)
        if code and code[1] not in KEPT:
            continue
        if code and not linked:
            line = re.sub(r"\[([^\]]+)\]\(https?://youtu[^)]*\)", r"\1", line)
        lines.append(line)
    return "".join(lines)


def upload(video_id: str, title: str, published: str = "2024-03-28") -> dict:
    return make_video(video_id, title, published_at=f"{published}T10:00:00Z", added_at=f"{published}T11:00:00Z")


PUBLIC = [
    upload(TRAILER, "Datasets through the Looking-Glass: series trailer"),
    upload(ZAJAC, "S05E01 - Ground Truth Or Dare: Factors Affecting The Creation Of Medical Datasets"),
    upload(REINKE, "S05E02 - Why your Dataset Matters: Choosing the Right Metrics for Biomedical Image Analysis"),
    upload(ALIKHANI, "S06E03 - Towards Equity: Overcoming Fairness Challenges in Multimodal Learning", "2025-03-01"),
    private_item(NOBODYS),
]
GONE = [
    PUBLIC[0],
    private_item(ZAJAC, added_at="2024-03-28T11:00:00Z"),
    PUBLIC[2],
    deleted_item(ALIKHANI, added_at="2025-03-01T11:00:00Z"),
    PUBLIC[4],
]

MISSING = [
    {"code": "S05E01", "reason": "private", "video_id": ZAJAC},
    {"code": "S06E03", "reason": "deleted", "video_id": ALIKHANI},
]
UNMATCHED = [
    {"video_id": NOBODYS, "title": None, "availability": "private"},
    {"video_id": TRAILER, "title": "Datasets through the Looking-Glass: series trailer", "availability": "public"},
]


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch):
    monkeypatch.setattr(youtube, "BACKOFF", wait_none())


def sync_twice(tmp_path, monkeypatch, linked: bool) -> str:
    """Sync with every recording public, then with S05E01's private and S06E03's deleted."""
    page = tmp_path / "webinar.md"
    page.write_text(webinar_page(linked), "utf-8")
    db_path = str(tmp_path / "talks.db")
    for entries in (PUBLIC, GONE):
        sync(tmp_path, monkeypatch, entries)
    return db_path


def sync(tmp_path, monkeypatch, entries: list[dict]) -> None:
    """One sync of tmp_path's webinar page against a stand-in serving `entries` as the playlist."""
    with running_api_server(KEY) as api:
        monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
        monkeypatch.setenv("YOUTUBE_API_ENDPOINT", api.endpoint)
        api.add_playlist(PLAYLIST, entries)
        result = CliRunner().invoke(cli, [
            "sync", "--db", str(tmp_path / "talks.db"), "--page", str(tmp_path / "webinar.md"),
            "--no-talks-page", "--today", TODAY, "--source", "api", "--playlist", PLAYLIST, "-q"])
        assert result.exit_code == 0, (result.output, result.exc_info)


def reports(db_path) -> dict:
    return {
        "missing": rows(db_path, "SELECT code, reason, video_id FROM missing_recordings"),
        "stale": rows(db_path, "SELECT code, page_video_id, video_id, reason FROM stale_links"),
        "unmatched": rows(db_path, "SELECT video_id, title, availability FROM unmatched_videos"),
    }


@pytest.mark.parametrize("linked", [True, False], ids=["page-linked", "code-in-title"])
def test_a_talks_private_or_deleted_recording_is_one_missing_row(tmp_path, monkeypatch, linked):
    db_path = sync_twice(tmp_path, monkeypatch, linked)
    assert reports(db_path) == {"missing": MISSING, "stale": [], "unmatched": UNMATCHED}
    method = "page_link" if linked else "episode_code"
    matches = rows(db_path, "SELECT code, video_id, method, availability FROM matches"
                            " WHERE removed_at IS NULL ORDER BY code")
    assert matches == [
        {"code": "S05E01", "video_id": ZAJAC, "method": method, "availability": "private"},
        {"code": "S05E02", "video_id": REINKE, "method": method, "availability": "public"},
        {"code": "S06E03", "video_id": ALIKHANI, "method": method, "availability": "deleted"},
    ]
    # the stored title (seen while public) is kept: it is what still ties the video by its code
    assert rows(db_path, "SELECT title FROM videos WHERE video_id = ?", [ALIKHANI]) == [
        {"title": "S06E03 - Towards Equity: Overcoming Fairness Challenges in Multimodal Learning"}]


def test_a_public_reupload_takes_over_and_the_dead_link_is_the_one_problem(tmp_path, monkeypatch):
    """S05E01 re-uploaded publicly: it has a recording again; its page still links the
    private first upload, which is a stale link (and still nobody's orphan)."""
    db_path = sync_twice(tmp_path, monkeypatch, linked=True)
    sync(tmp_path, monkeypatch, GONE + [upload("zajacReupl1", "S05E01 - Ground Truth Or Dare (re-upload)")])
    assert reports(db_path) == {
        "missing": MISSING[1:],
        "stale": [{"code": "S05E01", "page_video_id": ZAJAC, "video_id": "zajacReupl1", "reason": "private"}],
        "unmatched": UNMATCHED,
    }
