"""The archive as people see it (issue #9), in real Chromium against a real Datasette.

The snapshot database staged as in test_browser.py (a private recording, an orphan video,
dated upcoming talks, a `<script>` title), plus: transcript segments for S07E01, a webinar
link for S02E01 to a deleted upload while its recording is another video (a stale link to
replace), a failed sync, and a later change of S07E01's title (its history).

With TALKS_SCREENSHOTS=1 the screenshots go to docs/screenshots/ (the README shows them);
otherwise to a temporary folder, so the code that makes them always runs.
"""
from __future__ import annotations

import os
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser_support import (  # noqa: F401  (fixtures)
    JIMENEZ, JIMENEZ_VIDEO, PRIVATE_CODE, ROOT, START_TIMEOUT, XSS_TITLE, browser, build_database, context,
    needs_chromium, stage_rows, visit,
)
from tests.datasette_process import serving

pytestmark = pytest.mark.browser

REPLACED_CODE = "S02E01"
DELETED_UPLOAD = "zzDeleted01"
SEGMENTS = [  # (start, end, text) of S07E01's recording
    (0.0, 6.5, "Welcome everyone to the webinar."),
    (65.0, 71.0, "Annotators disagreed on almost a third of the chest images."),
    (754.0, 760.0, "So the living review tracks artifacts across hospitals."),
]
FAILED_ERROR = "Error: the YouTube Data API refused the key (quotaExceeded)"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Site:
    url: str
    talk_ids: dict[str, int]
    xss_id: int
    stale_recording: str
    jimenez_speaker: int


def _stage_site_rows(path: Path) -> dict:
    con = sqlite3.connect(path)
    try:
        talk_ids = dict(con.execute("select code, id from talks where code is not null"))
        with con:
            con.executemany(
                "insert into transcript_segments (video_id, start_seconds, end_seconds, text, url)"
                " values (?, ?, ?, ?, ?)",
                [(JIMENEZ_VIDEO, s, e, t, f"https://www.youtube.com/watch?v={JIMENEZ_VIDEO}&t={int(s)}s")
                 for s, e, t in SEGMENTS],
            )
            # no triggers index transcript_segments: its writer does (sync/transcripts/save.py)
            con.execute("insert into transcript_segments_fts (rowid, text, boundary_text)"
                        " select id, text, boundary_text from transcript_segments where removed_at is null")
            recording = con.execute("select video_id from talks where code = ?", [REPLACED_CODE]).fetchone()[0]
            con.execute("insert into videos (video_id, title, availability, url) values (?, NULL, 'deleted', ?)",
                        [DELETED_UPLOAD, f"https://www.youtube.com/watch?v={DELETED_UPLOAD}"])
            con.execute("update talks set page_video_id = ? where code = ?", [DELETED_UPLOAD, REPLACED_CODE])
            con.execute("update talks set bio = bio || ' She holds an M.Sc. in Physics.' where code = 'S07E01'")
            con.execute("update videos set duration_seconds = 3725 where video_id = ?", [JIMENEZ_VIDEO])
            # The snapshot sync at a fixed time, so the screenshots change only when the pages do.
            con.execute("update sync_runs set started_at = '2026-08-11T06:00:00+00:00',"
                        " finished_at = '2026-08-11T06:00:01+00:00' where id = 1")
            # A field changed by a later sync, as the talk's history shows it.
            con.execute("insert into sync_runs (started_at, status, source)"
                        " values ('2030-01-01T05:00:00+00:00', 'ok', 'none')")
            con.execute(
                "insert into changes (run_id, table_name, row_key, column_name, old_value, new_value)"
                " select max(id), 'talks', ?, 'title', 'In the Picture (draft)', 'In the Picture' from sync_runs",
                [str(talk_ids["S07E01"])],
            )
            con.execute(
                "insert into sync_runs (started_at, finished_at, status, source, requests, quota_units, error)"
                " values ('2026-08-12T06:00:00+00:00', '2026-08-12T06:00:09+00:00', 'failed', 'api', 3, 3, ?)",
                [FAILED_ERROR],
            )
            speaker = con.execute("select id from speakers where name = ?", [JIMENEZ]).fetchone()[0]
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()
    return {"stale_recording": recording, "jimenez_speaker": speaker}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("archive")
    db_path = tmp / "talks.db"
    build_database(db_path)
    staged = stage_rows(db_path)
    extra = _stage_site_rows(db_path)
    with serving(db_path, tmp / "datasette.log", START_TIMEOUT) as url:
        yield Site(url=url, talk_ids=staged["talk_ids"], xss_id=staged["xss_id"], **extra)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if os.environ.get("TALKS_SCREENSHOTS"):
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


def _in_viewport(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    viewport = page.viewport_size
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], (selector, box)
    assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], (selector, box)
    return box


# ----------------------------------------------------------------------------- a talk


