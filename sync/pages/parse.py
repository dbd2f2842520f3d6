"""Parsers for the series' two markdown pages: the webinar page and the talks page.

Pure functions over text: no I/O, no clock. Which record is which talk is
sync.pages.identity's business. The pages are hand-written and drift a lot
between versions (2022-2026), so every reader here is line based and tolerant: it takes
what a line says and never invents what it does not.

    decode_page(bytes, source)        -> str            (PageError on unusable input)
    parse_webinar_page(text, source)  -> WebinarPage    (listed + upcoming talks, playlists)
    parse_talks_page(text, source)    -> [AbstractRecord]
    fold(text)                        -> case- and accent-free text for comparing names
    video_id_from_url(url), normalize_code(label)
"""
from __future__ import annotations

import re
from typing import Optional

from ._pagetext import (
    LINK_RE,
    clean,
    date_of,
    find_date,
    find_impossible_date,
    is_tba,
    iso_date,
    mask_links,
    matching_paren,
    normalize_code,
    parse_people,
    playlist_ids,
    source_name,
    split_bullet_speakers,
    split_heading_speakers,
    strip_comments,
    title_text,
    unbold,
    video_id_from_url,
)
from ._layout import (
    LISTED_RE,
    UPCOMING_RE,
    heading_of,
    is_talk_section,
    iter_headings,
    not_talks_page_reason,
    not_webinar_page_reason,
)
from sync.core.errors import PageError
from sync.core.limits import MAX_PAGE_BYTES
from sync.core.records import AbstractRecord, Person, TalkRecord, WebinarPage
from sync.core.text import fold  # noqa: F401  (fold is part of this module's surface)

__all__ = [
    "MAX_PAGE_BYTES", "decode_page", "fold", "normalize_code", "parse_talks_page", "parse_webinar_page",
    "video_id_from_url",
]


# ---------------------------------------------------------------------------
# Bytes -> text
# ---------------------------------------------------------------------------


