"""Caption files -> timed words. Pure: no I/O, no clock.

Reads the two formats yt-dlp fetches, json3 (YouTube's timed-text JSON) and WebVTT,
as uploaded captions (a cue is a line of text, timed as a whole) and as automatic ones
(speech recognition, timed word by word). Automatic captions "roll": every VTT cue
repeats the line before, and 10 ms cues only repeat text; json3 holds each word once
but adds window-definition and newline (`aAppend`) events. The parsers keep each word
once, in order, with its own time, a word said twice at one time included ("a a"), and
`segments.segment()` groups them into segments.

Text is kept as it is read: the spaces the captions put between words, none between
two CJK pieces (Japanese automatic captions time every token of a sentence written
without spaces). Caption files are hostile input: size-bounded (MAX_CAPTION_BYTES),
parsed in one pass with regular expressions that cannot backtrack, nesting, numbers
and times bounded (MAX_CAPTION_SECONDS), tags stripped, entities decoded, control
characters dropped (the site marks search hits with \\x02/\\x03), lone surrogates
replaced; whatever shows the text escapes it.
"""
from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from typing import Optional

from sync.core.errors import CaptionError
from sync.core.limits import MAX_CAPTION_BYTES, MAX_CAPTION_SECONDS, MAX_JSON_DEPTH, MAX_SEGMENT_SECONDS
from sync.core.text import is_cjk, json_nesting_depth

from .segments import TranscriptSegment, content_hash, join_pieces, segment, watch_url_at  # noqa: F401 (public surface)

FORMATS = ("json3", "vtt")
# A caption track's key, as yt-dlp names tracks and files (en, en-GB, de-orig, es-419): a key
# from yt-dlp's answer or a file name that is not one ("../../x") is not a track.
TRACK_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")

# Automatic captions time a word's start only; a word is taken to last until the
# next one starts, at most this long (so a silence after it shows as a pause).
MAX_WORD_SECONDS = 1.0
MIN_CUE_SECONDS = 0.05  # rolling VTT: shorter cues only repeat the previous text
# A piece longer than this (an uploaded cue of a page of text) is cut at spaces into
# pieces timed in proportion across the cue, so segments stay bounded.
MAX_PIECE_CHARS = 300

_TAG = re.compile(r"<[^<>]*>")
# Control characters (C0 but tab/newline/CR, DEL, C1) and lone surrogates go; whitespace is one space.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_STAMP = r"(?:(\d{1,12}):)?(\d{1,2}):(\d{2})[.,](\d{3})"
_INLINE_TIME = re.compile(r"<" + _STAMP + r">")
_INLINE_SPLIT = re.compile(r"<((?:\d{1,12}:)?\d{1,2}:\d{2}[.,]\d{3})>")
_CUE_TIMING = re.compile(r"^\s*" + _STAMP + r"[ \t]+-->[ \t]+" + _STAMP)


@dataclass(frozen=True)
class Word:
    """A timed piece of text: one spoken word (automatic) or one cue's text (uploaded).

    `space`: the captions put a space before it (a piece that follows another on the
    same line without one, as Japanese tokens do, has none).
    """

    start: float
    end: float
    text: str
    space: bool = True


@dataclass(frozen=True)
class Captions:
    kind: str  # "uploaded" | "automatic"
    words: list[Word]


def clean_piece(text: str) -> tuple[str, bool]:
    """(text without tags, entities, control characters or extra whitespace; whether it began with a space)."""
    text = _CONTROL.sub("", html.unescape(_TAG.sub("", text)))
    return " ".join(text.split()), text[:1].isspace()


def _check_size(data: bytes, name: str) -> None:
    if len(data) > MAX_CAPTION_BYTES:
        raise CaptionError(f"{name}: {len(data)} bytes is larger than a caption file can be ({MAX_CAPTION_BYTES})")


def _in_range(seconds: float) -> bool:
    return 0 <= seconds <= MAX_CAPTION_SECONDS


def _check_time(seconds: float, name: str, where: str) -> float:
    if not _in_range(seconds):
        raise CaptionError(f"{name}: {where}: a time past {MAX_CAPTION_SECONDS // 3600} hours")
    return seconds


