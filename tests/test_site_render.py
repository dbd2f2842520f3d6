"""sync.site.render and the search query builder: what may become markup, a link or an embed."""
from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.site.data import fts_query
from sync.site.render import (
    MARKDOWN_LIMIT, canonical_video_id, excerpt, highlight, markdown, safe_url, thumbnail_url, timestamp, watch_url,
)

GENEROUS = 10.0  # seconds; a capped render takes well under one


@pytest.mark.parametrize("value, expected", [
    ("hDKuw28ATe4", "hDKuw28ATe4"),
    ("_lSc2msTMbY", "_lSc2msTMbY"),
    ("https://www.youtube.com/watch?v=hDKuw28ATe4", "hDKuw28ATe4"),
    ("https://www.youtube.com/watch?v=qTSoF8wCbNA&list=PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy", "qTSoF8wCbNA"),
    ("https://youtu.be/hDKuw28ATe4", "hDKuw28ATe4"),
    ("https://www.youtube.com/watch?v=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E", None),
    ('"><img src=x onerror=alert(1)>', None),
    ("hDKuw28ATe4x", None),
    ("hDKuw28ATe", None),
    ("hDKuw28ATe4\n", None),
    ("javascript:alert(1)//hDKuw28ATe4", None),
    ("https://evil.example/watch?v=hDKuw28ATe4", None),
    ("https://www.youtube.com/embed/hDKuw28ATe4", None),
    ("https://www.youtube.com/watch?v=" + "a" * 5000, None),
    (None, None),
    (12345678901, None),
])
def test_only_canonical_ids_come_out(value, expected):
    assert canonical_video_id(value) == expected


def test_urls_are_built_from_canonical_ids_only():
    assert watch_url("hDKuw28ATe4", 65.9) == "https://www.youtube.com/watch?v=hDKuw28ATe4&t=65s"
    assert watch_url('"><b>', 1) is None and thumbnail_url("x" * 11 + "'") is None
    assert thumbnail_url("hDKuw28ATe4") == "https://i.ytimg.com/vi/hDKuw28ATe4/hqdefault.jpg"


@pytest.mark.parametrize("value, ok", [
    ("https://example.org/me", True), ("http://example.org", True), ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False), ("data:text/html,<script>", False), ("//evil.example", False),
    ("https://exa mple.org", False), ("https://example.org/\nx", False), ("", False), (None, False),
])
def test_safe_url(value, ok):
    assert safe_url(value) == (value if ok else None)


def test_markdown_is_safe_and_does_not_linkify():
    html = markdown("She holds an M.Sc. from Example.org, see www.example.org and http://example.org.\n\n"
                    "**Bold** <script>alert(1)</script> <img src=x onerror=alert(2)> "
                    "[x](javascript:alert(3)) [ok](https://example.org/a) ![i](https://example.org/i.png)")
    assert 'href="https://example.org/a"' in html
    assert 'href="https://example.org/i.png"' in html  # an image is a link to it, never loaded
    assert html.count("<a ") == 2  # M.Sc, Example.org, www..., a bare http:// and javascript: are no links
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert "<strong>Bold</strong>" in html


def test_markup_heavy_text_is_plain_escaped_paragraphs():
    html = markdown("[" * 400 + " <b>x</b>\n\nsecond **para**")
    assert html.startswith("<p>[[[") and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html
    assert html.count("<p>") == 2 and "<strong>" not in html


def test_markdown_is_capped():
    html = markdown("x" * (MARKDOWN_LIMIT + 10))
    assert "cut at 20,000 characters" in html and html.count("x") <= MARKDOWN_LIMIT + 5


@pytest.mark.parametrize("unit", ["[", "[a](", "*a ", "_a", "![", "<", "`", "> ", "- ", "\\", "&#", "]("])
def test_markdown_bounded_on_pathological_input(unit):
    text = unit * (140_000 // len(unit))  # the 140 KB abstract of issue #13 and its cousins
    started = time.perf_counter()
    html = markdown(text)
    assert time.perf_counter() - started < GENEROUS
    assert "cut at" in html


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs


PIECES = list("<>[]()!*_`'=&#:/ aj\n\\\"") + ["javascript:", "onerror=", "<script>", "http://", "M.Sc", "](", "<a href="]
ALLOWED = {"p", "em", "strong", "a", "code", "pre", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5",
           "h6", "hr", "br"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_markdown_emits_only_plain_tags_and_http_links(text):
    parser = _Tags()
    parser.feed(str(markdown(text)))
    assert parser.tags <= ALLOWED, parser.tags
    for name, value in parser.attrs:
        # a fence's info string becomes class="language-..." (escaped, inert)
        assert name in ("href", "title", "start") or (name == "class" and value.startswith("language-")), name
        if name == "href":
            assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), value


def test_highlight_escapes_everything_but_the_marks():
    assert str(highlight("a <b>\x02hit\x03</b> & c")) == "a &lt;b&gt;<mark>hit</mark>&lt;/b&gt; &amp; c"


@pytest.mark.parametrize("q, expected", [
    ("jimenez", '"jimenez"'),
    ("Jiménez-Sánchez", '"Jiménez" "Sánchez"'),
    ('fair" OR x NEAR(', '"fair" "OR" "x" "NEAR"'),
    ("title:foo*", '"title" "foo"'),
    ("  ", None),
    ('"""', None),
])
def test_fts_query_is_words_only(q, expected):
    assert fts_query(q) == expected


def test_small_helpers():
    assert timestamp(0) == "0:00" and timestamp(65.9) == "1:05" and timestamp(3754) == "1:02:34"
    assert timestamp("x") == "" and timestamp(None) == ""
    assert excerpt("**Bold** [a](b) " + "word " * 100, 40).endswith("…")
