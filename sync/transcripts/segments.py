"""Timed words -> transcript segments a person can read, each keeping its words' times.

A segment is a sentence or a few seconds: it closes at a sentence end once it spans
SENTENCE_SECONDS, at a pause over PAUSE_SECONDS, at a shorter lull once it spans
LULL_AFTER_SECONDS (automatic captions have no punctuation), and before it would span
more than MAX_SEGMENT_SECONDS or hold more than MAX_SEGMENT_CHARS characters, whatever
the captions are. Its `word_times` keeps every timed piece: a flat JSON array
`[offset, ms, offset, ms, ...]`, a piece's first character in `text` and its start in
milliseconds after the segment's start (automatic captions time every word, uploaded
ones every cue). A search hit links to its first matched word from these.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Iterable, Optional, Sequence

from sync.core.errors import CaptionError
from sync.core.limits import MAX_SEGMENT_CHARS, MAX_SEGMENT_SECONDS
from sync.core.text import is_cjk
from sync.core.video_ids import is_video_id, watch_url_at

SENTENCE_SECONDS = 4.0
PAUSE_SECONDS = 1.5
LULL_SECONDS, LULL_AFTER_SECONDS = 0.5, 8.0

_SENTENCE_END = re.compile("[.!?\u2026\u3002\uff01\uff1f\uff0e][\"'\u201d\u2019)\\]\u300d\u300f\uff09]*$")


@dataclass(frozen=True)
class TranscriptSegment:
    video_id: str
    start_seconds: float
    end_seconds: float
    text: str
    url: str
    word_times: Optional[str] = None  # JSON [offset, ms, ...]; None for segments stored before it


def join_pieces(pieces: Iterable[tuple[str, bool]]) -> str:
    """Join (text, space before) pieces as they are read: a space where the captions put one,
    none between two CJK characters."""
    out = ""
    for text, space in pieces:
        if not text:
            continue
        if out and space and not (is_cjk(out[-1]) and is_cjk(text[0])):
            out += " "
        out += text
    return out


def segment(words: Iterable, video_id: str) -> list[TranscriptSegment]:
    """Group timed words (`captions.Word`) into bounded, readable segments."""
    if not is_video_id(video_id):
        raise CaptionError(f"{video_id!r} is not a YouTube video id")
    segments: list[TranscriptSegment] = []
    text = ""
    times: list[int] = []
    first = None  # the open segment's first word
    end = 0.0

    def close() -> None:
        nonlocal text, times, first
        if first is not None:
            start = round(first.start, 3)
            segments.append(TranscriptSegment(video_id, start, round(end, 3), text, watch_url_at(video_id, start),
                                              "[" + ",".join(map(str, times)) + "]"))
        text, times, first = "", [], None

    for word in words:
        if first is not None and (
            word.start - end > PAUSE_SECONDS
            or max(end, word.end) - first.start > MAX_SEGMENT_SECONDS
            or len(text) + 1 + len(word.text) > MAX_SEGMENT_CHARS
            or (word.start - end > LULL_SECONDS and end - first.start >= LULL_AFTER_SECONDS)
        ):
            close()
        if first is None:
            first, end = word, word.end
        else:
            if word.space and not (is_cjk(text[-1]) and is_cjk(word.text[0])):
                text += " "
            end = max(end, word.end)
        times += [len(text), round((word.start - first.start) * 1000)]
        text += word.text
        if _SENTENCE_END.search(word.text) and end - first.start >= SENTENCE_SECONDS:
            close()
    close()
    return segments


def word_times(segment: TranscriptSegment) -> list[tuple[float, str]]:
    """The segment's timed pieces as (seconds, text), read back from `word_times`."""
    if not segment.word_times:
        return [(segment.start_seconds, segment.text)]
    flat = json.loads(segment.word_times)
    offsets = flat[0::2] + [len(segment.text)]
    return [(round(segment.start_seconds + flat[2 * i + 1] / 1000, 3), segment.text[offsets[i]:offsets[i + 1]].strip())
            for i in range(len(flat) // 2)]


_JSON = json.JSONEncoder(ensure_ascii=False)


def _json_line(s: TranscriptSegment) -> str:
    """json.dumps([start, end, text, word_times], ensure_ascii=False), written out for plain floats and text.

    json.dumps builds an encoder per call: it was a third of a bulk load's CPU.
    """
    start, end, text, times = s.start_seconds, s.end_seconds, s.text, s.word_times
    if type(start) is float and type(end) is float and type(text) is str and math.isfinite(start + end):
        if times is None:
            return f"[{start!r}, {end!r}, {encode_basestring(text)}]"
        return f"[{start!r}, {end!r}, {encode_basestring(text)}, {times}]"
    return _JSON.encode([start, end, text] + ([] if times is None else [json.loads(times)]))


def content_hash(segments: Sequence[TranscriptSegment]) -> str:
    """A digest of what would be stored: the same words at the same times give the same hash.

    One JSON line per segment, [start, end, text, word times] (segments without word
    times hash as before, [start, end, text])."""
    lines = "".join([_json_line(s) + "\n" for s in segments])
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


__all__ = ["TranscriptSegment", "content_hash", "join_pieces", "segment", "watch_url_at", "word_times"]
