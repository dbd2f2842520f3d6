"""The archive's feeds, as Datasette output renderers: Atom (`.atom`) and iCalendar (`.ics`).

Any query with the right columns gets them; the site links the canned queries
`new_recordings` (Atom) and `upcoming_talks` (iCalendar) of metadata.yml. feedgen writes
the Atom XML and icalendar the calendar (escaping, CRLF, lines folded at 75 octets);
this module decides what goes in them:

- links lead to the archive: a relative `atom_link` or `event_url` (`/talk/S07E01`) is made
  absolute from the request, and only http(s) URLs are kept;
- every text from outside is cleaned of characters XML 1.0 forbids and of control
  characters (iCalendar's TEXT forbids them too), so a `\\x01` in a title is no 500;
- a date that does not parse falls back (`atom_updated_fallback`, the talk's date); a row
  with no usable date is left out rather than failing the whole feed;
- calendar events are all-day (`VALUE=DATE`, DTEND the next day) when the start is a date:
  the pages give no time of day, and a midnight-UTC start shows on the previous evening west
  of UTC. Every VEVENT has UID and DTSTAMP (RFC 5545).
"""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta, timezone

from datasette.utils.asgi import Response
from dateutil.parser import isoparse
from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event

from .render import MARKDOWN_LIMIT, safe_url

__all__ = [
    "ATOM_COLUMNS",
    "ICS_COLUMNS",
    "can_render_atom",
    "can_render_ics",
    "clean_text",
    "parse_instant",
    "render_atom",
    "render_ics",
]

ATOM_COLUMNS = {"atom_id", "atom_updated", "atom_title"}  # datasette-atom's contract
ICS_COLUMNS = {"event_name", "event_dtstart"}  # datasette-ics's contract
ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//talks//Datasets through the Looking-Glass archive//EN"

