"""Page structure: headings, and which of the series' two pages a text is.

The webinar page has coded talk lines ("* S03E02 - ...") and upcoming/previous talks
headings; the talks page has "### Name (Affiliation)" sections. A permalink in the front
matter decides when there is one. sync.pages.parse reads the records; this module says
what kind of page it reads and where its headings are.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

from ._pagetext import clean, unbold

_HEADING_START_RE = re.compile(r"\s{0,3}(#{1,6})(?:\s+|$)")
_SERIES_RE = re.compile(r"datasets\s+through\s+the\s+l\S{1,3}king[-\s]+glass", re.I)
LISTED_RE = re.compile(
    r"^\s{0,3}[*+-]\s+\[?(?P<code>S\d{1,2}E\d{1,3})\]?\s*[-–—:]\s*(?P<rest>.*)$", re.I)
UPCOMING_RE = re.compile(r"^(?P<kind>coming talks?|upcoming talks?|next talks?|next webinars?)\b\s*:?\s*(?P<rest>.*)$", re.I)
_TALK_SECTION_START_RE = re.compile(r"\s{0,3}###\s+")


def is_talk_section(line: str) -> bool:
    """A talks-page section heading: "### Name (Affiliation)" (a level-3 heading ending
    with ")"); checked with string operations, linear on any line."""
    start = _TALK_SECTION_START_RE.match(line)
    return bool(start) and not line.startswith("#", start.end()) and line.rstrip().endswith(")")


def _front_matter(text: str) -> dict[str, str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    values = {}
    for line in lines[1:]:
        if line.strip() == "---":
            return values
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip().lower()] = value.strip().strip("'\"")
    return {}  # never closed: not front matter


def _permalink(text: str) -> str:
    return _front_matter(text).get("permalink", "").strip("/ ").lower()


def heading_of(line: str) -> Optional[tuple[int, str]]:
    """(level, text) of a "## Text ##" heading line (closing #s dropped), else None.

    String operations, not one regex: a lazy text followed by optional closing #s and
    trailing whitespace is quadratic on a long run of spaces."""
    start = _HEADING_START_RE.match(line)
    if not start:
        return None
    text = line[start.end():].rstrip()
    unclosed = text.rstrip("#")
    if unclosed != text and unclosed[-1:].isspace():
        text = unclosed.rstrip()
    return len(start[1]), text


def iter_headings(lines: list[str]) -> Iterable[tuple[int, int, str]]:
    for index, line in enumerate(lines):
        heading = heading_of(line)
        if heading:
            yield index, heading[0], clean(unbold(heading[1]))


def _has_series_name(text: str) -> bool:
    """The series' name as a heading or as the front matter's title (one version has only that)."""
    lines = text.splitlines()
    if any(_SERIES_RE.search(heading) for _, level, heading in iter_headings(lines) if level <= 3):
        return True
    return bool(_SERIES_RE.search(_front_matter(text).get("title", "")))


def _webinar_signals(lines: list[str]) -> bool:
    """Coded talk lines or an upcoming/previous talks heading: what only the webinar page has."""
    if any(LISTED_RE.match(line) for line in lines):
        return True
    return any(UPCOMING_RE.match(h) or re.match(r"previous talks\b", h, re.I) for _, _, h in iter_headings(lines))


def _talk_section_count(lines: list[str]) -> int:
    return sum(1 for line in lines if is_talk_section(line))


def not_webinar_page_reason(text: str) -> Optional[str]:
    return _wrong_page_reason(text, "webinar")


def not_talks_page_reason(text: str) -> Optional[str]:
    return _wrong_page_reason(text, "webinar_talks")


def _wrong_page_reason(text: str, expected: str) -> Optional[str]:
    """Why `text` is not the `expected` page ("webinar" or "webinar_talks"), or None.

    The permalink decides when there is one; else the layout: coded talk lines and talks
    headings are the webinar page's, "### Name (Affiliation)" sections the talks page's."""
    if not text.strip():
        return "it is empty"
    permalink = _permalink(text)
    if permalink in ("webinar", "webinar_talks"):
        return None if permalink == expected else f"it is the {_PAGE_NAMES[permalink]} (permalink /{permalink}/)"
    lines = text.splitlines()
    webinar_like, sections = _webinar_signals(lines), _talk_section_count(lines)
    if expected == "webinar" and sections and not webinar_like:
        return "it is laid out like the talks page ('### Name (Affiliation)' sections)"
    if expected == "webinar_talks" and webinar_like:
        return "it is laid out like the webinar page ('SxxEyy' lines or a talks heading)"
    if not _has_series_name(text):
        return "it has no 'Datasets through the Looking-Glass' heading"
    if expected == "webinar" and not webinar_like:
        return "it has neither 'SxxEyy' talk lines nor an upcoming or previous talks section"
    if expected == "webinar_talks" and not sections:
        return "it has no '### Name (Affiliation)' sections"
    return None


_PAGE_NAMES = {"webinar": "webinar page", "webinar_talks": "talks page"}