@needs_chromium
def test_talk_page_first_screen(visit, site, shots):
    visit.page.set_viewport_size(DESKTOP)
    page = visit.open("/talk/S07E01")
    assert page.locator("h1").inner_text().startswith("In the Picture")
    _in_viewport(page, "h1")
    speaker = page.locator("a.speaker").first
    assert speaker.inner_text() == JIMENEZ
    assert speaker.get_attribute("href") == f"/speaker/{site.jimenez_speaker}-amelia-jimenez-sanchez"
    _in_viewport(page, "a.speaker")
    player = _in_viewport(page, ".player")
    assert abs(player["width"] / player["height"] - 16 / 9) < 0.02
    assert page.title().startswith("S07E01: In the Picture")
    assert page.locator("meta[property='og:title']").get_attribute("content").startswith("S07E01: In the Picture")
    assert page.locator("meta[property='og:image']").get_attribute("content") == \
        f"https://i.ytimg.com/vi/{JIMENEZ_VIDEO}/hqdefault.jpg"
    assert page.locator(".abstract a[href='http://inthepicture.itu.dk/']").count() == 1
    bio = page.locator(".bio")
    assert "M.Sc. in Physics" in bio.inner_text() and bio.locator("a[href*='M.Sc']").count() == 0
    assert page.locator("a[rel=prev]").get_attribute("href").startswith("/talk/S06E")
    assert page.locator("a[rel=next]").get_attribute("href") == "/talk/S07E02"
    feeds = page.locator("link[rel=alternate]").evaluate_all("els => els.map(e => [e.type, e.getAttribute('href')])")
    assert ["application/atom+xml", "/talks/new_recordings.atom"] in feeds
    page.screenshot(path=str(shots / "talk.png"))


@needs_chromium
def test_talk_page_transcript_and_history(visit, site):
    page = visit.open("/talk/S07E01")
    stamps = page.locator(".transcript a.ts")
    assert stamps.all_inner_texts() == ["0:00", "1:05", "12:34"]
    assert stamps.nth(1).get_attribute("href") == "/talk/S07E01?t=64#player"  # a second before 1:05
    stamps.nth(1).click()  # the player starts at that second
    frame = page.locator(".player iframe")
    frame.wait_for(state="attached")
    assert "start=64" in frame.get_attribute("src")
    page = visit.open("/talk/S07E01?q=hospitals")  # search inside this talk
    assert page.locator(".transcript a.ts").all_inner_texts() == ["12:33"]  # a hit shows the second it opens at
    assert page.locator(".transcript mark").inner_text() == "hospitals"
    history = page.locator("#history")  # in words for readers, oldest first; the ledger one click away
    story = history.locator("ol.story li").all_inner_texts()
    assert story[0].endswith("Listed as S07E01.")
    assert story[-1] == "2030-01-01* Title changed from “In the Picture (draft)” to “In the Picture”."
    assert "sync 2" not in history.inner_text() and "page_video_id" not in history.inner_text()
    changes = history.locator("a", has_text="every field change of S07E01").get_attribute("href")
    assert parse_qs(urlsplit(changes).query) == {"table_name": ["talks"], "row_key": [str(site.talk_ids["S07E01"])]}


@needs_chromium
def test_talk_without_recording_says_why(visit, site):
    page = visit.open(f"/talk/{PRIVATE_CODE}")
    assert page.locator(".player").count() == 0
    assert "Recording missing: private" in page.locator(".no-recording").inner_text()
    assert page.locator(".no-recording a[href^='https://www.youtube.com/watch?v=']").count() == 1


@needs_chromium
def test_talk_without_code_by_id(visit, site):
    page = visit.open(f"/talk/{site.xss_id}")
    assert page.locator("h1").inner_text() == XSS_TITLE  # shown as text
    assert "Not recorded yet" in page.locator("#player").inner_text()


# ----------------------------------------------------------------------------- home, search, speakers


@needs_chromium
def test_home_is_the_archive(visit, site):
    page = visit.open("/")
    sections = page.locator("section.season h2").all_inner_texts()
    assert sections[0] == "Upcoming" and sections[1].startswith("Season ")
    assert page.locator("section.upcoming").get_by_text(XSS_TITLE, exact=True).count() == 1
    line = page.locator("li.talk-line", has=page.locator(".code", has_text=PRIVATE_CODE))
    assert line.locator(".missing").inner_text() == "recording missing"
    assert page.locator("li.talk-line .missing").count() == 1
    assert page.locator("a.title[href='/talk/S07E01']").count() == 1
    assert page.locator("a[href='/talks']").count() >= 1 and page.locator("a[href='/desk']").count() >= 1
    atom = page.locator("link[rel=alternate][type='application/atom+xml']")
    assert atom.get_attribute("title") == "New recordings"
    response = page.request.get(site.url + atom.get_attribute("href"))
    feed = ET.fromstring(response.body())
    assert feed.findtext("{http://www.w3.org/2005/Atom}title") == "New recordings"
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) > 0


