"""Searching what was said, through a real `datasette serve -i` and in real Chromium.

The snapshot database plus the caption fixtures (`talks transcripts import`),
served with the repository's metadata.yml on a free loopback port.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from click.testing import CliRunner

from sync.cli import cli
from tests.datasette_process import serving

from .conftest import FIXTURES

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("transcripts_site")
    db_path = tmp / "talks.db"  # the name metadata.yml describes
    runner = CliRunner()
    result = runner.invoke(cli, ["sync", "--snapshot", "--db", str(db_path), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["transcripts", "import", str(FIXTURES / "captions"), "--db", str(db_path), "-q"])
    assert result.exit_code == 0, result.output
    with serving(db_path, tmp / "datasette.log") as url:
        yield url


def search_json(base: str, q: str) -> list[dict]:
    with _NO_PROXY.open(f"{base}/talks/search_recordings.json?{urlencode({'q': q, '_shape': 'array'})}", timeout=10) as r:
        return json.loads(r.read())


def test_datasette_finds_the_talk_and_the_second(site):
    hits = search_json(site, "spurious correlation")
    assert [(h["code"], h["title"], h["link"]) for h in hits] == [(
        "S04E01", "Detecting shortcut learning for fair medical AI", "https://youtu.be/Z_wULE3_exE?t=9")]
    hits = search_json(site, "label noise")  # said across two caption segments
    assert [(h["code"], h["link"]) for h in hits] == [("S03E01", "https://youtu.be/VlHRsMC96y0?t=62")]
    assert [h["code"] for h in search_json(site, "fairness")] == ["S01E01"]


def test_captions_table_is_published(site):
    with _NO_PROXY.open(f"{site}/talks/captions.json?_shape=array&_sort=video_id", timeout=10) as r:
        states = [(c["video_id"], c["state"]) for c in json.loads(r.read())]
    assert states == [("VlHRsMC96y0", "automatic"), ("Z_wULE3_exE", "uploaded"), ("hDKuw28ATe4", "automatic")]


@pytest.mark.browser
def test_a_reader_clicks_through_to_the_second(site):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []

    def route(route):
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        elif urlsplit(url).hostname == "youtu.be":
            outside.append(url)  # answered here: the test never leaves the machine
            route.fulfill(status=200, content_type="text/html", body="<title>YouTube stand-in</title>")
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            page.route("**/*", route)
            page.goto(f"{site}/talks/search_recordings?{urlencode({'q': 'spurious correlation'})}")
            cells = page.locator("table.rows-and-columns td.col-text").all_inner_texts()
            assert cells == [">> A shortcut is a **spurious** **correlation**, as Jiménez showed."]
            assert page.locator("table.rows-and-columns td.col-code").all_inner_texts() == ["S04E01"]
            page.locator("table.rows-and-columns td.col-link a").click()
            page.wait_for_url("https://youtu.be/**")
            assert page.url == "https://youtu.be/Z_wULE3_exE?t=9"
            assert page.title() == "YouTube stand-in"
        finally:
            browser.close()
    assert outside == ["https://youtu.be/Z_wULE3_exE?t=9"]


def test_talk_page_offers_the_transcript_as_vtt_srt_and_text(site, tmp_path):
    with _NO_PROXY.open(f"{site}/talk/S03E01", timeout=10) as r:
        page = r.read().decode()
    for ext in ("vtt", "srt", "txt"):
        assert f'href="/talk/S03E01/transcript.{ext}"' in page
    with _NO_PROXY.open(f"{site}/talk/S03E01/transcript.vtt", timeout=10) as r:
        assert r.headers["Content-Type"] == "text/vtt; charset=utf-8"
        assert r.headers["Content-Disposition"] == 'attachment; filename="S03E01.vtt"'
        served = r.read().decode()
    assert served.startswith("WEBVTT\n\n00:01:00.000 --> 00:01:04.800\nso annotation cost")
    with _NO_PROXY.open(f"{site}/talk/S03E01/transcript.srt", timeout=10) as r:
        assert r.read().decode().startswith("1\n00:01:00,000 --> 00:01:04,800\n")
    for spelling in ("s3e1", "S0301", "%5BS03E01%5D"):  # spelled as the talk page accepts: one URL
        with _NO_PROXY.open(f"{site}/talk/{spelling}/transcript.vtt", timeout=10) as r:
            assert r.url == f"{site}/talk/S03E01/transcript.vtt" and r.read().decode() == served
    try:  # a talk without a transcript has nothing to download
        _NO_PROXY.open(f"{site}/talk/S02E01/transcript.txt", timeout=10)
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as error:
        assert error.code == 404
