"""Property-based: no page parser is worse than linear, on any input.

Every byte of a page is hostile, and a regex that backtracks over a long run can hold
the sync's lock for minutes (a 100 KB run of [\\w-] took 23 s in `_playlist_ids`). The
generated pages put long runs of every character class, deep nesting of [ ( * and huge
lines into every place a parser looks (headings, talk lines, fields, speaker bullets,
links, comments), and the property is about growth, not wall-clock limits: parsing four
times the input takes at most GROWTH_LIMIT times as long (linear is 4, quadratic 16).

Times are this process's CPU time (time.process_time), which other processes on a busy
machine do not inflate. Sizes are calibrated per input: doubled until one parse takes
CALIBRATED seconds (or the text reaches MAX_CHARS), so the ratio is measured well above
timer resolution; each time is the best of REPEATS, and a ratio over the limit is
measured once more before it fails.
"""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.core.errors import PageError
from sync.pages import parse_talks_page, parse_webinar_page, video_id_from_url

GROWTH_LIMIT = 9.0
CALIBRATED = 0.005
MAX_CHARS = 400_000
REPEATS = 3

WEBINAR_HEAD = "---\npermalink: /webinar/\n---\n# Datasets through the Looking-Glass\n#### Previous talks:\n"
TALKS_HEAD = "---\npermalink: /webinar_talks/\n---\n# Datasets through the Looking-Glass\n"
UPCOMING_HEAD = WEBINAR_HEAD + "#### Coming talks\nDate: **TBA**\nSpeakers:\n\n* **A B** - C\n"

# Where a run lands: each place some reader of the pages looks.
CONTEXTS = [
    "", "# ", "### ", "### A (", "##### ", "* ", "*  ", "* S01E01 - ", "* S01E01 - **A** (",
    "* S01E01 - **A** (B). 1st March 2023. ", "* S01E01 - [A](", "Title: ", "**Abstract**: ", "title",
    "Speakers: ", "* **A** - ", "* [A](", "#### Next webinar: ", "Date: ", "[", "<!--", "Video: [",
    "https://www.youtube.com/playlist?list=", "youtube.com/watch?v=", "datasets ",
]
# What the run is made of: every character class the regexes treat specially.
UNITS = [
    " ", "\t", "\u00a0", "\u200b", "#", "*", "**", "_", "-", "–", ".", ":", ",", "&", "|", "\\", "/", "?", "=",
    "[", "]", "(", ")", "](", "[](", "<", ">", "'", '"', "`", "a", "Z", "é", "1", "a.", "a-", "a,", "a ", " - ",
    " and ", "<!--", "-->", "www.", "youtube.com/", "http://", "&list=", "?v=", "youtu.be/", "S1E1", "S01E01 ",
    "Dr. ", "1st ", "Feb ", "2023 ", "Title:", "**Title**:", "Speakers:", "### ", "* ",
]
TAILS = ["", "x", ")", "]", "**", " #", ":", "\n"]
# Deep nesting: n openers, then (or not) n closers.
NESTS = [("[", "]"), ("(", ")"), ("**", "**"), ("*", "*"), ("[(", ")]"), ("<!--", "-->"), ("[", "](x)")]


def _parse_webinar(text: str) -> None:
    parse_webinar_page(text)


def _parse_talks(text: str) -> None:
    parse_talks_page(text)


PARSERS = {
    "webinar": (WEBINAR_HEAD, _parse_webinar),
    "upcoming": (UPCOMING_HEAD, _parse_webinar),
    "talks": (TALKS_HEAD, _parse_talks),
    "url": ("", video_id_from_url),
}


def _seconds(parse, text: str) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        try:
            parse(text)
        except PageError:
            pass  # refusing the page is an answer too; it must be as quick
        best = min(best, time.process_time() - start)
    return best


def growth(parser: str, build) -> tuple[float, int]:
    """How much longer parsing `build(4n)` takes than `build(n)`, n calibrated; and n."""
    head, parse = PARSERS[parser]
    n = 64
    while True:
        text = head + build(n)
        if _seconds(parse, text) >= CALIBRATED or len(text) * 8 > MAX_CHARS:
            break
        n *= 2
    ratios = []
    for _ in range(2):  # a ratio over the limit is measured once more: a busy machine, not the parser
        small, large = _seconds(parse, head + build(n)), _seconds(parse, head + build(4 * n))
        ratios.append(large / max(small, 1e-6))
        if ratios[-1] <= GROWTH_LIMIT:
            break
    return min(ratios), n


FAST = settings(max_examples=60, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@FAST
@given(
    parser=st.sampled_from(sorted(PARSERS)),
    context=st.sampled_from(CONTEXTS),
    unit=st.sampled_from(UNITS) | st.text(min_size=1, max_size=3),
    tail=st.sampled_from(TAILS),
    lines=st.sampled_from([1, 3]),
)
def test_every_parser_is_linear_on_long_runs(parser, context, unit, tail, lines):
    def build(n):
        line = context + unit * n + tail
        return "\n".join([line] * lines)

    ratio, n = growth(parser, build)
    assert ratio <= GROWTH_LIMIT, (parser, context, unit, tail, lines, n, ratio)


@pytest.mark.slow
@FAST
@given(
    parser=st.sampled_from(sorted(PARSERS)),
    context=st.sampled_from(CONTEXTS),
    nest=st.sampled_from(NESTS),
    closed=st.booleans(),
)
def test_every_parser_is_linear_on_deep_nesting(parser, context, nest, closed):
    opener, closer = nest

    def build(n):
        return context + opener * n + "x" + (closer * n if closed else "")

    ratio, n = growth(parser, build)
    assert ratio <= GROWTH_LIMIT, (parser, context, nest, closed, n, ratio)


# The inputs that were quadratic, by name, so a regression says which.
@pytest.mark.parametrize("parser, context, unit, tail", [
    ("webinar", "Title: ", "a", "x"),  # _playlist_ids: a run of [\w-]
    ("webinar", "* ", "a.", "x"),  # _playlist_ids: a run of subdomain-like words
    ("webinar", "*  ", "S1E1", ")"),
    ("talks", "title", "<!--", "x"),  # comments: every unclosed <!-- scanned to the end
    ("webinar", "### A (", " ", "x"),  # headings: lazy text before optional closing #s
    ("talks", "### ", " ", "x"),  # talks-page sections
    ("upcoming", "title", " ", "x"),  # labelled fields: whitespace on both sides of optional **
], ids=["word-run", "dotted-words", "codes", "comments", "heading-spaces", "section-spaces", "field-spaces"])
def test_the_inputs_that_were_quadratic_are_linear(parser, context, unit, tail):
    ratio, n = growth(parser, lambda n: context + unit * n + tail)
    assert ratio <= GROWTH_LIMIT, (n, ratio)


def test_a_huge_line_of_word_characters_is_read_quickly_and_changes_nothing():
    """The issue's case: a 4.7 MB line of [\\w-] (5 MB is the page limit) next to the real
    playlist link; it was still running after 300 s."""
    playlist = "https://www.youtube.com/playlist?list=PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy"
    page = parse_webinar_page(WEBINAR_HEAD + "x-" * 2_350_000 + "\n" + playlist + "\n")
    assert page.playlist_ids == ["PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy"]