def decode_page(data: bytes, source: str) -> str:
    """The page's text (UTF-8, BOM stripped), or PageError naming `source` when the bytes
    are empty, binary, not UTF-8 or larger than MAX_PAGE_BYTES."""
    name = source_name(source)
    if len(data) > MAX_PAGE_BYTES:
        raise PageError(f"{name} is too large to be a page: {len(data)} bytes (limit {MAX_PAGE_BYTES}).")
    if not data.strip():
        raise PageError(f"{name} is empty.")
    if b"\x00" in data:
        raise PageError(f"{name} is binary, not a markdown page (it contains NUL bytes).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PageError(f"{name} is not valid UTF-8 (bad byte at offset {error.start}).") from None
    if not text.strip():
        raise PageError(f"{name} is empty.")
    return text


# ---------------------------------------------------------------------------
# Labelled fields ("Title: ..", "* **Abstract**: ..") and their continuation lines
# ---------------------------------------------------------------------------

# `[\s*]*` rather than `\s*\**\s*`: two whitespace runs around optional stars split a
# long run of spaces in quadratically many ways before failing.
_FIELD_RE = re.compile(
    r"^(?:[*+-]\s)?[\s*]*(?P<label>title|abstract|short bio|bio|website|video|date|topic(?:\s*&\s*speakers)?"
    r"|(?:confirmed\s+)?speakers|where|add to)[\s*]*:\s*(?P<value>.*)$",
    re.I,
)
_BULLET_RE = re.compile(r"^[*+-]\s+(?P<text>.*)$")


def _field(line: str) -> Optional[tuple[str, str]]:
    """("title", "value") for a labelled line, the label lowercased ("short bio" is "bio")."""
    match = _FIELD_RE.match(line)
    if not match:
        return None
    label = " ".join(match["label"].lower().split())
    label = {"short bio": "bio", "confirmed speakers": "speakers"}.get(label, label)
    label = "topic" if label.startswith("topic") else label
    return label, match["value"].strip()


class _Fields:
    """The text fields of one talk as lines come: a labelled line starts a paragraph of its
    field, the lines after it continue that field (bulleted bios of several speakers,
    abstracts of several paragraphs). Paragraphs are joined with a blank line."""

    TEXT_FIELDS = ("title", "abstract", "bio")

    def __init__(self) -> None:
        self.paragraphs: dict[str, list[list[str]]] = {}
        self.current: Optional[str] = None
        self.after_blank = False

    def start(self, label: str, value: str) -> None:
        self.current = label if label in self.TEXT_FIELDS else None
        if self.current:
            self.paragraphs.setdefault(label, []).append([])
            self.after_blank = False
            self.add(value)

    def add(self, line: str) -> None:
        if not self.current:
            return
        bullet = _BULLET_RE.match(line)
        text = clean(bullet["text"] if bullet else line)
        if not text:
            return
        paragraphs = self.paragraphs[self.current]
        if (self.after_blank or bullet) and paragraphs[-1]:
            paragraphs.append([])  # each bullet of a bulleted bio is its own paragraph
        paragraphs[-1].append(text)
        self.after_blank = False

    def blank(self) -> None:
        self.after_blank = True

    def stop(self) -> None:
        self.current = None

    def text(self, label: str) -> Optional[str]:
        paragraphs = ["\n".join(p) for p in self.paragraphs.get(label, []) if p]
        paragraphs = [_unwrap_bold(p) for p in paragraphs if not is_tba(p)]
        return "\n\n".join(paragraphs) or None

    def title(self) -> Optional[str]:
        text = self.text("title")
        return title_text(text) if text else None


def _unwrap_bold(text: str) -> str:
    """"**X**" -> "X" when the whole text is one bold span."""
    match = re.fullmatch(r"\*\*([^*]+)\*\*\.?", text.strip())
    return match[1].strip() if match else text


# ---------------------------------------------------------------------------
# The webinar page
# ---------------------------------------------------------------------------


def parse_webinar_page(text: str, source: str = "webinar page") -> WebinarPage:
    """The talks of one version of the webinar page: coded "Previous talks" lines
    (status "listed") and the upcoming section's talks (status "upcoming"), plus the
    playlist(s) the page links to. PageError when `text` is not the webinar page."""
    reason = not_webinar_page_reason(text or "")
    if reason:
        raise PageError(f"{source_name(source)} is not the webinar page: {reason}.")
    shown = strip_comments(text)
    lines = shown.splitlines()
    warnings: list[str] = []
    listed = []
    for line in lines:
        talk = _parse_listed_line(line)
        if talk:
            listed.append(talk)
            if talk.date is None and talk.date_text:
                warnings.append(f"{talk.code}'s date {_quoted(talk.date_text)} is not a calendar date;"
                                " kept as written (date_text), with no date")
        elif _CODE_LINE_RE.match(line):
            warnings.append(f"the line {_quoted(line)} has no valid episode code (SxxEyy, from S01E01):"
                            " not read as a talk")
    upcoming = [talk for section in _upcoming_sections(lines) for talk in _parse_upcoming(*section)]
    for talk in upcoming:
        if talk.date is None and talk.date_text and find_impossible_date(talk.date_text):
            warnings.append(f"the announced date {_quoted(talk.date_text)} is not a calendar date;"
                            " kept as written (date_text), with no date")
    name = source_name(source)
    return WebinarPage(listed=listed, upcoming=upcoming, playlist_ids=playlist_ids(shown),
                       warnings=[f"{name}: {w}" for w in warnings])


# A line that looks like a coded talk ("* S100E1 - ...", "* S00E00: ...") whatever its numbers.
_CODE_LINE_RE = re.compile(r"\s{0,3}[*+-]\s+\[?S\d+E\d+\]?\s*[-–—:]", re.I)


def _quoted(text: str, limit: int = 80) -> str:
    """Page text for a warning: one line, bounded, quoted."""
    text = clean(text)
    return '"' + (text if len(text) <= limit else text[:limit - 1] + "…") + '"'


def _parse_listed_line(line: str) -> Optional[TalkRecord]:
    """One "* S03E01 - **[Dr. Thijs Kooi](url)** (Lunit, South Korea). 18th September 2023.
    **Title**. [Video](url)." line; the video link may be on the names instead."""
    match = LISTED_RE.match(line)
    code = normalize_code(match["code"]) if match else None
    if not code:
        return None
    rest = match["rest"]
    names, affiliation, tail = _split_listed(rest)
    speakers, _ = parse_people(names)
    when = find_date(tail) or find_impossible_date(tail)  # "31st February 2023": kept as written
    video_ids = [v for v in (video_id_from_url(url) for _, url in LINK_RE.findall(line)) if v]
    return TalkRecord(
        status="listed",
        speakers=speakers,
        code=code,
        code_text=match["code"],
        season=int(code[1:3]),
        episode=int(code[4:]),
        affiliation=affiliation,
        date=iso_date(when) if when else None,
        date_text=clean(when[0]) if when else None,
        title=_listed_title(tail[when.end():] if when else tail),
        page_video_id=video_ids[0] if video_ids else None,
    )


def _split_listed(rest: str) -> tuple[str, Optional[str], str]:
    """Names, affiliation (first parenthesised group, nested ones kept) and the rest."""
    masked = mask_links(rest)
    start = masked.find("(")
    end = matching_paren(masked, start) if start >= 0 else None
    if end is not None:
        return rest[:start], clean(unbold(rest[start + 1:end])) or None, rest[end + 1:]
    bold = re.match(r"\s*\*\*.*?\*\*", rest)  # no affiliation: the names are the first bold span
    return (rest[:bold.end()], None, rest[bold.end():]) if bold else ("", None, rest)


def _listed_title(after_date: str) -> Optional[str]:
    """The bold text after the date; without bold, the text up to a video link or note."""
    bold = re.search(r"\*\*(.+?)\*\*", after_date)
    if bold:
        return title_text(bold[1])
    plain = re.split(r"\[Video\]|Video will be available", after_date, maxsplit=1, flags=re.I)[0]
    return title_text(LINK_RE.sub(r"\1", plain).strip(" .:-"))


def _upcoming_sections(lines: list[str]) -> list[tuple[str, str, list[str]]]:
    """(kind, heading rest, body lines) of each upcoming-talks section: from a "Coming
    talks" / "Next talk" / "Next webinar: <topic>" heading to the next heading of level 4
    or higher (speaker headings "##### ..." stay inside)."""
    sections = []
    headings = list(iter_headings(lines))
    for position, (index, level, heading) in enumerate(headings):
        match = UPCOMING_RE.match(heading)
        if not match or level > 4:
            continue
        end = next((i for i, lvl, _ in headings[position + 1:] if lvl <= 4), len(lines))
        sections.append((match["kind"].lower(), match["rest"], lines[index + 1:end]))
    return sections


class _Upcoming:
    """One talk being read from the upcoming section."""

    def __init__(self, speakers: list[Person], affiliation: Optional[str], video_ids: list[str]):
        self.speakers = speakers
        self.affiliation = affiliation
        self.video_id = video_ids[0] if video_ids else None
        self.fields = _Fields()


def _parse_upcoming(kind: str, heading_rest: str, body: list[str]) -> list[TalkRecord]:
    """The talks of one upcoming section, in every form it has taken:

    - "Speakers:" bullets "* **Name** - Affiliation" or "* **[Name](profile)** (Affiliation).",
      each a talk ("A & B - Affiliation" is one talk with two speakers), optionally
      followed by "Title:" / "Abstract:" / "Short bio:" paragraphs;
    - "##### **Name** and **Name** (Affiliation)" headings followed by bulleted
      "**Title**:" / "**Abstract**:" / "**Bio**:" fields;
    - early 2023: "* 27th Feb 2023 at 4pm CET: <topic>" then "Speakers: A, B, C."
      (commas separate talks, as the next version of the page made them three bullets).

    The section's date ("Date: **..**" or that early line) and topic ("Next webinar: <topic>",
    "Topic: **..**") apply to all its talks. "Website:" fields are not read: with two
    speakers their order does not follow the names'.
    """
    topic = heading_rest if kind.startswith("next webinar") else None
    date_text: Optional[str] = None
    talks: list[_Upcoming] = []
    for raw in body:
        line = raw.strip()
        if not line:
            if talks:
                talks[-1].fields.blank()
            continue
        heading = heading_of(line)
        if heading:  # "##### **Dr. Thijs Kooi** (Lunit, South Korea)"
            names, affiliation = split_heading_speakers(heading[1])
            speakers, video_ids = parse_people(names)
            if speakers:
                talks.append(_Upcoming(speakers, affiliation, video_ids))
            continue
        field = _field(line)
        if field:
            label, value = field
            if label == "date":
                date_text = clean(unbold(value)) or None
            elif label == "topic":
                topic = value
            elif label == "speakers":
                talks.extend(_inline_speakers(value))
            elif talks:
                talks[-1].fields.start(label, value)
            continue
        bullet = _BULLET_RE.match(line)
        if bullet and bullet["text"].startswith(("**", "[")):  # "* **Name** - .." / "* [Name](url) - .."
            names, affiliation = split_bullet_speakers(bullet["text"])
            speakers, video_ids = parse_people(names)
            if speakers:
                talks.append(_Upcoming(speakers, affiliation, video_ids))
            continue
        if not talks and date_text is None and find_date(line):
            # "* 27th Feb 2023 at 4pm CET: Characteristics of skin lesions"
            when, _, what = clean(unbold(bullet["text"] if bullet else line)).partition(": ")
            date_text, topic = when.strip(), (what.strip() or topic)
            continue
        if talks:
            talks[-1].fields.add(line)
    topic = clean(unbold(topic or "")).rstrip(" .:") or None
    return [
        TalkRecord(
            status="upcoming",
            speakers=talk.speakers,
            affiliation=talk.affiliation,
            date=date_of(date_text),
            date_text=date_text,
            title=talk.fields.title(),
            page_video_id=talk.video_id,
            abstract=talk.fields.text("abstract"),
            bio=talk.fields.text("bio"),
            topic=None if is_tba(topic) else topic,
        )
        for talk in talks
    ]


def _inline_speakers(value: str) -> list[_Upcoming]:
    """Talks of an inline "Speakers: [Dr. A](url), Prof. B, Dr. C." list: one per comma part."""
    value = unbold(value).strip().rstrip(".")
    commas = [m.start() for m in re.finditer(",", mask_links(value))]
    bounds = zip([-1] + commas, commas + [len(value)])
    talks = []
    for part in (value[start + 1:end] for start, end in bounds):
        speakers, video_ids = parse_people(part)
        if speakers:
            talks.append(_Upcoming(speakers, None, video_ids))
    return talks


# ---------------------------------------------------------------------------
# The talks page
# ---------------------------------------------------------------------------


def parse_talks_page(text: str, source: str = "talks page") -> list[AbstractRecord]:
    """One AbstractRecord per "### Name (Affiliation)" section of the talks page, with its
    title, abstract, bio(s) and "Video: [SxxEyy](url)" link. PageError when `text` is not
    the talks page."""
    reason = not_talks_page_reason(text or "")
    if reason:
        raise PageError(f"{source_name(source)} is not the talks page: {reason}.")
    lines = strip_comments(text).splitlines()
    starts = [i for i, line in enumerate(lines) if is_talk_section(line)]
    records = []
    for start, end in zip(starts, starts[1:] + [len(lines)]):
        body = [line for line in lines[start + 1:end] if not heading_of(line)]
        records.append(_parse_talk_section(heading_of(lines[start])[1], body))
    return records


def _parse_talk_section(heading: str, body: list[str]) -> AbstractRecord:
    names, affiliation = split_heading_speakers(heading)
    speakers, _ = parse_people(names)
    fields = _Fields()
    code = video_id = None
    for raw in body:
        line = raw.strip()
        if not line:
            fields.blank()
        elif re.fullmatch(r"(?:-{3,}|\*{3,}|_{3,})", line):  # "---" between sections
            fields.stop()
        elif (field := _field(line)) and field[0] == "video":
            code, video_id = _video_field(field[1])
            fields.stop()
        elif field:
            fields.start(*field)
        else:
            fields.add(line)
    return AbstractRecord(
        speakers=speakers,
        affiliation=affiliation,
        title=fields.title(),
        abstract=fields.text("abstract"),
        bio=fields.text("bio"),
        code=code,
        video_id=video_id,
    )


def _video_field(value: str) -> tuple[Optional[str], Optional[str]]:
    """"[S0302](https://youtu.be/..)" -> ("S03E02", video id)."""
    link = LINK_RE.search(value)
    if link:
        return normalize_code(link[1]), video_id_from_url(link[2])
    return normalize_code(value), None
