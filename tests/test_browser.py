"""Real Chromium against a real `datasette serve -i`: what a researcher and an organizer see.

One module-wide setup: `talks sync --snapshot` builds talks.db in a temporary
directory, a few rows are changed in that copy so every report has something to
show (a recording gone private, a playlist video no talk claims, dated upcoming
talks, a talk titled `<script>alert(1)</script>`), then Datasette serves it
immutable with the repository's metadata.yml on a free loopback port, and one
Chromium (Debian's, see ../shared/docs/testing-notes.md; never `playwright
install`) drives it. Every request the browser makes to anything but 127.0.0.1
is aborted and recorded, and no page may open a dialog or throw.

Run just these: `pytest -m browser`; skip them: `pytest -m "not browser"`.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.datasette_process import serving

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
XSS_TITLE = "<script>alert(1)</script>"
XSS_ABSTRACT = "**Bold claim** <script>alert(2)</script>"
JIMENEZ = "Amelia Jiménez-Sánchez"
JIMENEZ_VIDEO = "_lSc2msTMbY"  # S07E01's recording in the snapshot
PRIVATE_CODE = "S01E03"  # its recording is made private in the test's copy
STALE_CODE = "S01E02"  # its page links a first upload gone private; its recording is watchable
ORPHAN_VIDEO = "zzOrphan001"
START_TIMEOUT = 20.0  # seconds for Datasette to answer
PAGE_TIMEOUT_MS = 10_000

needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
)


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


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, timeout: float = 5.0):
    return _NO_PROXY.open(url, timeout=timeout)


def _build_database(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())",
         "sync", "--snapshot", "--db", str(path), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr


def _stage_rows(path: Path) -> dict:
    """Give every report something to show; the file must be final before Datasette opens it (-i)."""
    con = sqlite3.connect(path)
    try:
        con.row_factory = sqlite3.Row
        ids = {r["code"]: r["id"] for r in con.execute("select id, code from talks where code is not null")}
        upcoming = con.execute("select id, speakers from talks where status = 'upcoming' order by id").fetchall()
        assert len(upcoming) >= 2, "the snapshot should announce upcoming talks"
        dated = upcoming[0]["id"]
        with con:
            # The page announces a date for the first upcoming talk.
            con.execute("update talks set date = '2026-09-14' where id = ?", [dated])
            # A recording goes private: the talk is missing (once), the feed drops it.
            con.execute(
                "update videos set availability = 'private' where video_id = (select video_id from talks where code = ?)",
                [PRIVATE_CODE],
            )
            # A page still links a first upload that went private: a stale link.
            con.execute("insert into videos (video_id, availability) values ('zzFirstUp01', 'private')")
            con.execute("update talks set page_video_id = 'zzFirstUp01' where code = ?", [STALE_CODE])
            # A playlist video that is no talk's recording.
            con.execute(
                "insert into videos (video_id, title, availability, published_at, url) values (?, ?, 'public', ?, ?)",
                [ORPHAN_VIDEO, "Series trailer", "2024-01-01T12:00:00Z", f"https://www.youtube.com/watch?v={ORPHAN_VIDEO}"],
            )
            con.execute(
                "insert into playlist_items (playlist_id, video_id, position) select playlist_id, ?, 999 from playlists limit 1",
                [ORPHAN_VIDEO],
            )
            # A hostile title and abstract (an upcoming talk with a date, so the calendar carries it too).
            xss_id = con.execute(
                "insert into talks (status, title, date, speakers, affiliation, abstract) values ('upcoming', ?, '2026-10-05', ?, ?, ?)",
                [XSS_TITLE, "Mallory Test", "Nowhere University", XSS_ABSTRACT],
            ).lastrowid
        watchable = con.execute(
            "select count(*) from talks join videos using (video_id) where videos.availability in ('public', 'unlisted')"
        ).fetchone()[0]
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")  # immutable readers see the main file only
    finally:
        con.close()
    assert not Path(f"{path}-wal").exists()
    return {
        "talk_ids": ids,
        "xss_id": xss_id,
        "dated_upcoming_id": dated,
        "undated_upcoming_speakers": [r["speakers"] for r in upcoming[1:]],
        "watchable_recordings": watchable,
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    db_path = tmp / "talks.db"  # the file name makes metadata.yml's `databases: talks:` apply
    _build_database(db_path)
    staged = _stage_rows(db_path)
    with serving(db_path, tmp / "datasette.log", START_TIMEOUT) as url:
        yield Site(url=url, db_path=db_path, **staged)


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """One browser tab that may only talk to 127.0.0.1."""

    page: object
    base: str
    blocked: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str):
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
        assert self.page.locator(".message-error").count() == 0, self.page.locator(".message-error").all_inner_texts()
        return self.page

    def cells(self, column: str) -> list[str]:
        return [t.strip() for t in self.page.locator(f"table.rows-and-columns td.col-{column}").all_inner_texts()]


@pytest.fixture(scope="module")
def context(browser, site):
    """One browser context for the module (the site is read-only); every test gets a fresh tab."""
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.current = None  # the running test's Visit

    def only_loopback(route):
        url = route.request.url
        visit = context.current
        if urlsplit(url).hostname == "127.0.0.1":
            if visit is not None:
                visit.allowed.append(url)
            route.continue_()
        else:
            if visit is not None:
                visit.blocked.append(url)
            route.abort()

    context.route("**/*", only_loopback)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def visit(context, site):
    page = context.new_page()
    v = Visit(page=page, base=site.url)
    context.current = v

    def on_dialog(dialog):
        v.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: v.errors.append(str(error)))
    try:
        yield v
        assert v.dialogs == [], "a page opened a dialog"
        assert v.errors == [], "a page threw"
        assert v.allowed, "no request reached Datasette"
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in v.allowed)
    finally:
        context.current = None
        page.close()


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
def test_search_all_tables_finds_jimenez(visit):
    page = visit.open("/-/search?q=jimenez")  # datasette-search-all fetches each table's JSON from the page
    results = page.locator("#search-all-results")
    results.locator("h2", has_text="in talks: talks").wait_for()
    assert JIMENEZ in results.inner_text()


@needs_chromium
def test_recording_url_is_an_embedded_player_that_stays_offline(visit, site):
    page = visit.open(f"/talks/talks/{site.talk_ids['S07E01']}")
    player = page.locator(f"td.col-recording_url lite-youtube[videoid='{JIMENEZ_VIDEO}']")
    assert player.count() == 1
    # lite-yt-embed.js (served by Datasette itself) upgraded the element: it has its play button.
    player.locator("button.lyt-playbtn").wait_for()
    # Its poster comes from i.ytimg.com: asked for, and refused by the route.
    deadline = time.monotonic() + 5
    while not any("i.ytimg.com" in u for u in visit.blocked) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any(urlsplit(u).hostname == "i.ytimg.com" for u in visit.blocked), visit.blocked
    # Pressing play asks YouTube for the real player: blocked too, and the page carries on.
    player.click()
    page.locator(f"lite-youtube[videoid='{JIMENEZ_VIDEO}'] iframe").wait_for(state="attached")
    deadline = time.monotonic() + 5
    while not any("youtube" in (urlsplit(u).hostname or "") for u in visit.blocked) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any("youtube" in (urlsplit(u).hostname or "") for u in visit.blocked), visit.blocked
    assert visit.cells("code") == ["S07E01"]
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
    assert response.headers["content-type"].startswith("application/xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.body())
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = feed.findall("a:entry", ns)
    assert len(entries) == site.watchable_recordings  # the private one is left out
    ids = [e.findtext("a:id", namespaces=ns) for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:") for i in ids)
    by_title = {e.findtext("a:title", namespaces=ns): e for e in entries}
    jimenez = next(e for t, e in by_title.items() if t.startswith("S07E01 "))
    assert jimenez.find("a:link", ns).get("href") == f"https://www.youtube.com/watch?v={JIMENEZ_VIDEO}"
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
    lines = text.replace("\r\n", "\n").replace("\n ", "").splitlines()  # unfold
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events, event = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            event = {}
        elif line == "END:VEVENT":
            events.append(event)
            event = None
        elif event is not None and ":" in line:
            name, value = line.split(":", 1)
            event[name.split(";")[0]] = value
    by_uid = {e["UID"]: e for e in events}
    assert set(by_uid) == {
        f"talks-{site.dated_upcoming_id}@medical-datasets.github.io",
        f"talks-{site.xss_id}@medical-datasets.github.io",
    }
    dated = by_uid[f"talks-{site.dated_upcoming_id}@medical-datasets.github.io"]
    assert dated["DTSTART"].startswith("20260914")
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
    page = visit.open("/-/search?q=mallory")  # rows rendered by the plugin's JavaScript
    page.locator("#search-all-results h2", has_text="in talks: talks").wait_for()
    assert page.locator("#search-all-results").get_by_text(XSS_TITLE, exact=True).count() == 1
    page.wait_for_timeout(200)  # a dialog would arrive asynchronously
    assert visit.dialogs == []
