"""A real Datasette with the site plugin answers bad or heavy requests with 4xx, fast, and alone.

Issue #13 items 4 and 8: anonymous SQL cannot build huge values, a huge abstract renders in
bounded time without blocking other requests, POSTs and malformed table arguments are 4xx,
an Atom feed with nothing in it is a valid empty feed; and every custom page has its 404.
The database: `talks sync --source none` over the fixture pages (so no recording is
watchable), with a 140 KB abstract of `[` and a bio saying "M.Sc." stored into two talks.
"""
from __future__ import annotations

import concurrent.futures
import json
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from sync.core.limits import SITE_MAX_VALUE_BYTES
from tests.browser_support import ROOT, START_TIMEOUT
from tests.conftest import FIXTURES, TODAY
from tests.datasette_process import serving

PAGES = FIXTURES / "pages"
ATOM = "{http://www.w3.org/2005/Atom}"
HEAVY = "[" * 140_000
CANNED = ["search_talks", "search_recordings", "missing", "stale", "orphans", "new_recordings", "upcoming_talks"]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
GENEROUS = 30.0  # seconds: the unbounded renderer took 112 s on HEAVY


@dataclass
class Site:
    url: str
    heavy_code: str


def fetch(url: str, data: bytes | None = None, timeout: float = GENEROUS) -> tuple[int, str, dict]:
    try:
        with _NO_PROXY.open(urllib.request.Request(url, data=data), timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hardening")
    db_path = folder / "talks.db"
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())", "sync", "--source", "none",
         "--page", str(PAGES / "2026-08-11_dd744744_webinar.md"),
         "--talks-page", str(PAGES / "2026-08-11_dd744744_webinar_talks.md"),
         "--today", TODAY, "--db", str(db_path), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    con = sqlite3.connect(db_path)
    with con:
        con.execute("update talks set abstract = ? where code = 'S01E01'", [HEAVY])
        con.execute("update talks set bio = 'She holds an M.Sc. from Example.org and a B.Sc.' where code = 'S01E02'")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    with serving(db_path, folder / "datasette.log", START_TIMEOUT) as url:
        yield Site(url=url, heavy_code="S01E01")


# ----------------------------------------------------------------------------- #13.8


def test_memory_heavy_sql_fails_at_once(site):
    sql = "select length(replace(hex(zeroblob(200000000)),'0','00'))"
    status, body, _ = fetch(f"{site.url}/talks.json?sql={quote(sql)}")
    assert status == 400
    assert "too big" in json.loads(body)["error"]
    status, body, _ = fetch(f"{site.url}/talks.json?sql={quote('select length(hex(zeroblob(1000)))')}&_shape=array")
    assert status == 200 and json.loads(body) == [{"length(hex(zeroblob(1000)))": 2000}]  # SQL itself still works


def test_replaced_plugins_are_not_loaded(site):
    status, body, _ = fetch(f"{site.url}/-/plugins.json")
    names = {plugin["name"] for plugin in json.loads(body)}
    assert "talks_site.py" in names
    assert not names & {"datasette-youtube-embed", "datasette-render-markdown", "datasette-atom", "datasette-ics"}


def test_render_markdown_is_not_an_sql_function(site):
    status, body, _ = fetch(f"{site.url}/talks.json?sql={quote('select render_markdown(abstract) from talks')}")
    assert status == 400 and "no such function" in json.loads(body)["error"]


@pytest.mark.parametrize("path", [f"/talks/{name}" for name in CANNED] + ["/talks/talks", "/talks", "/talk/S01E02", "/"])
def test_post_is_refused_not_a_500(site, path):
    status, body, headers = fetch(site.url + path, data=b"q=x&csrftoken=nope")
    assert status == 405, body
    assert headers.get("Allow") == "GET, HEAD"


@pytest.mark.parametrize("query", [
    "_sort=nosuch", "_sort_desc=nosuch", "_through=%7B%7D", "_through=%5B1%5D", "_through=nojson",
    "_through=%7B%22table%22%3A%22nosuch%22%2C%22column%22%3A%22x%22%2C%22value%22%3A%221%22%7D",
    "_timelimit=abc", "_facet=nosuch", "_size=abc", "_where=nosuch", "_search=%22",
])
@pytest.mark.parametrize("suffix", ["", ".json"])
def test_bad_table_arguments_are_400(site, query, suffix):
    status, body, _ = fetch(f"{site.url}/talks/talks{suffix}?{query}")
    assert 400 <= status < 500, (status, body[:300])


def test_atom_feed_with_no_recording_is_a_valid_empty_feed(site):
    status, body, headers = fetch(f"{site.url}/talks/new_recordings.atom")
    assert status == 200 and headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(body.encode())
    assert feed.tag == f"{ATOM}feed"
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}title") == "New recordings"
    assert feed.findtext(f"{ATOM}id") and feed.findtext(f"{ATOM}updated")


# ----------------------------------------------------------------------------- #13.4


def test_huge_abstract_renders_bounded_and_blocks_nothing(site):
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        heavy = [pool.submit(fetch, f"{site.url}{path}") for path in
                 ["/talks/talks/1", f"/talk/{site.heavy_code}", "/talks/talks/1", f"/talk/{site.heavy_code}"]]
        other = pool.submit(fetch, f"{site.url}/-/versions.json", None, 10.0)  # it waited 97 s before
        assert other.result()[0] == 200
        for future in heavy:
            status, body, _ = future.result()
            assert status == 200
            assert "cut at 20,000 characters" in body
            assert body.count("[") < 25_000  # what was rendered is the capped prefix


