"""Property-based: the page parsers against mutated real pages (tests/fixtures/corpus).

Every version of the series' two pages is mutated the way hand edits, bad
merges, broken transfers and hostile input would: lines deleted, duplicated,
swapped or cut short, random unicode, zero-width characters and HTML/script
inserted, the page truncated. Two properties:

- the read path (decode_page, parse_webinar_page, parse_talks_page,
  attach_abstracts) never raises anything but PageError, and a PageError is one
  line naming the input;
- every `* SxxEyy` talk line the mutation left as it was (and that no HTML
  comment hides) still parses to the very record it gave in the unmutated page.

Deterministic (derandomize, no example database) so CI is stable.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.core.errors import PageError
from sync.pages.identity import attach_abstracts
from sync.pages import (
    decode_page,
    parse_talks_page,
    parse_webinar_page,
)

from .conftest import CORPUS

WEBINAR_PAGES = sorted(CORPUS.glob("*_webinar.md"))
TALKS_PAGES = sorted(CORPUS.glob("*_webinar_talks.md"))

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HTML_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(document.cookie)">',
    "<b>bold</b>",
    "</ul></div><h1>",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=//example.invalid></iframe>",
    "&lt;&amp;&#x3c;",
    "<style>*{display:none}</style>",
    "<svg/onload=alert(1)>",
]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202e"]

# Random text to insert: any unicode but NUL (a NUL makes the page "binary", which is
# its own, tested, refusal) and no HTML comment markers (those legitimately hide lines).
_inserted_text = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    max_size=24,
).filter(lambda s: "<!--" not in s and "-->" not in s)


@lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text("utf-8")


def _front_matter_end(lines: list[str]) -> int:
    """Index of the first line after the front matter (0 when there is none)."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return index + 1
    return 0


KINDS = ["delete", "duplicate", "swap", "text", "html", "zero_width", "new_line", "cut_line", "truncate"]

# One edit: (kind, line number, column, other line number, inserted text); numbers are
# taken modulo the page's size when applied, so a falsifying example stays short.
edits = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.one_of(_inserted_text, st.sampled_from(HTML_PAYLOADS), st.sampled_from(ZERO_WIDTH)),
    ),
    min_size=1,
    max_size=6,
)


def apply_edits(lines: list[str], start: int, edit_list) -> str:
    """`lines` (with their line ends) after the edits, none of them before line `start`."""
    lines = list(lines)
    for kind, n, column, m, inserted in edit_list:
        if len(lines) <= start:
            break
        index = start + n % (len(lines) - start)
        other = start + m % (len(lines) - start)
        line = lines[index]
        at = column % (len(line) + 1)
        if kind == "delete":
            del lines[index]
        elif kind == "duplicate":
            lines.insert(index, line)
        elif kind == "swap":
            lines[index], lines[other] = lines[other], lines[index]
        elif kind == "new_line":
            lines.insert(index, inserted + "\n")
        elif kind == "cut_line":
            lines[index] = line[:at]
        elif kind == "truncate":
            lines = lines[:index] + [line[:at]]
        else:  # text, html, zero_width: `inserted` goes in at `at`
            if kind == "html" and inserted not in HTML_PAYLOADS:
                inserted = HTML_PAYLOADS[n % len(HTML_PAYLOADS)]
            if kind == "zero_width":
                inserted = ZERO_WIDTH[n % len(ZERO_WIDTH)]
            lines[index] = line[:at] + inserted + line[at:]
    return "".join(lines)


def _talk_lines(text: str) -> dict[str, object]:
    """Each `* SxxEyy` line of an unmutated page and the record it parses to on its own
    (a talk line means the same wherever it stands: see the oracle test below)."""
    records = {}
    for line in text.splitlines():
        if re.match(r"^\s{0,3}[*+-]\s+\[?S\d", line, re.I):
            single = parse_webinar_page(_one_line_page(line), "line")
            if single.listed:
                records[line] = single.listed[0]
    return records


def _one_line_page(line: str) -> str:
    return "---\npermalink: /webinar/\n---\n" + line + "\n"


def _hidden_by_comments(text: str) -> set[int]:
    """Indices of lines an HTML comment (`<!-- ... -->`) hides, wholly or in part."""
    hidden: set[int] = set()
    offsets, position = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append((position, position + len(line)))
        position += len(line)
    for comment in re.finditer(r"<!--.*?-->", text, flags=re.S):
        for index, (begin, end) in enumerate(offsets):
            if begin < comment.end() and comment.start() < end:
                hidden.add(index)
    return hidden


