"""Caption files -> timed words -> sentence-sized transcript segments. Pure: no I/O, no clock.

Reads the two formats yt-dlp fetches, json3 (YouTube's timed-text JSON) and WebVTT,
as uploaded captions (a cue is a line of text) and as automatic ones (speech
recognition, timed word by word). Automatic captions "roll": every VTT cue repeats
the line before, and 10 ms cues only repeat text; json3 holds each word once
but adds window-definition and newline (`aAppend`) events. The parsers keep each
word once, with its own time, and `segment()` groups them into segments.

Caption files are hostile input: size-bounded (MAX_CAPTION_BYTES), parsed in one
pass with regular expressions that cannot backtrack, tags stripped, entities
decoded (whatever shows the text escapes it).
"""
from __future__ import annotations

import hashlib
import html
import json
import math
import re
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Iterable, Optional

from sync.core.errors import CaptionError
from sync.core.limits import MAX_CAPTION_BYTES
from sync.core.video_ids import is_video_id, watch_url_at

FORMATS = ("json3", "vtt")

# Segments: close at a sentence end once the segment spans SENTENCE_SECONDS, at a
# pause over PAUSE_SECONDS, and never let one span more than MAX_SECONDS.
SENTENCE_SECONDS = 8.0
PAUSE_SECONDS = 1.5
MAX_SECONDS = 25.0
# Automatic captions time a word's start only; a word is taken to last until the
# next one starts, at most this long (so a silence after it shows as a pause).
MAX_WORD_SECONDS = 1.0
MIN_CUE_SECONDS = 0.05  # rolling VTT: shorter cues only repeat the previous text

_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_TAG = re.compile(r"<[^<>]*>")
_INLINE_TIME = re.compile(r"<((?:\d+:)?\d{1,2}:\d{2}\.\d{3})>")
_CUE_TIMING = re.compile(r"^\s*((?:\d+:)?\d{1,2}:\d{2}\.\d{3})\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}\.\d{3})")


@dataclass(frozen=True)
class Word:
    """A timed piece of text: one spoken word (automatic) or one cue's text (uploaded)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Captions:
    kind: str  # "uploaded" | "automatic"
    words: list[Word]


@dataclass(frozen=True)
class TranscriptSegment:
    video_id: str
    start_seconds: float
    end_seconds: float
    text: str
    url: str


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def _check_size(data: bytes, name: str) -> None:
    if len(data) > MAX_CAPTION_BYTES:
        raise CaptionError(f"{name}: {len(data)} bytes is larger than a caption file can be ({MAX_CAPTION_BYTES})")


# --------------------------------------------------------------------------- json3


def parse_json3(data: bytes, name: str = "json3") -> Captions:
    """YouTube's json3: `events[]` of `{tStartMs, dDurationMs, segs: [{utf8, tOffsetMs}]}`.

    Skipped: events without `segs` (the first one defines the window), `aAppend`
    events (they only append a newline) and whitespace. A word's time is
    tStartMs + tOffsetMs. With no offsets anywhere the file is uploaded captions:
    each event is then one cue, kept whole.
    """
    _check_size(data, name)
    try:
        doc = json.loads(data.decode("utf-8", errors="strict").lstrip("\ufeff"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CaptionError(f"{name}: not a json3 caption file ({type(exc).__name__})") from None
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        raise CaptionError(f"{name}: not a json3 caption file (no events list)")
    cues: list[tuple[float, float, list[tuple[float, str]]]] = []
    automatic = False
    for event in events:
        if not isinstance(event, dict) or event.get("aAppend") or not isinstance(event.get("segs"), list):
            continue
        start_ms, duration_ms = event.get("tStartMs"), event.get("dDurationMs", 0)
        if not _is_number(start_ms) or not _is_number(duration_ms):
            continue
        pieces = []
        for seg in event["segs"]:
            if not isinstance(seg, dict) or not isinstance(seg.get("utf8"), str):
                continue
            offset = seg.get("tOffsetMs", 0)
            if "tOffsetMs" in seg or "acAsrConf" in seg:
                automatic = True
            text = _clean(seg["utf8"])
            if text and _is_number(offset):
                pieces.append(((start_ms + offset) / 1000, text))
        if pieces:
            cues.append((start_ms / 1000, (start_ms + max(0, duration_ms)) / 1000, pieces))
    if automatic:
        words = []
        for _, cue_end, pieces in cues:
            for i, (start, text) in enumerate(pieces):
                bound = pieces[i + 1][0] if i + 1 < len(pieces) else cue_end
                words.append(Word(start, min(max(bound, start), start + MAX_WORD_SECONDS), text))
        return Captions("automatic", _in_order(words))
    words = [Word(start, max(end, start), " ".join(t for _, t in pieces)) for start, end, pieces in cues]
    return Captions("uploaded", _in_order(words))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


# --------------------------------------------------------------------------- WebVTT


def _seconds(stamp: str) -> float:
    parts = stamp.split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    return hours * 3600 + minutes * 60 + seconds


def _vtt_cues(text: str, name: str) -> list[tuple[float, float, list[str]]]:
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not lines[0].startswith("WEBVTT"):
        raise CaptionError(f"{name}: not a WebVTT caption file (no WEBVTT header)")
    cues = []
    current: Optional[tuple[float, float, list[str]]] = None
    for line in lines[1:]:
        if line == "":  # a cue ends at an empty line (a line holding a space does not end it)
            current = None
            continue
        if current is None:
            timing = _CUE_TIMING.match(line)
            if timing:
                current = (_seconds(timing.group(1)), _seconds(timing.group(2)), [])
                cues.append(current)
            continue  # cue identifiers, NOTE, STYLE and REGION blocks
        current[2].append(line)
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
            text = _clean(" ".join(lines))
            if text:
                words.append(Word(start, max(end, start), text))
        return Captions("uploaded", _in_order(words))
    words = []
    carried = ""  # the text of the line read last: a later cue repeats it
    for start, end, lines in cues:
        if end - start < MIN_CUE_SECONDS:
            continue
        timed = [line for line in lines if _INLINE_TIME.search(line)]
        if timed:
            for line in timed:
                words += _timed_words(line, start, end)
                carried = _clean(line)
            continue
        # A cue with no timed line: read only lines that are not the carried-over one
        # (a one-word line has no inline time).
        for line in lines:
            cleaned = _clean(line)
            if cleaned and cleaned != carried:
                words.append(Word(start, end, cleaned))
                carried = cleaned
    return Captions("automatic", _in_order(_bounded(words)))


def _timed_words(line: str, cue_start: float, cue_end: float) -> list[Word]:
    # split() with one group alternates text, time, text, time, ...: the first text
    # is said at the cue's start, each later one at the time before it.
    parts = _INLINE_TIME.split(line)
    timed = [(cue_start, parts[0])] + [(_seconds(parts[i]), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]
    pieces = [(start, _clean(text)) for start, text in timed]
    pieces = [(start, text) for start, text in pieces if text]
    words = []
    for i, (start, text) in enumerate(pieces):
        bound = pieces[i + 1][0] if i + 1 < len(pieces) else cue_end
        words.append(Word(start, min(max(bound, start), start + MAX_WORD_SECONDS), text))
    return words


def _bounded(words: list[Word]) -> list[Word]:
    return [Word(w.start, min(w.end, w.start + MAX_WORD_SECONDS), w.text) for w in words]


def _in_order(words: list[Word]) -> list[Word]:
    """Sorted by start, the same word at the same time kept once, each word ending by the next one's start."""
    words = sorted(words, key=lambda w: w.start)
    kept: list[Word] = []
    for word in words:
        if kept and kept[-1].start == word.start and kept[-1].text == word.text:
            continue
        kept.append(word)
    return [
        Word(w.start, min(w.end, kept[i + 1].start) if i + 1 < len(kept) else w.end, w.text)
        for i, w in enumerate(kept)
    ]


