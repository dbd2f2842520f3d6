"""Turning stored text into what the site shows: safe markdown, video ids, timestamps, links,
and the site's own paths (talk_path, speaker_path: the one place they are made).

Every value comes from a page or YouTube and is hostile. Nothing here returns markup built
from a value without escaping it, and nothing does more than linear work on a bounded prefix.
"""
from __future__ import annotations

import functools
import re
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape
from markdown_it import MarkdownIt

from sync.core.text import fold
from sync.core.video_ids import canonical_video_id, is_video_id, watch_url

__all__ = [
    "MARKDOWN_LIMIT",
    "MARKUP_CHARACTERS",
    "canonical_video_id",
    "duration",
    "excerpt",
    "markdown",
    "safe_url",
    "speaker_path",
    "talk_path",
    "thumbnail_url",
    "timestamp",
    "watch_url",
]

# Abstracts and bios are a few KB; a hostile one was 140 KB of `[`. markdown-it-py is
# linear, and this cap keeps a render under ~0.3 s on any input (see tests/test_site_render.py).
MARKDOWN_LIMIT = 20_000

# CommonMark with raw HTML off (it shows as text) and linkify off, so "M.Sc" or
# "example.org" stay words; only explicit [text](url) and <url> become links, and
# markdown-it refuses javascript:, vbscript:, file: and data: targets. Images would
# load from anywhere: off (`![alt](url)` shows as a link to the image).
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


def thumbnail_url(video_id: str | None) -> str | None:
    if not is_video_id(video_id):
        return None
    return f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg"


def safe_url(value: object) -> str | None:
    """`value` if it is an http(s) URL that can go in an href, else None (no javascript:)."""
    if not isinstance(value, str) or len(value) > 2000 or any(c in value for c in "\x00\r\n\t "):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value


# Markdown-it's cost grows with markup characters (20,000 `[` take ~0.3 s, prose ~1 ms).
# Real abstracts hold a handful; past this many, a cell is shown as plain paragraphs, so
# even a table page of hostile rows renders in milliseconds per cell.
MARKUP_CHARACTERS = 300
_MARKUP = re.compile(r"[\[\]*_<>`!\\&]")


def _plain(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)


@functools.lru_cache(maxsize=512)
def _render(text: str) -> str:
    if len(_MARKUP.findall(text)) > MARKUP_CHARACTERS:
        return _plain(text)
    return _MD.render(text)


def markdown(text: object, limit: int = MARKDOWN_LIMIT) -> Markup:
    """Safe HTML for a stored abstract or bio; text past `limit` characters is cut, and said so."""
    if text is None or text == "":
        return Markup("")
    text = str(text)
    cut = len(text) > limit
    html = _render(text[:limit] if cut else text)
    if cut:
        html += f'<p class="cut">(cut at {limit:,} characters; the full text is in the database)</p>'
    return Markup(html)


def excerpt(text: object, length: int = 200) -> str:
    """Plain one-line text for meta descriptions: markdown punctuation dropped, cut at a word."""
    if not text:
        return ""
    flat = re.sub(r"[\s*_`#>\[\]]+", " ", str(text)[: length * 4]).strip()
    if len(flat) <= length:
        return flat
    return flat[:length].rsplit(" ", 1)[0] + "…"


def timestamp(seconds: object) -> str:
    """1:02:03 or 2:03."""
    try:
        total = max(0, int(float(seconds)))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration(seconds: object) -> str:
    """A recording's length for readers: "58 min", "1 h 02 min"; "" when unknown."""
    try:
        total = int(float(seconds))
    except (TypeError, ValueError, OverflowError):
        return ""
    if total <= 0:
        return ""
    minutes = max(1, round(total / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def path_part(value: object) -> str:
    """`value` quoted for use as one URL path segment."""
    return quote(str(value), safe="")


def talk_path(row: dict) -> str:
    """/talk/S03E02, or /talk/<id> for a talk with no code yet."""
    code = row.get("code")
    return f"/talk/{path_part(code)}" if code else f"/talk/{int(row.get('id') or row.get('talk_id'))}"


def speaker_path(row: dict) -> str:
    """/speaker/23-amelia-jimenez-sanchez: the id decides, the name is for people."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(row.get("name") or "")).strip("-")[:60]
    return f"/speaker/{int(row['id'])}" + (f"-{slug}" if slug else "")


def highlight(snippet: object, start: str = "\x02", end: str = "\x03") -> Markup:
    """Escape an FTS snippet() made with control-character markers, then mark the hits.

    Every <mark> opened is closed, and a marker out of turn (an end with none open, a start
    inside a mark) is dropped: stored text carries no control characters (captions are cleaned
    as they are parsed), but a value that did could otherwise leave a tag open."""
    out, open_ = [], False
    for part in re.split(f"([{re.escape(start)}{re.escape(end)}])", str(snippet or "")):
        if part == start and not open_:
            out.append("<mark>")
            open_ = True
        elif part == end and open_:
            out.append("</mark>")
            open_ = False
        elif part not in (start, end):
            out.append(str(escape(part)))
    return Markup("".join(out) + ("</mark>" if open_ else ""))
