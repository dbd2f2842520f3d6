"""What every browser test shares: Debian's Chromium, a loopback-only tab, a staged database.

`build_database` runs `talks sync --snapshot`; `stage_rows` changes a few rows so every report
has something to show (a recording gone private, a playlist video no talk claims, dated
upcoming talks, a talk titled `<script>alert(1)</script>`). The fixtures `browser`, `context`
and `visit` need a module-level `site` fixture (an object with `.url`) in the test module.
Chromium is launched as ../shared/docs/testing-notes.md says; never `playwright install`.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

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


def build_database(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())",
         "sync", "--snapshot", "--db", str(path), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr


def stage_rows(path: Path) -> dict:
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