def parse_caption(data: bytes, fmt: str, name: str = "caption file") -> Captions:
    """Dispatch on the format yt-dlp names the file with: json3 or vtt."""
    if fmt == "json3":
        return parse_json3(data, name)
    if fmt == "vtt":
        return parse_vtt(data, name)
    raise CaptionError(f"{name}: {fmt!r} is not a caption format this archive reads (json3, vtt)")


# --------------------------------------------------------------------------- segments


def segment(words: Iterable[Word], video_id: str) -> list[TranscriptSegment]:
    """Group words into segments: at a sentence end once 8 s long, at a pause over 1.5 s, at 25 s."""
    if not is_video_id(video_id):
        raise CaptionError(f"{video_id!r} is not a YouTube video id")
    segments: list[TranscriptSegment] = []
    current: list[Word] = []

    def close() -> None:
        if current:
            start, end = current[0].start, max(w.end for w in current)
            text = " ".join(w.text for w in current)
            segments.append(TranscriptSegment(video_id, round(start, 3), round(end, 3), text, watch_url_at(video_id, start)))
            current.clear()

    for word in words:
        if current and (word.start - current[-1].end > PAUSE_SECONDS or word.end - current[0].start > MAX_SECONDS):
            close()
        current.append(word)
        if _SENTENCE_END.search(word.text) and word.end - current[0].start >= SENTENCE_SECONDS:
            close()
    close()
    return segments


_JSON = json.JSONEncoder(ensure_ascii=False)


def _json_line(s: TranscriptSegment) -> str:
    """json.dumps([start, end, text], ensure_ascii=False), written out for plain floats and text.

    json.dumps builds an encoder per call: it was a third of a bulk load's CPU.
    """
    start, end, text = s.start_seconds, s.end_seconds, s.text
    if type(start) is float and type(end) is float and type(text) is str and math.isfinite(start + end):
        return f"[{start!r}, {end!r}, {encode_basestring(text)}]"
    return _JSON.encode([start, end, text])


def content_hash(segments: Iterable[TranscriptSegment]) -> str:
    """A digest of what would be stored: the same words at the same times give the same hash.

    One JSON line per segment, [start, end, text]: hashes stored before stay valid.
    """
    lines = "".join([_json_line(s) + "\n" for s in segments])
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


__all__ = [
    "FORMATS",
    "MAX_CAPTION_BYTES",
    "Captions",
    "TranscriptSegment",
    "Word",
    "content_hash",
    "parse_caption",
    "parse_json3",
    "parse_vtt",
    "segment",
    "watch_url_at",
]