# What XML 1.0 forbids (C0 controls but tab and newlines, surrogates, U+FFFE/U+FFFF), and
# what no text should carry anyway (DEL, C1 controls): iCalendar's TEXT excludes controls too.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NEWLINES = re.compile(r"\r\n?")
_SPACES = re.compile(r"\s+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
MAX_DATE_CHARS = 64  # an ISO 8601 instant is at most ~35 characters


def clean_text(value: object, one_line: bool = False, limit: int = MARKDOWN_LIMIT) -> str:
    """`value` as text fit for XML and iCalendar: no control characters, newlines as \\n,
    at most `limit` characters (cut with "…"); `one_line` also folds whitespace to spaces."""
    if value is None:
        return ""
    text = str(value)
    cut = len(text) > limit
    text = _NEWLINES.sub("\n", _ILLEGAL.sub("", text[:limit]))
    text = _SPACES.sub(" ", text).strip() if one_line else text.strip()
    return text + "…" if cut and text else text


def parse_instant(value: object) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime (naive ones are UTC), or None."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DATE_CHARS:
        return None
    try:
        parsed = isoparse(value.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _absolute(datasette, request, value: object) -> str | None:
    """A link from a row, absolute from the request when relative; None unless http(s)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 2000:
        return None
    link = value.strip()
    if link.startswith("/") and not link.startswith("//"):
        link = datasette.absolute_url(request, link)
    return safe_url(link)


def _feed_title(datasette, database, table, query_name) -> str:
    if query_name:
        queries = (datasette.metadata(database=database) or {}).get("queries") or {}
        query = queries.get(query_name)
        if isinstance(query, dict) and query.get("title"):
            return clean_text(query["title"], one_line=True)
        return clean_text(query_name, one_line=True)
    return clean_text(table or "Query results", one_line=True)


def _site_title(datasette) -> str:
    return clean_text((datasette.metadata() or {}).get("title") or "Datasette", one_line=True)


def _require(columns, required: set[str], extension: str):
    from datasette.views.base import DatasetteError

    if not required.issubset(columns):
        raise DatasetteError(f".{extension} needs the columns {', '.join(sorted(required))}", status=400)


# ----------------------------------------------------------------------------- Atom


def can_render_atom(columns) -> bool:
    return ATOM_COLUMNS.issubset(columns)


def render_atom(datasette, request, sql, columns, rows, database, table, query_name, view_name, data):
    """Atom 1.0 from rows with atom_id, atom_updated, atom_title and optionally atom_link,
    atom_content, atom_author_name and atom_updated_fallback (used when atom_updated is
    not a date). Rows with neither date are left out."""
    _require(columns, ATOM_COLUMNS, "atom")
    feed = FeedGenerator()
    feed.id(clean_text(request.url, one_line=True))
    feed.title(_feed_title(datasette, database, table, query_name) or "Feed")
    feed.author({"name": _site_title(datasette)})
    feed.link(href=request.url, rel="self")
    feed.link(href=datasette.absolute_url(request, "/"), rel="alternate")
    newest = None
    for row in rows:
        updated = parse_instant(row["atom_updated"])
        if updated is None and "atom_updated_fallback" in columns:
            updated = parse_instant(row["atom_updated_fallback"])
        entry_id = clean_text(row["atom_id"], one_line=True)
        if updated is None or not entry_id:
            continue
        newest = max(newest or updated, updated)
        entry = feed.add_entry(order="append")
        entry.id(entry_id)
        title = clean_text(row["atom_title"], one_line=True) or "Untitled"
        entry.title(title)
        entry.updated(updated)
        link = _absolute(datasette, request, row["atom_link"]) if "atom_link" in columns else None
        if link:
            entry.link(href=link, rel="alternate", type="text/html")
        author = clean_text(row["atom_author_name"], one_line=True) if "atom_author_name" in columns else ""
        if author:
            entry.author({"name": author})
        content = clean_text(row["atom_content"]) if "atom_content" in columns else ""
        if content or not link:  # RFC 4287: an entry has content or an alternate link
            entry.content(content or title, type="text")
    feed.updated(newest or datetime.now(timezone.utc))  # an empty feed has no entry to date it by
    return Response(feed.atom_str(pretty=True), content_type=ATOM_CONTENT_TYPE, status=200)


# ----------------------------------------------------------------------------- iCalendar


def can_render_ics(columns) -> bool:
    return ICS_COLUMNS.issubset(columns)


def _event_start(value: object) -> date | datetime | None:
    """A date (all-day event) for YYYY-MM-DD, a UTC datetime for an ISO instant, else None."""
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return parse_instant(value)


def _event_end(start: date | datetime, value: object) -> date | datetime | None:
    end = _event_start(value) if value else None
    if isinstance(start, datetime):
        return end if isinstance(end, datetime) and end > start else None
    if type(end) is date and end > start:
        return end
    try:
        return start + timedelta(days=1)  # DTEND is exclusive: the next day
    except OverflowError:
        return None


def render_ics(datasette, request, sql, columns, rows, database, table, query_name, view_name, data):
    """An RFC 5545 calendar from rows with event_name and event_dtstart and optionally
    event_uid, event_dtend, event_description, event_url, event_dtstamp. A YYYY-MM-DD start
    is an all-day event; rows whose start is not a date are left out (an event needs one)."""
    _require(columns, ICS_COLUMNS, "ics")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    title = _feed_title(datasette, database, table, query_name)
    calendar.add("x-wr-calname", f"{_site_title(datasette)}: {title}" if title else _site_title(datasette))
    for row in rows:
        start = _event_start(row["event_dtstart"])
        if start is None:
            continue
        name = clean_text(row["event_name"], one_line=True) or "Untitled"
        uid = clean_text(row["event_uid"], one_line=True, limit=255) if "event_uid" in columns else ""
        if not uid:  # stable across requests: the same event keeps its UID
            digest = hashlib.sha256(f"{database}\n{query_name or table}\n{name}\n{start}".encode()).hexdigest()
            uid = f"{digest[:32]}@talks"
        event = Event()
        event.add("uid", uid)
        stamp = parse_instant(row["event_dtstamp"]) if "event_dtstamp" in columns else None
        event.add("dtstamp", (stamp or now).replace(microsecond=0))
        event.add("dtstart", start)
        end = _event_end(start, row["event_dtend"] if "event_dtend" in columns else None)
        if end is not None:
            event.add("dtend", end)
        event.add("summary", name)
        description = clean_text(row["event_description"]) if "event_description" in columns else ""
        if description:
            event.add("description", description)
        url = _absolute(datasette, request, row["event_url"]) if "event_url" in columns else None
        if url:
            event.add("url", url)
        calendar.add_component(event)
    return Response(calendar.to_ical(), content_type=ICS_CONTENT_TYPE, status=200)
