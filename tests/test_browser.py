"""Real Chromium against a real `datasette serve -i`: what a researcher and an organizer see.

One module-wide setup: `talks sync --snapshot` builds talks.db in a temporary
directory, a few rows are changed in that copy so every report has something to
show (a recording gone private, a playlist video no talk claims, dated upcoming
talks, a talk titled `<script>alert(1)</script>`), then Datasette serves it
immutable with the repository's metadata.yml on a free loopback port, and one
Chromium (Debian's, see tests/browser_support.py) drives it. Every request the browser makes to anything but 127.0.0.1
is aborted and recorded, and no page may open a dialog or throw.

Run just these: `pytest -m browser`; skip them: `pytest -m "not browser"`.
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from icalendar import Calendar

from tests.browser_support import (  # noqa: F401  (fixtures)
    JIMENEZ, JIMENEZ_VIDEO, ORPHAN_VIDEO, PRIVATE_CODE, STALE_CODE, START_TIMEOUT, XSS_ABSTRACT, XSS_TITLE,
    browser, build_database, context, needs_chromium, stage_rows, visit,
)
from tests.datasette_process import serving

pytestmark = pytest.mark.browser

# ----------------------------------------------------------------------------- the site


@dataclass
class Site:
    url: str
    db_path: Path
    talk_ids: dict[str, int]  # code -> talks.id
    xss_id: int
    dated_upcoming_id: int
    undated_upcoming_speakers: list[str]
    watchable_recordings: int


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    db_path = tmp / "talks.db"  # the file name makes metadata.yml's `databases: talks:` apply
    build_database(db_path)
    staged = stage_rows(db_path)
    with serving(db_path, tmp / "datasette.log", START_TIMEOUT) as url:
        yield Site(url=url, db_path=db_path, **staged)


# ----------------------------------------------------------------------------- a researcher


@needs_chromium
def test_talks_table_search_finds_jimenez_without_the_accent(visit):
    page = visit.open("/talks/talks")
    assert "One row per talk" in page.locator(".metadata-description").inner_text()
    page.locator("input[name=_search]").fill("jimenez")
    with page.expect_navigation():
        page.locator("input[name=_search]").press("Enter")
    assert "_search=jimenez" in page.url
    assert visit.cells("code") == ["S07E01"]
    assert visit.cells("speakers") == [JIMENEZ]
    assert "1 row where search matches" in page.locator("h3").first.inner_text()
    facets = page.locator(".facet-info").evaluate_all("els => els.map(e => e.dataset.column)")
    assert set(facets) >= {"status", "season", "affiliation"}


@needs_chromium
def test_search_all_is_the_one_search(visit):
    page = visit.open("/-/search?q=jimenez")  # datasette-search-all's address leads to the archive's search
    assert urlsplit(page.url).path == "/search"
    first = page.locator("ol.results li.result a.title").first
    assert first.get_attribute("href") == "/talk/S07E01"
    assert JIMENEZ in page.locator("ol.results").inner_text()


@needs_chromium
def test_talk_page_player_stays_offline_until_played(visit, site):
    page = visit.open("/talk/S07E01")
    player = page.locator(f".player a.player-start[data-video='{JIMENEZ_VIDEO}']")
    assert player.count() == 1
    assert player.get_attribute("href") == f"https://www.youtube.com/watch?v={JIMENEZ_VIDEO}"
    # Its poster comes from i.ytimg.com: asked for, and refused by the route.
    deadline = time.monotonic() + 5
    while not any("i.ytimg.com" in u for u in visit.blocked) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any(urlsplit(u).hostname == "i.ytimg.com" for u in visit.blocked), visit.blocked
    assert not any("youtube" in (urlsplit(u).hostname or "") for u in visit.blocked)  # nothing else before play
    # Pressing play asks YouTube for the real player: blocked too, and the page carries on.
    player.click()
    frame = page.locator(".player iframe")
    frame.wait_for(state="attached")
    assert frame.get_attribute("src").startswith(f"https://www.youtube-nocookie.com/embed/{JIMENEZ_VIDEO}?")
    deadline = time.monotonic() + 5
    while not any("youtube" in (urlsplit(u).hostname or "") for u in visit.blocked) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any("youtube" in (urlsplit(u).hostname or "") for u in visit.blocked), visit.blocked
    assert all(urlsplit(u).hostname != "127.0.0.1" for u in visit.blocked)


@needs_chromium
def test_abstracts_render_as_markdown_on_the_talk_page(visit, site):
    page = visit.open(f"/talks/talks/{site.talk_ids['S07E01']}")
    abstract = page.locator("td.col-abstract")
    link = abstract.locator("a[href='http://inthepicture.itu.dk/']")
    assert link.count() == 1 and link.inner_text() == "http://inthepicture.itu.dk/"
    assert "](" not in abstract.inner_text()
    assert abstract.locator("p").count() >= 1
    page = visit.open(f"/talks/talks/{site.talk_ids['S04E02']}")
    assert page.locator("td.col-abstract em").first.inner_text() == "poorer"


@needs_chromium
@pytest.mark.parametrize(
    "path, column, expected",
    [
        ("/talks/search_talks?q=jimenez", "code", ["S07E01"]),
        ("/talks/search_talks?q=" + quote(JIMENEZ), "code", ["S07E01"]),  # as written, hyphen and all
        ("/talks/search_recordings?q=dataset", None, []),  # the snapshot has no transcripts
        ("/talks/missing", "code", [PRIVATE_CODE]),
        ("/talks/stale", "code", [STALE_CODE]),
        ("/talks/orphans", "video_id", [ORPHAN_VIDEO]),
    ],
    ids=["search_talks", "search_talks-as-written", "search_recordings", "missing", "stale", "orphans"],
)
def test_canned_queries_render(visit, path, column, expected):
    page = visit.open(path)
    assert page.locator("h1").inner_text().strip()
    assert page.locator("form.sql").count() == 1
    if expected:
        assert visit.cells(column) == expected
    else:
        assert page.locator("table.rows-and-columns tbody tr").count() == 0
        assert "0 results" in page.locator("body").inner_text()


@needs_chromium
def test_organizer_reports_say_why(visit):
    page = visit.open("/talks/missing")
    assert visit.cells("reason") == ["private"]
    page = visit.open("/talks/missing_recordings")
    assert page.locator(".facet-info[data-column=reason]").count() == 1
    visit.open("/talks/stale")
    assert visit.cells("reason") == ["private"]


# ----------------------------------------------------------------------------- feeds


@needs_chromium
def test_atom_feed_of_new_recordings(visit, site):
    page = visit.open("/talks/new_recordings")  # a subscriber finds the feed on the query's page
    href = page.locator(".export-links a", has_text="atom").get_attribute("href")
    assert href.endswith("/talks/new_recordings.atom")
    response = page.request.get(site.url + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.body())
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = feed.findall("a:entry", ns)
    assert len(entries) == site.watchable_recordings  # the private one is left out
    ids = [e.findtext("a:id", namespaces=ns) for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:") for i in ids)
    by_title = {e.findtext("a:title", namespaces=ns): e for e in entries}
    jimenez = next(e for t, e in by_title.items() if t.startswith("S07E01 "))
    assert jimenez.find("a:link", ns).get("href") == f"{site.url}/talk/S07E01"  # the archive's page, not YouTube
    assert jimenez.findtext("a:id", namespaces=ns).endswith(JIMENEZ_VIDEO)
    assert jimenez.findtext("a:author/a:name", namespaces=ns) == JIMENEZ
    assert not any(t.startswith(PRIVATE_CODE + " ") for t in by_title)


@needs_chromium
def test_icalendar_of_upcoming_talks(visit, site):
    page = visit.open("/talks/upcoming_talks")
    href = page.locator(".export-links a", has_text="ics").get_attribute("href")
    assert href.endswith("/talks/upcoming_talks.ics")
    response = page.request.get(site.url + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text()
    by_uid = {str(e["UID"]): e for e in Calendar.from_ical(response.body()).walk("VEVENT")}
    assert set(by_uid) == {
        f"talks-{site.dated_upcoming_id}@medical-datasets.github.io",
        f"talks-{site.xss_id}@medical-datasets.github.io",
    }
    dated = by_uid[f"talks-{site.dated_upcoming_id}@medical-datasets.github.io"]
    assert dated.decoded("DTSTART") == date(2026, 9, 14) and dated.decoded("DTEND") == date(2026, 9, 15)
    assert str(dated["URL"]) == f"{site.url}/talk/{site.dated_upcoming_id}"
    for speakers in site.undated_upcoming_speakers:  # no date, no event
        assert speakers not in text


# ----------------------------------------------------------------------------- hostile text


@needs_chromium
def test_script_in_a_title_is_shown_as_text(visit, site):
    pages = [
        "/talks/talks?_search=mallory",
        f"/talks/talks/{site.xss_id}",
        "/talks/search_talks?q=mallory",
        "/talks/upcoming_talks",
    ]
    for path in pages:
        page = visit.open(path)
        assert page.get_by_text(XSS_TITLE).count() >= 1, path  # the event name carries the speaker too
        assert page.evaluate("() => [...document.scripts].some(s => s.textContent.includes('alert('))") is False, path
    page = visit.open(f"/talks/talks/{site.xss_id}")
    abstract = page.locator("td.col-abstract")
    assert abstract.locator("strong").inner_text() == "Bold claim"
    assert "<script>alert(2)</script>" in abstract.inner_text()
    page = visit.open("/search?q=mallory")
    assert page.locator("ol.results a.title").get_by_text(XSS_TITLE, exact=True).count() == 1
    page = visit.open(f"/talk/{site.xss_id}")
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.locator(".abstract strong").inner_text() == "Bold claim"
    page.wait_for_timeout(200)  # a dialog would arrive asynchronously
    assert visit.dialogs == []


# ----------------------------------------------------------------------------- Datasette's own pages under a CSP


@needs_chromium
def test_datasette_pages_work_under_their_content_security_policy(visit):
    """Issue 21, item 10: Datasette's pages now send a Content-Security-Policy that runs no
    inline script but the few of its own templates (by hash): the SQL editor and the
    column menus still work, and the browser reports no violation."""
    refused = []
    visit.page.on("console", lambda message: refused.append(message.text)
                  if "Content Security Policy" in message.text else None)
    for path in ("/talks", "/talks?sql=" + quote("select code, title from talks order by code limit 3")):
        page = visit.open(path)
        assert page.locator(".CodeMirror").count() == 1  # the editor's inline script ran
    assert page.locator("button#sql-format").is_visible()
    page = visit.open("/talks/talks")
    assert page.evaluate("window.DATASETTE_ALLOW_FACET") is True
    page.locator("th.col-title svg.dropdown-menu-icon").click()
    with page.expect_navigation():
        page.locator(".dropdown-menu .dropdown-facet").click()  # shown only when DATASETTE_ALLOW_FACET ran
    assert "_facet=title" in page.url
    assert refused == []
