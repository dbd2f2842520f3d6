"""The pieces of markdown the page readers share (private to sync.pages): clean text,
links and parentheses, YouTube URLs, episode codes, written dates, people.

Pure functions over text, each linear in its input: pages are hostile.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from sync.core.records import Person
from sync.core.redact import redact
from sync.core.text import ZERO_WIDTH, fold
from sync.core.video_ids import video_id_from_url


# ---------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------

def clean(text: str) -> str:
    """Text as shown: zero-width characters gone, any whitespace run (NBSP too) one space."""
    return " ".join(text.translate(ZERO_WIDTH).split())


def unbold(text: str) -> str:
    return text.replace("**", "")


def is_tba(text: Optional[str]) -> bool:
    """A placeholder rather than content: "TBA", "**TBA**", "TBD", "to be announced"."""
    return bool(re.match(r"(tba|tbd|to be announced)\b", fold(unbold(text or "")).strip(" *_")))


def title_text(text: str) -> Optional[str]:
    """A title as written without its bold markers and trailing dots: "**X**." -> "X"."""
    title = clean(unbold(text)).rstrip(" .")
    return None if not title or is_tba(title) else title


def source_name(source: object) -> str:
    """How error messages name the input: one line, never an API key."""
    return clean(redact(source)) or "input"


def strip_comments(text: str) -> str:
    """The text without its HTML comments: organizers park drafts in them (`<!-- Title:
    **TBA** -->`), which are not on the page. An unclosed `<!--` hides nothing (as the
    regex `<!--.*?-->` had it, in one pass instead of a scan to the end per `<!--`)."""
    parts, position = [], 0
    while True:
        start = text.find("<!--", position)
        end = text.find("-->", start + 4) if start >= 0 else -1
        if end < 0:
            parts.append(text[position:])
            return "".join(parts)
        parts.append(text[position:start])
        position = end + 3


# Markdown links `[text](url)`; empty URLs (`[Dr. David Wen]()`) occur.
LINK_RE = re.compile(r"\[([^\[\]]*)\]\(([^()\s]*)\)")


def mask_links(text: str) -> str:
    """The text with every link blanked out (same length), so that parentheses and
    dashes inside links are not taken for page structure."""
    return LINK_RE.sub(lambda m: "x" * len(m.group(0)), text)


def matching_paren(text: str, at: int) -> Optional[int]:
    """Index of the parenthesis matching the "(" or ")" at `at`, counting nested pairs:
    forwards from a "(", backwards from a ")"."""
    opener, step, stop = ("(", 1, len(text)) if text[at] == "(" else (")", -1, -1)
    depth = 0
    for i in range(at, stop, step):
        if text[i] in "()":
            depth += 1 if text[i] == opener else -1
            if depth == 0:
                return i
    return None


# ---------------------------------------------------------------------------
# URLs, codes, dates
# ---------------------------------------------------------------------------

# A YouTube URL from its host name on ("youtube.com/..."), found by its literal name so
# that each character is read a bounded number of times: a scheme and subdomain prefix
# `(?:[\w-]+\.)*` before it made the search quadratic on long runs of [\w-].
_YOUTUBE_URL_RE = re.compile(r"youtube(?:-nocookie)?\.com/[^\s<>\"'()\[\]]*")


def playlist_ids(text: str) -> list[str]:
    """Ids of the YouTube playlists the text links to, in order, without repeats.

    Only playlist links count (/playlist?list=.., /embed/videoseries?list=..): a talk's
    `watch?v=..&list=..` link names the playlist it was watched in, not the series'.
    """
    ids: list[str] = []
    for match in _YOUTUBE_URL_RE.finditer(text):
        before = text[match.start() - 1:match.start()]
        if before.isalnum() or before in ("_", "-"):
            continue  # "notyoutube.com": another host
        parts = urlsplit("https://" + match[0])
        if parts.path.rstrip("/") not in ("/playlist", "/embed/videoseries"):
            continue
        for playlist_id in parse_qs(parts.query).get("list", []):
            if re.fullmatch(r"[A-Za-z0-9_-]+", playlist_id) and playlist_id not in ids:
                ids.append(playlist_id)
    return ids


def normalize_code(label: str) -> Optional[str]:
    """An episode code in its one spelling: "S03E02", "S0302", "s3e2", "[S03E02]" -> "S03E02"."""
    text = clean(label or "").strip("[]() ").upper()
    match = re.fullmatch(r"S(\d{1,2})E(\d{1,3})", text) or re.fullmatch(r"S(\d{2})(\d{2})", text)
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        return None
    return f"S{int(match[1]):02d}E{int(match[2]):02d}"


_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DATE_RES = [
    re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+(?P<year>\d{{4}})\b"),  # 27th Feb 2023, 20 October 2025
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+(?P<year>\d{{4}})\b"),  # February 24, 2025
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),  # 2025-02-24
]


def find_date(text: str) -> Optional[re.Match]:
    """The first real calendar date written in `text`, or None."""
    found = []
    for pattern in _DATE_RES:
        for match in pattern.finditer(text):
            if iso_date(match):
                found.append(match)
                break
    return min(found, key=lambda m: m.start()) if found else None


def find_impossible_date(text: str) -> Optional[re.Match]:
    """The first date written with a real month that is no calendar date ("31st February
    2023", "2023-13-45"), or None: what a page meant as a date but got wrong."""
    found = []
    for pattern in _DATE_RES:
        for match in pattern.finditer(text):
            if _month_number(match["month"]) and not iso_date(match):
                found.append(match)
                break
    return min(found, key=lambda m: m.start()) if found else None


def _month_number(word: str) -> Optional[int]:
    """12, "Feb", "June", "Sept", "September" -> month number; None for "Mark", "Tue"."""
    word = word.lower()
    if word.isdigit():
        return int(word)
    if word == "sept":
        return 9
    return next((n for n, name in enumerate(_MONTH_NAMES, 1) if name.startswith(word)), None)


def iso_date(match: re.Match) -> Optional[str]:
    month = _month_number(match["month"])
    try:
        return date(int(match["year"]), month, int(match["day"])).isoformat() if month else None
    except ValueError:  # "31 February 2024"
        return None


def date_of(text: Optional[str]) -> Optional[str]:
    """ISO date of a written date ("20 October 2025 at 9:30am CET" -> "2025-10-20");
    None when it is TBA or has no day."""
    if not text or is_tba(text):
        return None
    match = find_date(text)
    return iso_date(match) if match else None


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

_HONORIFIC_RE = re.compile(r"^(?P<honorific>(?:Assoc\.\s*)?Prof\.?|Professor|Dr\.?)\s+(?P<name>\S.*)$")


def _person(written: str, profile_urls: dict[str, str]) -> Person:
    """"Dr. Roxana Daneshjou" -> Person("Roxana Daneshjou", "Dr.", <url if the name links one>)."""
    match = _HONORIFIC_RE.match(written)
    name, honorific = (match["name"], match["honorific"]) if match else (written, None)
    return Person(name=name, honorific=honorific, url=profile_urls.get(written) or profile_urls.get(name))


def parse_people(text: str) -> tuple[list[Person], list[str]]:
    """The people a names part writes, and the YouTube ids its links point to.

    "**[Dr. Roxana Daneshjou](https://profiles..)**", "**[Rhys Compton and Lily Zhang](https://youtu.be/..)**",
    "**Cathrine Damgaard** and **Trine Naja Eriksen**": names are split on "and", "&" and
    commas; a link to a non-YouTube page on one name is that person's profile URL.
    """
    profile_urls: dict[str, str] = {}
    video_ids: list[str] = []

    def unlink(match: re.Match) -> str:
        label, url = clean(unbold(match[1])), match[2]
        video_id = video_id_from_url(url) if url else None
        if video_id:
            video_ids.append(video_id)
        elif url:
            profile_urls[label] = url
        return match[1]

    plain = clean(unbold(LINK_RE.sub(unlink, text))).strip(" .,:;-*")
    names = [n.strip(" .,:;-*") for n in re.split(r"\s*(?:,|&|\band\b)\s*", plain)]
    return [_person(n, profile_urls) for n in names if n and not is_tba(n)], video_ids


def split_bullet_speakers(text: str) -> tuple[str, Optional[str]]:
    """A speaker bullet's names and affiliation.

    Both "**Name** - Affiliation" and "**Name** (Affiliation)." occur; whichever separator
    comes first after the names decides (affiliations contain both, as in
    "(Erasmus MC - University ..)" and "- German Cancer Research Center (DKFZ), Germany").
    """
    masked = mask_links(text)
    dash = re.search(r"\s[-–—]\s", masked)
    paren = masked.find("(")
    if dash and (paren < 0 or dash.start() < paren):
        return text[:dash.start()], clean(unbold(text[dash.end():])).rstrip(" .") or None
    if paren >= 0:
        end = matching_paren(masked, paren)
        if end is not None:
            return text[:paren], clean(unbold(text[paren + 1:end])) or None
    return text, None


def split_heading_speakers(text: str) -> tuple[str, Optional[str]]:
    """A section heading's names and the affiliation in its trailing parentheses:
    "Evangelia Christodoulou (German Cancer Research Center (DKFZ), Germany)"."""
    text = text.rstrip(" .*")
    masked = mask_links(text)
    if masked.endswith(")"):
        start = matching_paren(masked, len(masked) - 1)
        if start is not None:
            names = text[:start].rstrip(" *-–—")  # "Dewinda J. Rumala - (UNIVERSA AI, ..)"
            return names, clean(unbold(text[start + 1:-1])) or None
    return text, None