def _split_long(word: Word) -> list[Word]:
    """A piece of more than MAX_PIECE_CHARS characters as several, timed in proportion across it;
    none lasting more than MAX_SEGMENT_SECONDS (a cue shown for an hour)."""
    text = word.text
    if word.end - word.start > MAX_SEGMENT_SECONDS:
        word = Word(word.start, word.start + MAX_SEGMENT_SECONDS, text, word.space)
    if len(text) <= MAX_PIECE_CHARS:
        return [word]
    pieces, at = [], 0
    while at < len(text):
        cut = min(len(text), at + MAX_PIECE_CHARS)
        if cut < len(text):
            space = text.rfind(" ", at + 1, cut + 1)
            cut = space if space > at else cut
        raw = text[at:cut]
        if raw.strip():
            pieces.append((at + len(raw) - len(raw.lstrip()), raw.strip()))  # (where it starts, text)
        at = cut
    span = word.end - word.start
    out = []
    for i, (offset, chunk) in enumerate(pieces):
        start = word.start + span * offset / len(text)
        end = word.start + span * pieces[i + 1][0] / len(text) if i + 1 < len(pieces) else word.end
        out.append(Word(round(start, 3), round(end, 3), chunk, word.space if i == 0 else text[offset - 1:offset] == " "))
    return out


def _in_order(words: list[Word]) -> list[Word]:
    """Long pieces cut, sorted by start (stable: the file's order within one time), each word
    ending by the next one's start. A word said twice at one time stays twice."""
    words = sorted((piece for w in words for piece in _split_long(w)), key=lambda w: w.start)
    return [
        Word(w.start, max(w.start, min(w.end, words[i + 1].start)) if i + 1 < len(words) else w.end, w.text, w.space)
        for i, w in enumerate(words)
    ]


def _timed(pieces: list[tuple[float, str, bool]], end: float) -> list[Word]:
    """Words from (start, text, space) pieces of one line: each lasts to the next, at most MAX_WORD_SECONDS."""
    words = []
    for i, (start, text, space) in enumerate(pieces):
        bound = pieces[i + 1][0] if i + 1 < len(pieces) else end
        words.append(Word(start, min(max(bound, start), start + MAX_WORD_SECONDS), text, space))
    return words


# --------------------------------------------------------------------------- json3


def _number(value) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def parse_json3(data: bytes, name: str = "json3") -> Captions:
    """YouTube's json3: `events[]` of `{tStartMs, dDurationMs, segs: [{utf8, tOffsetMs}]}`.

    Skipped: events without `segs` (the first one defines the window), `aAppend`
    events (they only append a newline) and whitespace. A word's time is
    tStartMs + tOffsetMs. With no offsets anywhere the file is uploaded captions:
    each event is then one cue, kept whole.
    """
    _check_size(data, name)
    try:
        text = data.decode("utf-8", errors="strict").lstrip("\ufeff")
        # Depth is refused before parsing: where json.loads gives up differs between Pythons.
        too_deep = json_nesting_depth(text, stop_above=MAX_JSON_DEPTH) > MAX_JSON_DEPTH
        doc = None if too_deep else json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CaptionError(f"{name}: not a json3 caption file ({type(exc).__name__})") from None
    if too_deep:
        raise CaptionError(f"{name}: not a json3 caption file (nested too deep)")
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        raise CaptionError(f"{name}: not a json3 caption file (no events list)")
    cues: list[tuple[float, float, list[tuple[float, str, bool]], str]] = []  # start, end, timed pieces, text
    automatic = False
    for event in events:
        if not isinstance(event, dict) or event.get("aAppend") or not isinstance(event.get("segs"), list):
            continue
        start_ms, duration_ms = _number(event.get("tStartMs")), _number(event.get("dDurationMs", 0))
        if start_ms is None or duration_ms is None:
            continue
        start, end = start_ms / 1000, (start_ms + max(0.0, duration_ms)) / 1000
        if not (_in_range(start) and _in_range(end)):
            continue  # a hostile or broken event (-5, 1e308): skipped, as one without a time
        pieces, raw = [], []
        for seg in event["segs"]:
            if not isinstance(seg, dict) or not isinstance(seg.get("utf8"), str):
                continue
            if "tOffsetMs" in seg or "acAsrConf" in seg:
                automatic = True
            offset = _number(seg.get("tOffsetMs", 0))
            raw.append(seg["utf8"])
            text, space = clean_piece(seg["utf8"])
            if text and offset is not None and _in_range((start_ms + offset) / 1000):
                pieces.append(((start_ms + offset) / 1000, text, space or not pieces))  # an event's first word starts a line
        if pieces:
            cues.append((start, end, pieces, clean_piece("".join(raw))[0]))
    if automatic:
        return Captions("automatic", _in_order([w for _, end, pieces, _ in cues for w in _timed(pieces, end)]))
    words = [Word(start, max(end, start), text) for start, end, _, text in cues]
    return Captions("uploaded", _in_order(words))


# --------------------------------------------------------------------------- WebVTT


