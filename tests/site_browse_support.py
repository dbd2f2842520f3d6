"""The archive staged for the browsing tests (issue #22): test_site_browse.py and test_user_tasks.py.

The database of tests/test_site_pages.py (a private recording, a stale link, transcript
segments for S07E01 and its recording's length, a later title change, a failed sync), plus
five moments of S04E01's recording that say "hospitals" (S07E01 says it once), so
transcript hits come in two groups, one with more moments than are shown open.

`phone_problems` runs in the page: what a person on a phone would trip on.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser_support import START_TIMEOUT, build_database, stage_rows
from tests.datasette_process import serving

HOSPITAL_MOMENTS = [(30.0 * n, f"Moment {n}: the hospitals shared their scanners.") for n in range(1, 6)]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class BrowseSite:
    url: str
    db_path: Path
    talk_ids: dict[str, int]
    xss_id: int
    upcoming_id: int  # an announced talk of the snapshot: no code, no recording
    jimenez_speaker: int
    s04e01_video: str


def _stage_browse_rows(path: Path) -> dict:
    con = sqlite3.connect(path)
    try:
        with con:
            video = con.execute("select video_id from talks where code = 'S04E01'").fetchone()[0]
            con.executemany("insert into transcript_segments (video_id, start_seconds, end_seconds, text, seq)"
                            " values (?, ?, ?, ?, ?)",
                            [(video, s, s + 8, text, n) for n, (s, text) in enumerate(HOSPITAL_MOMENTS)])
            con.execute("insert into transcript_segments_fts (rowid, text, boundary_text)"
                        " select id, text, boundary_text from transcript_segments where video_id = ?", [video])
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()
    return {"s04e01_video": video}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.test_site_pages import _stage_site_rows

    tmp = tmp_path_factory.mktemp("browse")
    db_path = tmp / "talks.db"
    build_database(db_path)
    staged = stage_rows(db_path)
    extra = _stage_site_rows(db_path)
    browse = _stage_browse_rows(db_path)
    with serving(db_path, tmp / "datasette.log", START_TIMEOUT) as url:
        yield BrowseSite(url=url, db_path=db_path, talk_ids=staged["talk_ids"], xss_id=staged["xss_id"],
                         upcoming_id=staged["dated_upcoming_id"],
                         jimenez_speaker=extra["jimenez_speaker"], **browse)


# Runs in the page. Tap targets: every link, button, field and summary at least 24 x 24 px,
# except links inside running text from the pages (abstract, bio, the site's intro) and the
# footer: WCAG 2.2's inline exception. Word breaks: a word (a run of 2 to 25 letters and
# digits; longer runs may have to break to fit) drawn on two lines was cut mid-word.
PHONE_PROBLEMS_JS = """
() => {
  const small = [];
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), summary')) {
    if (el.closest('.abstract, .bio, .intro, footer')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not shown (a closed <details>)
    if (r.height < 24 || r.width < 24)
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  const broken = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const words = /[\\p{L}\\p{N}]+/gu;
    let m;
    while ((m = words.exec(node.textContent))) {
      if (m[0].length < 2 || m[0].length > 25) continue;
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return {small, broken, width: [document.documentElement.scrollWidth, window.innerWidth]};
}
"""


def phone_problems(page) -> dict:
    return page.evaluate(PHONE_PROBLEMS_JS)