@pytest.mark.parametrize("t", ["abc", "1e309", "nan", "-5", "99999999999999999999999", "12s"])
def test_odd_start_second_is_ignored_not_a_500(site, t):
    status, body, _ = fetch(f"{site.url}/talk/S01E02?t={quote(t)}")
    assert status == 200


def test_msc_is_not_a_link(site):
    status, body, _ = fetch(f"{site.url}/talk/S01E02")
    assert status == 200
    assert "M.Sc. from Example.org" in body
    assert 'href="http://M.Sc' not in body and "href=\"http://Example.org" not in body
    status, body, _ = fetch(f"{site.url}/talks/talks/2")
    assert "M.Sc. from Example.org" in body and "http://M.Sc" not in body


# ----------------------------------------------------------------------------- 404s


@pytest.mark.parametrize("path", [
    "/talk/S99E99", "/talk/999999", "/talk/%3Cscript%3E", "/speaker/999999", "/speaker/nobody",
    "/talk/S01E01/more", "/nothing-here",
])
def test_custom_pages_have_a_404_that_offers_search(site, path):
    status, body, _ = fetch(site.url + path)
    assert status == 404
    assert 'action="/search"' in body
    assert "<script>" not in body.split("<body", 1)[1].split("</footer>")[0]


def test_talk_by_code_in_any_case_redirects_to_the_code(site):
    request = urllib.request.Request(f"{site.url}/talk/s01e02?t=5")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(request, timeout=GENEROUS)
    assert caught.value.code == 302 and caught.value.headers["Location"] == "/talk/S01E02?t=5"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_limits_hold_on_this_python():
    """Python 3.10 has no Connection.setlimit: the limits are set through SQLite's C API there."""
    from sync.site import hooks

    assert hooks.CAN_LIMIT and hooks.allow_arbitrary_sql() is None  # arbitrary SQL is allowed: it is bounded
    conn = sqlite3.connect(":memory:")
    hooks.limit_connection(conn)
    assert conn.execute(f"select length(zeroblob({SITE_MAX_VALUE_BYTES}))").fetchone() == (SITE_MAX_VALUE_BYTES,)
    with pytest.raises(sqlite3.DataError, match="too big"):
        conn.execute(f"select zeroblob({SITE_MAX_VALUE_BYTES + 1})").fetchone()
    with pytest.raises(sqlite3.OperationalError, match="too many columns"):
        conn.execute("select " + ", ".join(["1"] * 201)).fetchone()
    with pytest.raises((sqlite3.DataError, sqlite3.OperationalError), match="too (big|long|large)"):
        conn.execute("select '" + "x" * 100_000 + "'").fetchone()


def test_the_c_api_path_sets_what_sqlite_enforces():
    """The 3.10 path, run on every Python the suite runs on (it is what 3.10 uses)."""
    from sync.site.sqlite_limits import SQLITE_LIMIT_LENGTH, c_setlimit

    setlimit = c_setlimit()
    assert setlimit is not None
    conn = sqlite3.connect(":memory:")
    old = setlimit(conn, SQLITE_LIMIT_LENGTH, 5000)
    assert old > 5000 and setlimit(conn, SQLITE_LIMIT_LENGTH, -1) == 5000
    if hasattr(conn, "getlimit"):  # 3.11+: the module's own view agrees
        assert conn.getlimit(SQLITE_LIMIT_LENGTH) == 5000
    with pytest.raises(sqlite3.DataError):
        conn.execute("select zeroblob(5001)").fetchone()
    other = sqlite3.connect(":memory:")  # per connection: another one is untouched
    assert other.execute("select length(zeroblob(5001))").fetchone() == (5001,)
    conn.close()
    with pytest.raises(sqlite3.ProgrammingError):
        setlimit(conn, SQLITE_LIMIT_LENGTH, 5000)
    with pytest.raises(TypeError):
        setlimit(object(), SQLITE_LIMIT_LENGTH, 5000)


def test_where_limits_cannot_be_set_arbitrary_sql_is_refused(monkeypatch):
    from sync.site import hooks

    monkeypatch.setattr(hooks, "CAN_LIMIT", False)  # no setlimit and the C API failed its proof
    assert hooks.allow_arbitrary_sql() is False
    hooks.limit_connection(sqlite3.connect(":memory:"))  # a no-op, not an AttributeError


@pytest.mark.asyncio
async def test_a_site_that_cannot_limit_answers_403_to_arbitrary_sql_and_serves_the_rest(monkeypatch, tmp_path):
    from datasette.app import Datasette

    from sync.site import PLUGINS, hooks

    db_path = tmp_path / "talks.db"
    sqlite3.connect(db_path).execute("create table t (x)").connection.close()
    monkeypatch.setattr(hooks, "CAN_LIMIT", False)
    datasette = Datasette([str(db_path)], plugins_dir=str(PLUGINS))
    refused = await datasette.client.get("/talks.json?sql=select+1")
    assert refused.status_code == 403
    assert (await datasette.client.get("/talks/t.json")).status_code == 200
    monkeypatch.setattr(hooks, "CAN_LIMIT", True)
    assert (await datasette.client.get("/talks.json?sql=select+1")).status_code == 200
