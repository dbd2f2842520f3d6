"""The feeds lead to the archive and are valid whatever the rows hold (issue #22 item 4,
issue #21 item 5): the Atom feed of new recordings and the iCalendar of upcoming talks,
served by a real `talks serve` over the snapshot with hostile rows staged into it.

Staged: S07E01's title carries \\x01 and DEL; S09E03's video has a `published_at` that is
no date; an upcoming talk has a long non-ASCII title with a control character and a
terminal escape in its speakers; another has a date that passes the query's glob but is
no day (2026-02-31); a listed talk is still to come. The calendar is parsed with icalendar
and checked against RFC 5545's rules: CRLF, lines of at most 75 octets, UID and DTSTAMP
in every VEVENT, all-day DATE values with DTEND the next day.
"""
from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from icalendar import Calendar

from sync.site.feeds import clean_text, parse_instant
from tests.browser_support import JIMENEZ_VIDEO, START_TIMEOUT, build_database
from tests.datasette_process import serving

ATOM = "{http://www.w3.org/2005/Atom}"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
CONTROL = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))
LONG_TITLE = "Fairness \x01in dermatology: Żółta łódź, café crème, naïve Bayes and the 75-octet line " * 2
BAD_PUBLISHED = "next Tuesday, probably"
BAD_CODE = "S09E03"  # its video's published_at becomes BAD_PUBLISHED


@dataclass
class Site:
    url: str
    db_path: Path
    upcoming_id: int
    impossible_id: int
    future_listed_code: str


