"""The archive's /search over transcripts, through a real `talks serve` (issue #14).

The snapshot database plus the caption fixtures (`talks transcripts import`): "label noise"
is said across two caption segments of S03E01 (…with label / noise in radiology reports…).
"""
from __future__ import annotations

import html
import json
import re
import sqlite3
import urllib.request
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from sync.cli import cli
from sync.site.data import TRANSCRIPT_HITS
from tests.datasette_process import serving

from .conftest import FIXTURES

pytestmark = pytest.mark.slow
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
COMMON = "zebrafish"  # a word no fixture says, put into more segments than the page shows


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site_search")
    db_path = tmp / "talks.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["sync", "--snapshot", "--db", str(db_path), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["transcripts", "import", str(FIXTURES / "captions"), "--db", str(db_path), "-q"])
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(db_path)
    with con:
        # More hits than the page shows; the one that says the word most often ranks first.
        # A replaced segment (removed_at) says it most often of all, and must not show.
        rows = [("zebraVideo1", n * 10.0, n * 10.0 + 5, f"segment {n} about {COMMON} fins", None)
                for n in range(TRANSCRIPT_HITS + 20)]
        rows.append(("zebraVideo1", 5000.0, 5005.0, f"{COMMON} {COMMON} {COMMON} {COMMON}", None))
        rows.append(("zebraVideo1", 6000.0, 6005.0, " ".join([COMMON] * 8), "2026-01-01T00:00:00+00:00"))
        con.executemany("insert into transcript_segments (video_id, start_seconds, end_seconds, text, removed_at)"
                        " values (?, ?, ?, ?, ?)", rows)
        # no triggers index transcript_segments: its writer indexes the live rows (sync/transcripts/save.py)
        con.execute("insert into transcript_segments_fts (rowid, text, boundary_text) select id, text, boundary_text"
                    " from transcript_segments where video_id = 'zebraVideo1' and removed_at is null")
    con.close()
    with serving(db_path, tmp / "datasette.log") as url:
        yield url


def search_page(base: str, q: str) -> str:
    with _NO_PROXY.open(f"{base}/search?{urlencode({'q': q})}", timeout=30) as response:
        assert response.status == 200
        return response.read().decode()


def transcript_hits(page: str) -> list[tuple[str, str]]:
    """(href, snippet text with <mark>) of each hit in the 'Said in the recordings' section."""
    section = page.split('<section class="hits transcripts">', 1)
    if len(section) == 1:
        return []
    section = section[1].split("</section>", 1)[0]
    hrefs = re.findall(r'<a class="title" href="([^"]+)"', section)
    snippets = re.findall(r'<p class="snippet">(.*?)</p>', section, re.S)
    assert len(hrefs) == len(snippets)
    return [(html.unescape(h), s) for h, s in zip(hrefs, snippets)]


def test_a_phrase_said_across_two_segments_is_found_once_with_its_second(site):
    hits = transcript_hits(search_page(site, "label noise"))
    assert len(hits) == 1  # the boundary hit, counted once (not also as the next segment's)
    href, snippet = hits[0]
    assert href == "/talk/S03E01?t=62#player"  # a second before "label" (63.8 s)
    assert "<mark>label</mark> <mark>noise</mark>" in snippet


def test_one_word_hits_each_segment_that_says_it(site):
    hits = transcript_hits(search_page(site, "noise"))
    assert [h for h, _ in hits] == ["/talk/S03E01?t=65#player"]  # the segment that says it (66.5 s), no boundary hit
    hits = transcript_hits(search_page(site, "spurious correlation"))
    assert [h for h, _ in hits] == ["/talk/S04E01?t=9#player"]
    assert "<mark>spurious</mark> <mark>correlation</mark>" in hits[0][1]


def test_the_best_hits_are_shown_and_highlighted_and_no_replaced_segment(site):
    hits = transcript_hits(search_page(site, COMMON))
    assert len(hits) == TRANSCRIPT_HITS  # of the TRANSCRIPT_HITS + 22 live and replaced segments that say it
    assert "t=4999" in hits[0][0]  # says it four times: ranks first
    assert all(f"<mark>{COMMON}</mark>" in snippet for _, snippet in hits)
    assert not any("t=5999" in href for href, _ in hits)


def test_talks_still_come_before_transcript_hits(site):
    page = search_page(site, "fairness")
    assert page.index('<section class="hits talks">') < page.index('<section class="hits transcripts">')
    assert [h for h, _ in transcript_hits(page)] == ["/talk/S01E01?t=1#player"]  # stemmed: "fair"


def get_json(base: str, path: str) -> dict:
    with _NO_PROXY.open(base + path, timeout=30) as response:
        return json.loads(response.read())


def test_table_search_on_the_segments_skips_the_count_and_the_facet_work(site):
    page = get_json(site, "/talks/transcript_segments.json?" + urlencode({"_search": COMMON}))
    assert len(page["rows"]) == min(100, TRANSCRIPT_HITS + 21)  # a page of the live rows that say it
    assert page["filtered_table_rows_count"] is None  # no count(*) over every match
    assert page["suggested_facets"] == [] and page["facet_results"] == {}
    asked = get_json(site, "/talks/transcript_segments.json?" + urlencode({"_search": COMMON, "_facet": "video_id"}))
    assert [(f["value"], f["count"]) for f in asked["facet_results"]["video_id"]["results"]] == [
        ("zebraVideo1", TRANSCRIPT_HITS + 21)]  # asked for: still there (replaced rows are not in the index)
    browse = get_json(site, "/talks/transcript_segments.json?video_id=Z_wULE3_exE")
    assert browse["filtered_table_rows_count"] == len(browse["rows"]) > 0  # no search: counted as before


def test_table_search_on_talks_keeps_its_count_and_facets(site):
    page = get_json(site, "/talks/talks.json?" + urlencode({"_search": "fairness"}))
    assert page["filtered_table_rows_count"] == len(page["rows"]) > 0
    assert "status" in page["facet_results"] and page["suggested_facets"]
