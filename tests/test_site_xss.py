"""No page or API text runs as script on any served page (issue #13, item 1), in real Chromium.

The database is built the way an attacker would reach it: `talks sync --source none` over
copies of the real pages with payloads in a speaker link (the `watch?v=%22%3E%3Cimg...`
that datasette-youtube-embed 0.2 turned into markup), a title, an abstract and a bio; then
odd video ids and URLs are stored as a hostile API could answer them. Every payload sets
`window.__xss`; each page is loaded, and no flag, dialog, page error, event-handler
attribute, javascript: link or embed may appear.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser_support import (  # noqa: F401  (fixtures)
    ROOT, START_TIMEOUT, browser, context, needs_chromium, visit,
)
from tests.conftest import FIXTURES, TODAY
from tests.datasette_process import serving

pytestmark = pytest.mark.browser

PAGES = FIXTURES / "pages"
LINK_PAYLOAD = "https://www.youtube.com/watch?v=%22%3E%3Cimg%20src=x%20onerror=window.__xss=1%3E"
TITLE_PAYLOAD = "Challenges <img src=x onerror=window.__xss=2> <script>window.__xss=3</script> in dermatology"
ABSTRACT_PAYLOAD = ("<img src=x onerror=window.__xss=4> [click](javascript:window.__xss=5) "
                    '<a href="javascript:window.__xss=6">x</a> ')
BIO_PAYLOAD = '<svg onload=window.__xss=7></svg> ![i](x" onerror="window.__xss=8) '
ODD_ID = '"><img src=x onerror=window.__xss=9>'
ODD_URL = "https://www.youtube.com/watch?v=%22%3E%3Cimg%20src=x%20onerror=window.__xss=10%3E"


@dataclass
class Site:
    url: str
    hostile_talk: int  # the talk whose recording is the odd id


def _hostile_pages(folder: Path) -> tuple[Path, Path]:
    web = (PAGES / "2026-08-11_dd744744_webinar.md").read_text(encoding="utf-8")
    talks = (PAGES / "2026-08-11_dd744744_webinar_talks.md").read_text(encoding="utf-8")
    replacements = [
        (web, "https://www.youtube.com/watch?v=hDKuw28ATe4", LINK_PAYLOAD),  # S01E01's speaker link
        (web, "**Challenges with equipoise and fairness in AI/ML datasets in dermatology**", f"**{TITLE_PAYLOAD}**"),
    ]
    for text, old, new in replacements:
        assert old in text
    web = web.replace(replacements[0][1], LINK_PAYLOAD).replace(replacements[1][1], f"**{TITLE_PAYLOAD}**")
    for old in ("Abstract: The increasing energy consumption", "Short bio: Abhishek Singh Sambyal"):
        assert old in talks
    talks = talks.replace("Abstract: The increasing energy consumption",
                          f"Abstract: {ABSTRACT_PAYLOAD}The increasing energy consumption")
    talks = talks.replace("Short bio: Abhishek Singh Sambyal", f"Short bio: {BIO_PAYLOAD}Abhishek Singh Sambyal")
    (folder / "webinar.md").write_text(web, encoding="utf-8")
    (folder / "webinar_talks.md").write_text(talks, encoding="utf-8")
    return folder / "webinar.md", folder / "webinar_talks.md"


def _build(folder: Path) -> Path:
    web, talks = _hostile_pages(folder)
    db_path = folder / "talks.db"
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())", "sync", "--source", "none",
         "--page", str(web), "--talks-page", str(talks), "--today", TODAY, "--db", str(db_path), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return db_path


def _store_hostile_api_rows(db_path: Path) -> int:
    """What a hostile API answer could leave: an odd id, a URL with markup, a javascript: link."""
    con = sqlite3.connect(db_path)
    try:
        with con:
            assert con.execute("select count(*) from speakers where url = ?", [LINK_PAYLOAD]).fetchone()[0] == 1
            assert con.execute("select count(*) from talks where abstract like '%__xss=4%'").fetchone()[0] == 1
            assert con.execute("select count(*) from talks where bio like '%__xss=7%'").fetchone()[0] == 1
            con.execute("insert into playlists (playlist_id, title) values ('PLhostile', ?)", [TITLE_PAYLOAD])
            for video_id, url in ((ODD_ID, ODD_URL), ("zzPlainOk01", ODD_URL)):
                con.execute(
                    "insert into videos (video_id, title, description, availability, published_at, url, thumbnail_url)"
                    " values (?, ?, ?, 'public', '2024-01-01T00:00:00Z', ?, ?)",
                    [video_id, TITLE_PAYLOAD, ABSTRACT_PAYLOAD, url, url],
                )
                con.execute("insert into playlist_items (playlist_id, video_id, position) values ('PLhostile', ?, 1)",
                            [video_id])
            talk = con.execute("select id from talks where code = 'S01E02'").fetchone()[0]
            con.execute("update talks set video_id = ?, page_video_id = ?, recording_url = ? where id = ?",
                        [ODD_ID, ODD_ID, ODD_URL, talk])
            con.execute("update speakers set url = 'javascript:window.__xss=11' where id = 2")
            con.execute(
                "insert into transcript_segments (video_id, start_seconds, end_seconds, text, url) values (?, 1, 2, ?, ?)",
                [ODD_ID, "hostile <img src=x onerror=window.__xss=12> words", ODD_URL],
            )
            # no triggers index transcript_segments: its writer does (sync/transcripts/save.py)
            con.execute("insert into transcript_segments_fts (rowid, text, boundary_text)"
                        " select id, text, boundary_text from transcript_segments where removed_at is null")
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()
    return talk


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    db_path = _build(folder)
    talk = _store_hostile_api_rows(db_path)
    with serving(db_path, folder / "datasette.log", START_TIMEOUT) as url:
        yield Site(url=url, hostile_talk=talk)


def _paths(site: Site) -> list[str]:
    return [
        "/talks/speakers", "/talks/speakers/1", "/talks/speakers/2", "/talks/videos", "/talks/unmatched_videos",
        "/talks/talks", "/talks/talks/1", f"/talks/talks/{site.hostile_talk}", "/talks/playlists",
        "/talks/transcript_segments", "/talks/orphans", "/talks/stale", "/talks/missing", "/talks/changes",
        "/talks/search_talks?q=dermatology", "/talks/new_recordings", "/talks/upcoming_talks",
        "/", "/talk/S01E01", "/talk/S01E02", f"/talk/{site.hostile_talk}", "/speaker/1", "/speaker/2",
        "/search?q=dermatology", "/search?q=energy", "/search?q=hostile", "/talk/S01E02?q=hostile", "/desk",
    ]


@needs_chromium
def test_no_payload_runs_on_any_page(visit, site):
    checked = []
    for path in _paths(site):
        page = visit.open(path)
        page.wait_for_load_state("networkidle")
        state = page.evaluate("""() => ({
            flag: window.__xss === undefined ? null : String(window.__xss),
            handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).length,
            jsLinks: [...document.querySelectorAll('a[href], iframe[src]')].filter(e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src'))).length,
            embeds: document.querySelectorAll('lite-youtube, iframe').length,
            odd: [...document.querySelectorAll('[data-video]')].map(e => e.dataset.video).filter(v => !/^[A-Za-z0-9_-]{11}$/.test(v)).length,
        })""")
        assert state == {"flag": None, "handlers": 0, "jsLinks": 0, "embeds": 0, "odd": 0}, path
        checked.append(path)
    assert visit.dialogs == [] and visit.errors == []
    assert len(checked) == len(_paths(site))


@needs_chromium
def test_payloads_are_shown_as_text(visit, site):
    page = visit.open("/talk/S01E01")
    assert page.locator("h1").inner_text() == TITLE_PAYLOAD
    page = visit.open("/talks/speakers/1")
    assert LINK_PAYLOAD in page.locator("body").inner_text()
    page = visit.open("/talk/S01E02")  # an odd id is never played: no player, and no link built from it
    assert page.locator(".player").count() == 0
    assert ODD_ID not in (page.locator("#player").inner_html())
    page = visit.open("/speaker/2")  # a javascript: URL is not linked
    assert page.locator("a[href^='javascript']").count() == 0