def get(url: str) -> tuple[int, bytes, dict]:
    try:
        with _NO_PROXY.open(url, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feeds")
    db_path = folder / "talks.db"
    build_database(db_path)
    con = sqlite3.connect(db_path)
    with con:
        con.execute("update talks set title = 'Fair' || char(1) || 'ness' || char(127) || ' & <b>imaging</b>' "
                    "where code = 'S07E01'")
        con.execute("update videos set published_at = ? where video_id = (select video_id from talks where code = ?)",
                    [BAD_PUBLISHED, BAD_CODE])
        upcoming, impossible = [r[0] for r in con.execute(
            "select id from talks where status = 'upcoming' order by id limit 2")]
        con.execute("update talks set date = '2026-09-14', title = ?, speakers = ? where id = ?",
                    [LONG_TITLE, "Mallory \x1b]0;owned\x07Test", upcoming])
        con.execute("update talks set date = '2026-02-31' where id = ?", [impossible])
        future = con.execute("select code from talks where status = 'listed' order by date desc limit 1").fetchone()[0]
        con.execute("update talks set date = '2026-08-20' where code = ?", [future])  # after the snapshot's today
    con.close()
    with serving(db_path, folder / "serve.log", START_TIMEOUT) as url:
        yield Site(url=url, db_path=db_path, upcoming_id=upcoming, impossible_id=impossible, future_listed_code=future)


# ----------------------------------------------------------------------------- Atom


def atom_entries(site) -> tuple[dict, list[ET.Element]]:
    status, body, headers = get(f"{site.url}/talks/new_recordings.atom")
    assert status == 200, body[:500]
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(body)
    assert feed.tag == f"{ATOM}feed"
    return headers, feed.findall(f"{ATOM}entry")


def test_every_atom_entry_links_to_its_talk_page_on_this_site(site):
    _, entries = atom_entries(site)
    con = sqlite3.connect(site.db_path)
    codes = dict(con.execute("select 'tag:medical-datasets.github.io,2022:recording/' || video_id, code from talks "
                             "where video_id in (select video_id from videos where availability in ('public', 'unlisted'))"))
    assert len(entries) == len(codes) > 10
    for entry in entries:
        [link] = entry.findall(f"{ATOM}link")
        assert link.get("rel", "alternate") == "alternate"
        assert link.get("href") == f"{site.url}/talk/{codes[entry.findtext(f'{ATOM}id')]}"
    status, body, _ = get(entries[0].find(f"{ATOM}link").get("href"))  # the link opens the talk page
    assert status == 200 and b"<h1" in body


def test_a_control_character_in_a_title_is_dropped_not_a_500(site):
    _, entries = atom_entries(site)
    [entry] = [e for e in entries if e.findtext(f"{ATOM}id").endswith(JIMENEZ_VIDEO)]
    assert entry.findtext(f"{ATOM}title") == "S07E01 Fairness & <b>imaging</b>"  # text, escaped by the XML


def test_an_unparseable_published_at_falls_back_to_the_talks_date(site):
    _, entries = atom_entries(site)
    con = sqlite3.connect(site.db_path)
    talk_date = con.execute("select date from talks where code = ?", [BAD_CODE]).fetchone()[0]
    [entry] = [e for e in entries if e.findtext(f"{ATOM}title").startswith(BAD_CODE + " ")]
    assert parse_instant(entry.findtext(f"{ATOM}updated")) == datetime.fromisoformat(talk_date).replace(
        tzinfo=timezone.utc)
    updated = [parse_instant(e.findtext(f"{ATOM}updated")) for e in entries]
    assert None not in updated


def test_any_query_with_atom_columns_gets_a_valid_feed_and_undatable_rows_are_left_out(site):
    sql = ("select 'a' as atom_id, 'bad' || char(2) || 'title' as atom_title, 'not a date' as atom_updated "
           "union all select 'b', 'ok', '2024-05-06T07:08:09Z' "
           "union all select 'c', 'fallback', 'nope' as atom_updated")
    status, body, headers = get(f"{site.url}/talks.atom?sql={quote(sql)}")
    assert status == 200 and headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(body)
    assert [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")] == ["b"]
    sql = "select 'x' as atom_id, 'javascript:alert(1)' as atom_link, 't' as atom_title, '2024-01-01' as atom_updated"
    status, body, _ = get(f"{site.url}/talks.atom?sql={quote(sql)}")
    assert status == 200 and b"javascript:" not in body  # only http(s) links are kept


# ----------------------------------------------------------------------------- iCalendar


def fetch_calendar(site, path="/talks/upcoming_talks.ics") -> tuple[bytes, Calendar]:
    status, body, headers = get(site.url + path)
    assert status == 200, body[:500]
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    return body, Calendar.from_ical(body)


def test_the_calendar_keeps_rfc_5545_line_rules(site):
    body, _ = fetch_calendar(site)
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")  # CRLF, no bare LF or CR
    lines = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75, [line for line in lines if len(line) > 75]
    assert any(line.startswith(b" ") for line in lines)  # the long title was folded, not cut
    body.decode("utf-8")  # folding never splits a character
    assert not any(chr(c).encode() in body for c in range(0x20) if c not in (0x0A, 0x0D))  # no raw controls
    assert b"\x7f" not in body


def test_every_event_is_all_day_with_uid_dtstamp_and_a_link_to_its_talk_page(site):
    body, calendar = fetch_calendar(site)
    assert calendar.errors == [] and calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = list(calendar.walk("VEVENT"))
    con = sqlite3.connect(site.db_path)
    expected = dict(con.execute(
        "select 'talks-' || id || '@medical-datasets.github.io', '/talk/' || coalesce(code, id) from talks "
        "where removed_at is null and date glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' and date != '2026-02-31' "
        "and (status = 'upcoming' or (status = 'listed' and date >= (select today from report_today)))"))
    assert {str(e["UID"]) for e in events} == set(expected) and len(events) >= 2
    for event in events:
        assert event.errors == []
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert type(start) is date and end == start + timedelta(days=1)
        assert event["DTSTART"].params.get("VALUE") == "DATE"
        stamp = event.decoded("DTSTAMP")
        assert isinstance(stamp, datetime) and stamp.utcoffset() == timedelta(0)
        assert str(event["URL"]) == site.url + expected[str(event["UID"])]
        assert str(event["SUMMARY"]) == clean_text(str(event["SUMMARY"]), one_line=True)
    assert body.count(b"BEGIN:VEVENT") == len(events)
    assert b"DTSTAMP:" in body and b"T" in body.split(b"DTSTAMP:")[1][:9]  # a UTC date-time, ...Z
    assert all(line.endswith(b"Z") for line in body.replace(b"\r\n ", b"").split(b"\r\n") if line.startswith(b"DTSTAMP"))


def test_the_long_hostile_title_is_cleaned_and_whole(site):
    _, calendar = fetch_calendar(site)
    [event] = [e for e in calendar.walk("VEVENT") if str(e["UID"]) == f"talks-{site.upcoming_id}@medical-datasets.github.io"]
    summary = str(event["SUMMARY"])
    assert summary == "Mallory ]0;ownedTest: " + LONG_TITLE.replace("\x01", "").strip()
    assert event.decoded("DTSTART") == date(2026, 9, 14)
    status, _, _ = get(str(event["URL"]))
    assert status == 200  # an upcoming talk's page, by id


def test_a_date_that_is_no_day_leaves_the_event_out_not_the_calendar(site):
    _, calendar = fetch_calendar(site)
    uids = {str(e["UID"]) for e in calendar.walk("VEVENT")}
    assert f"talks-{site.impossible_id}@medical-datasets.github.io" not in uids
    assert f"talks-{site.upcoming_id}@medical-datasets.github.io" in uids


def test_the_query_page_offers_both_feeds(site):
    for query, extension in [("new_recordings", "atom"), ("upcoming_talks", "ics")]:
        status, body, _ = get(f"{site.url}/talks/{query}")
        assert status == 200 and f'/talks/{query}.{extension}"'.encode() in body


# ----------------------------------------------------------------------------- the helpers


@pytest.mark.parametrize("value, expected", [
    ("a\x00b\x08c\x0bd\x1fe\x7ff\x85g\ud800h\ufffei", "abcdefghi"),
    ("one\r\ntwo\rthree\nfour", "one\ntwo\nthree\nfour"),
    ("tab\tkept", "tab\tkept"),
    (None, ""),
    (42, "42"),
])
def test_clean_text_keeps_what_xml_and_icalendar_allow(value, expected):
    assert clean_text(value) == expected
    allowed = expected.replace("\n", " ").replace("\t", " ")
    assert clean_text(value, one_line=True) == " ".join(allowed.split())


def test_clean_text_is_bounded():
    assert clean_text("x" * 50, limit=10) == "x" * 10 + "…"
    assert clean_text(CONTROL * 1000) == ""


@pytest.mark.parametrize("value, expected", [
    ("2024-05-06", datetime(2024, 5, 6, tzinfo=timezone.utc)),
    ("2024-05-06T07:08:09Z", datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)),
    ("2024-05-06T09:08:09+02:00", datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)),
    ("2024-05-06T07:08:09.123456", datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)),
])
def test_parse_instant_reads_iso_8601(value, expected):
    assert parse_instant(value) == expected


@pytest.mark.parametrize("value", [
    None, "", "   ", BAD_PUBLISHED, "2024-13-01", "2024-02-30", "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00", "2024-05-06T07:08:09+25:00", "2" * 5000, 1714979289, "2024-05-06\x00",
])
def test_parse_instant_says_none_to_what_is_no_instant(value):
    assert parse_instant(value) is None