def _seconds(groups, name: str, where: str) -> float:
    hours, minutes, seconds, millis = groups
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
    return _check_time(value, name, where)


def _vtt_cues(text: str, name: str) -> list[tuple[float, float, list[str]]]:
    """(start, end, text lines) of every cue. A timing line starts a cue even straight after
    the previous cue's text (youtube-dl wrote files so); identifiers, NOTE, STYLE and header
    blocks are not text."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not lines[0].startswith("WEBVTT"):
        raise CaptionError(f"{name}: not a WebVTT caption file (no WEBVTT header)")
    cues = []
    current: Optional[list[str]] = None
    for number, line in enumerate(lines[1:], 2):
        timing = _CUE_TIMING.match(line) if "-->" in line else None
        if timing:
            groups = timing.groups()
            current = []
            where = f"line {number}"
            cues.append((_seconds(groups[:4], name, where), _seconds(groups[4:], name, where), current))
        elif "-->" in line:  # cue text may not hold "-->": a timing line we cannot read (400-digit hours)
            raise CaptionError(f"{name}: line {number}: not a cue timing we can read ({line[:40]!r}...)")
        elif line == "":  # a cue ends at an empty line (a line holding a space does not end it)
            current = None
        elif current is not None:
            current.append(line)
    return cues


def parse_vtt(data: bytes, name: str = "vtt") -> Captions:
    """WebVTT, uploaded or automatic.

    A file whose cues carry inline word times (`word<00:00:01.230><c> next</c>`)
    is automatic and rolling: cues under 50 ms are dropped, and from the others
    only the line with the word times is read (the other line repeats the
    previous cue). Without inline times every cue is an uploaded caption, kept whole.
    """
    _check_size(data, name)
    cues = _vtt_cues(data.decode("utf-8", errors="replace"), name)
    rolling = any(_INLINE_TIME.search(line) for _, _, lines in cues for line in lines)
    if not rolling:
        words = []
        for start, end, lines in cues:
            text = join_pieces([(clean_piece(line)[0], True) for line in lines])  # each line follows another
            if text:
                words.append(Word(start, max(end, start), text))
        return Captions("uploaded", _in_order(words))
    words = []
    carried = ""  # the text of the line read last: a later cue repeats it
    read: set[tuple[float, str]] = set()  # timed lines read, by cue start: a cue served twice is read once
    for start, end, lines in cues:
        if end - start < MIN_CUE_SECONDS:
            continue
        timed = [line for line in lines if _INLINE_TIME.search(line)]
        if timed:
            for line in timed:
                if (start, line) not in read:
                    read.add((start, line))
                    words += _timed_words(line, start, end, name)
                carried = clean_piece(line)[0]
            continue
        # A cue with no timed line: read only lines that are not the carried-over one
        # (a one-word line has no inline time).
        for line in lines:
            cleaned = clean_piece(line)[0]
            if cleaned and cleaned != carried:
                words.append(Word(start, min(end, start + MAX_WORD_SECONDS), cleaned))
                carried = cleaned
    return Captions("automatic", _in_order(words))


def _timed_words(line: str, cue_start: float, cue_end: float, name: str) -> list[Word]:
    # split() with one group alternates text, time, text, time, ...: the first text
    # is said at the cue's start, each later one at the time before it.
    parts = _INLINE_SPLIT.split(line)
    timed = [(cue_start, parts[0])]
    for i in range(1, len(parts) - 1, 2):
        stamp = _INLINE_TIME.match(f"<{parts[i]}>")
        timed.append((_seconds(stamp.groups(), name, f"inline time <{parts[i]}>"), parts[i + 1]))
    pieces = []
    for start, raw in timed:
        text, space = clean_piece(raw)
        if text:
            pieces.append((start, text, space or not pieces))  # a line's first word follows the line before
    return _timed(pieces, cue_end)


def parse_caption(data: bytes, fmt: str, name: str = "caption file") -> Captions:
    """Dispatch on the format yt-dlp names the file with: json3 or vtt."""
    if fmt == "json3":
        return parse_json3(data, name)
    if fmt == "vtt":
        return parse_vtt(data, name)
    raise CaptionError(f"{name}: {fmt!r} is not a caption format this archive reads (json3, vtt)")


__all__ = [
    "FORMATS",
    "MAX_CAPTION_BYTES",
    "TRACK_KEY",
    "Captions",
    "TranscriptSegment",
    "Word",
    "clean_piece",
    "content_hash",
    "is_cjk",
    "parse_caption",
    "parse_json3",
    "parse_vtt",
    "segment",
    "watch_url_at",
]