@needs_chromium
def test_typing_jimenez_in_the_home_search_opens_the_talk(visit, site, shots):
    visit.page.set_viewport_size(DESKTOP)
    page = visit.open("/")
    page.locator("input[name=q]").fill("jimenez")
    with page.expect_navigation():
        page.locator("input[name=q]").press("Enter")
    assert urlsplit(page.url).path == "/search" and parse_qs(urlsplit(page.url).query) == {"q": ["jimenez"]}
    # A name: the speaker comes first, then the talks
    speaker = page.locator("section.hits a").first
    assert speaker.get_attribute("href") == f"/speaker/{site.jimenez_speaker}-amelia-jimenez-sanchez"
    first = page.locator("section.hits.talks a").first
    assert first.get_attribute("href") == "/talk/S07E01"
    assert page.locator("ol.results li.result .snippet mark").first.inner_text() == "Jiménez"
    with page.expect_navigation():
        first.click()
    assert urlsplit(page.url).path == "/talk/S07E01"
    page = visit.open("/search?q=fairness")
    page.screenshot(path=str(shots / "search.png"))


@needs_chromium
def test_search_is_ranked_stemmed_and_says_when_nothing_matches(visit):
    page = visit.open("/search?q=fair")
    fair = page.locator("ol.results li.result a.title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    page = visit.open("/search?q=fairness")
    fairness = page.locator("ol.results li.result a.title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert fair == fairness and len(fair) >= 5  # one stem: fair, fairness
    titles = page.locator("ol.results li.result a.title").all_inner_texts()
    assert "fair" in titles[0].lower()  # a title hit (fair, stemmed) ranks first
    page = visit.open("/search?q=" + "zzqx%20AND%20%22%2A")
    assert "No results for" in page.locator(".no-results").inner_text()


@needs_chromium
def test_transcript_hit_links_to_the_second(visit):
    page = visit.open("/search?q=annotators+disagreed")
    link = page.locator("section.transcripts a.title").first
    href = link.get_attribute("href")
    assert href == "/talk/S07E01?t=64#player"  # a second before the segment (stored without word times)
    with page.expect_navigation():
        link.click()
    assert page.locator(".player a.player-start").get_attribute("data-start") == "64"


@needs_chromium
def test_speaker_page(visit, site):
    page = visit.open(f"/speaker/{site.jimenez_speaker}-amelia-jimenez-sanchez")
    assert page.locator("h1").inner_text().endswith(JIMENEZ)
    assert page.locator(".talk-list a.title[href='/talk/S07E01']").count() == 1
    assert "IT University of Copenhagen" in page.locator(".affiliations").inner_text()


# ----------------------------------------------------------------------------- the desk


@needs_chromium
def test_desk_says_what_to_do(visit, site, shots):
    visit.page.set_viewport_size(DESKTOP)
    page = visit.open("/desk")
    runs = page.locator(".desk-runs li.run")
    assert runs.first.locator(".status").inner_text() == "failed"  # newest first, with its error and spend
    assert runs.first.locator(".error").inner_text() == FAILED_ERROR
    assert "3 requests · 3 quota units" in " ".join(runs.first.inner_text().split())
    assert runs.nth(1).locator(".status").inner_text() == "ok"
    stale = page.locator("li.problem", has=page.locator(f"a.talk[href='/talk/{REPLACED_CODE}']"))
    old = stale.locator("a.old")
    new = stale.locator("a.new")
    assert old.get_attribute("href") == f"https://www.youtube.com/watch?v={DELETED_UPLOAD}"
    assert new.get_attribute("href") == f"https://www.youtube.com/watch?v={site.stale_recording}"
    assert "Replace" in stale.inner_text() and "deleted" in stale.inner_text()
    private = page.locator("li.problem", has=page.locator(f"a.talk[href='/talk/{PRIVATE_CODE}']"))
    assert private.count() == 1  # missing and stale: one problem
    assert "Recording missing (private)" in private.inner_text()
    assert "Replace" not in private.inner_text()
    assert page.locator("ul.orphans li").count() == 1
    page.screenshot(path=str(shots / "desk.png"))


@needs_chromium
def test_pages_run_only_the_sites_script_files(visit, site):
    page = visit.open("/")
    response = page.request.get(site.url + "/talk/S07E01")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert page.evaluate("() => [...document.scripts].filter(s => !s.src).length") == 0
    menu = page.locator("details.nav-menu")
    assert menu.count() == 1  # Datasette's menu still closes on a click outside it (close-menus.js)
    menu.locator("summary").click()
    assert menu.evaluate("d => d.open") is True
    page.locator("h1").click()
    assert menu.evaluate("d => d.open") is False


# ----------------------------------------------------------------------------- phone


@needs_chromium
def test_pages_fit_a_phone(visit, site):
    visit.page.set_viewport_size(PHONE)
    for path in ["/", "/talk/S07E01", f"/speaker/{site.jimenez_speaker}", "/search?q=fairness", "/desk",
                 f"/talk/{PRIVATE_CODE}"]:
        page = visit.open(path)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths == [PHONE["width"], PHONE["width"]], path
