"""The README's thirteen user tasks, each from the home page in three clicks at most (issue #22).

Every test starts at `/` in real Chromium and follows the path the README's table gives,
counting clicks (a search typed and sent counts as one); it asserts where the person ends
up. Seven are the researchers' (a talk by topic, by speaker, watching it, a season, the
feeds, what was said, on a phone), six the organizers' (missing recordings, stale links,
orphan videos, what to pin, the last sync, what changed).
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser_support import ORPHAN_VIDEO, PRIVATE_CODE, browser, context, needs_chromium, visit  # noqa: F401
from tests.site_browse_support import PHONE, phone_problems, site  # noqa: F401
from tests.test_site_pages import FAILED_ERROR, REPLACED_CODE

pytestmark = pytest.mark.browser
MAX_CLICKS = 3


class Path:
    """A person's way through the site from the home page; each click or search is counted."""

    def __init__(self, visit):
        self.page = visit.open("/")
        self.clicks = 0

    def click(self, locator, navigates: bool = True):
        assert locator.count() >= 1, f"nothing to click: {locator}"
        self.clicks += 1
        assert self.clicks <= MAX_CLICKS, "more than three clicks from the home page"
        if navigates:
            with self.page.expect_navigation():
                locator.first.click()
        else:
            locator.first.click()
        return self.page

    def search(self, words: str):
        self.page.locator(".content input[name=q]").first.fill(words)
        return self.click(self.page.locator(".content form.archive-search button").first)

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path


# ----------------------------------------------------------------------------- researchers


@needs_chromium
def test_1_find_a_talk_by_topic(visit, site):
    way = Path(visit)
    page = way.search("fairness")
    page = way.click(page.locator("section.talks a.title"))
    assert way.path.startswith("/talk/S") and "fair" in page.locator("h1").inner_text().lower()


@needs_chromium
def test_2_find_a_talk_by_speaker(visit, site):
    way = Path(visit)
    page = way.search("jimenez")
    page = way.click(page.locator("section.speakers a"))
    assert page.locator("h1").inner_text().endswith("Amelia Jiménez-Sánchez")
    page = way.click(page.locator(".talk-list a.title[href='/talk/S07E01']"))
    assert page.locator("h1").inner_text().startswith("In the Picture")


@needs_chromium
def test_3_watch_a_talk(visit, site):
    way = Path(visit)
    page = way.click(way.page.locator("a.title[href='/talk/S07E01']"))
    way.click(page.locator(".player a.player-start"), navigates=False)
    frame = page.locator(".player iframe")
    frame.wait_for(state="attached")
    assert frame.get_attribute("src").startswith("https://www.youtube-nocookie.com/embed/")


@needs_chromium
def test_4_browse_a_season(visit, site):
    way = Path(visit)
    page = way.click(way.page.locator("nav.season-bar a", has_text="S05"), navigates=False)
    page = way.click(page.locator("#season-5 h2 a"))
    assert way.path == "/season/5" and page.locator(".talk-list li").count() == 3


@needs_chromium
def test_5_follow_the_feeds(visit, site):
    way = Path(visit)
    atom = way.page.locator(".feeds a", has_text="Atom")
    way.clicks += 1  # following the link: a feed reader takes it from here
    response = way.page.request.get(site.url + atom.get_attribute("href"))
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert f'href="{site.url}/talk/' in response.text()  # entries lead to the talk pages
    calendar = way.page.locator(".feeds a", has_text="iCalendar")
    response = way.page.request.get(site.url + calendar.get_attribute("href"))
    assert response.headers["content-type"].startswith("text/calendar") and "BEGIN:VEVENT" in response.text()


@needs_chromium
def test_6_search_what_was_said(visit, site):
    way = Path(visit)
    page = way.search("hospitals")
    group = page.locator("li.hit-group", has=page.locator("a.talk[href='/talk/S07E01']"))
    page = way.click(group.locator("a.title"))
    assert way.path == "/talk/S07E01"
    assert page.locator(".player a.player-start").get_attribute("data-start") == "753"  # a second before the word


@needs_chromium
def test_7_on_a_phone(visit, site):
    visit.page.set_viewport_size(PHONE)
    way = Path(visit)
    page = way.search("living review")
    page = way.click(page.locator("section.talks a.title"))
    way.click(page.locator(".player a.player-start"), navigates=False)
    page.locator(".player iframe").wait_for(state="attached")
    found = phone_problems(page)
    assert found["width"] == [PHONE["width"]] * 2 and found["small"] == [] and found["broken"] == []


# ----------------------------------------------------------------------------- organizers


def _desk(visit):
    way = Path(visit)
    page = way.click(way.page.locator(".archive-nav a[href='/desk']"))
    return way, page


@needs_chromium
def test_8_which_talks_have_no_recording(visit, site):
    way, page = _desk(visit)
    problem = page.locator("li.problem", has=page.locator(f"a.talk[href='/talk/{PRIVATE_CODE}']"))
    assert "Recording missing (private)" in problem.inner_text()


@needs_chromium
def test_9_which_page_links_to_replace(visit, site):
    way, page = _desk(visit)
    problem = page.locator("li.problem", has=page.locator(f"a.talk[href='/talk/{REPLACED_CODE}']"))
    assert problem.locator("a.old").count() == 1 and problem.locator("a.new").count() == 1
    assert "Replace" in problem.inner_text()


@needs_chromium
def test_10_which_videos_are_no_talks(visit, site):
    way, page = _desk(visit)
    assert "Series trailer" in page.locator("ul.orphans").inner_text()


@needs_chromium
def test_11_what_to_pin_or_reject(visit, site):
    way, page = _desk(visit)
    assert f"talks match pin CODE {ORPHAN_VIDEO}" in page.locator("ul.orphans code").all_inner_texts()


@needs_chromium
def test_12_did_the_last_sync_work(visit, site):
    way, page = _desk(visit)
    last = page.locator(".desk-runs li.run").first
    assert last.locator(".status").inner_text() == "failed" and last.locator(".error").inner_text() == FAILED_ERROR
    page = way.click(last.locator("a"))
    assert way.path.startswith("/talks/sync_runs/")


@needs_chromium
def test_13_what_changed_for_a_talk(visit, site):
    way = Path(visit)
    page = way.click(way.page.locator("a.title[href='/talk/S07E01']"))
    assert "Title changed from" in page.locator("#history").inner_text()  # in words, for readers
    page = way.click(page.locator("#history a", has_text="every field change"))  # the ledger
    assert way.path == "/talks/changes" and "title" in visit.cells("column_name")