def _assert_unmutated_talk_lines_parse(original: str, mutated: str, listed: list) -> None:
    expected = _talk_lines(original)
    hidden = _hidden_by_comments(mutated)
    want: Counter = Counter()
    for index, line in enumerate(mutated.splitlines()):
        if line in expected and index not in hidden:
            want[repr(expected[line])] += 1
    got = Counter(map(repr, listed))
    missing = want - got
    assert not missing, f"unmutated talk lines lost or changed: {list(missing)[:3]}"


def _check_page_error(error: PageError, source: str) -> None:
    message = str(error)
    assert "\n" not in message and "\r" not in message, message
    assert source in message, message


@pytest.mark.parametrize("path", WEBINAR_PAGES, ids=lambda p: p.name)
def test_each_talk_line_parses_alone_as_in_its_page(path):
    """The oracle of the properties: a page's listed talks are its shown talk lines, each
    parsed alone, in order."""
    text = _read(path)
    records = _talk_lines(text)
    shown = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    expected = [records[line] for line in shown.splitlines() if line in records]
    assert parse_webinar_page(text, str(path)).listed == expected


@pytest.mark.slow
@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_body_mutations_never_crash_and_keep_every_untouched_talk_line(data):
    """Front matter intact (it says permalink /webinar/): the page is always accepted."""
    path = data.draw(st.sampled_from(WEBINAR_PAGES), label="page")
    original = _read(path)
    lines = original.splitlines(keepends=True)
    mutated = apply_edits(lines, _front_matter_end(lines), data.draw(edits, label="edits"))
    source = f"mutated/{path.name}"
    text = decode_page(mutated.encode("utf-8"), source)
    page = parse_webinar_page(text, source)
    _assert_unmutated_talk_lines_parse(original, text, page.listed)


@pytest.mark.slow
@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_any_mutation_of_both_pages_raises_page_error_or_parses(data):
    """Anything goes, front matter and bytes included: the read path raises PageError or nothing."""
    webinar_path = data.draw(st.sampled_from(WEBINAR_PAGES), label="webinar page")
    talks_path = data.draw(st.sampled_from(TALKS_PAGES), label="talks page")
    original = _read(webinar_path)
    webinar = apply_edits(original.splitlines(keepends=True), 0, data.draw(edits, label="webinar edits"))
    talks = apply_edits(_read(talks_path).splitlines(keepends=True), 0, data.draw(edits, label="talks edits"))
    webinar_bytes = webinar.encode("utf-8")
    if data.draw(st.booleans(), label="cut bytes"):  # a transfer cut short, maybe mid-character
        webinar_bytes = webinar_bytes[: data.draw(st.integers(0, len(webinar_bytes)))]
    webinar_source, talks_source = f"mutated/{webinar_path.name}", f"mutated/{talks_path.name}"
    try:
        text = decode_page(webinar_bytes, webinar_source)
        page = parse_webinar_page(text, webinar_source)
    except PageError as error:
        _check_page_error(error, webinar_source)
        return
    try:
        abstracts = parse_talks_page(decode_page(talks.encode("utf-8"), talks_source), talks_source)
    except PageError as error:
        _check_page_error(error, talks_source)
        abstracts = []
    _assert_unmutated_talk_lines_parse(original, text, page.listed)
    attach_abstracts(page.listed + page.upcoming, abstracts)  # fills talks in place: after the check


_BOLD_TITLE_AT_END = re.compile(r"\*\*(?P<title>[^*]+)\*\*\.?\s*$")


@settings(FUZZ, max_examples=100)
@given(
    path=st.sampled_from(WEBINAR_PAGES),
    payload=st.sampled_from(HTML_PAYLOADS),
    pick=st.integers(0, 10_000),
)
def test_html_in_a_talk_title_is_kept_as_text(path, payload, pick):
    """HTML or script inside a listed talk's bold title comes out verbatim, as text."""
    lines = _read(path).splitlines(keepends=True)
    candidates = []
    for index, line in enumerate(lines):
        bold = _BOLD_TITLE_AT_END.search(line.rstrip("\n"))
        record = _talk_lines(line).get(line.rstrip("\n"))
        if bold and record and record.title == " ".join(bold["title"].split()).rstrip(" ."):
            candidates.append((index, bold.start("title"), record))
    if not candidates:
        return
    index, at, record = candidates[pick % len(candidates)]
    lines[index] = lines[index][:at] + payload + " " + lines[index][at:]
    page = parse_webinar_page("".join(lines), str(path))
    titles = [t.title for t in page.listed if t.code == record.code]
    assert f"{payload} {record.title}" in titles, (payload, record.title, titles)
