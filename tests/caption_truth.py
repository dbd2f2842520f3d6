"""An independent reading of YouTube caption files: every spoken word once, in order, with its time.

Written for the tests from the formats as YouTube (and yt-dlp/youtube-dl) write them, and on
purpose sharing nothing with sync/: it is what the pipeline's output is checked against.

    truth_words(path) -> [(seconds, word), ...]

- json3: events in order; an event without ``segs`` or with ``aAppend`` adds nothing; a seg
  that is only whitespace adds nothing; a seg's words are timed (tStartMs + tOffsetMs) / 1000.
  A seg may hold several words (uploaded captions: one seg per line): they share its time.
  Chinese/Japanese segs hold no spaces, so a seg is one token, kept whole.
- Automatic ("rolling") VTT, a file with inline ``<hh:mm:ss.mmm>`` word timings: each cue
  repeats the line before it and adds one new line, its last; cues shorter than 50 ms only
  redisplay. The new words are those of the last line: the first at the cue start, each after an
  inline timing at that timing. A line of one word has no inline timing at all.
- Uploaded VTT (no inline timings): every word of every cue, at the cue start.
- Any VTT: a timing line starts a cue even straight after the previous cue's text (no blank
  line between, as youtube-dl wrote them); a cue number, NOTE/STYLE/REGION blocks and header
  lines (``Kind:``, ``Style:`` ... ``##``) are not words; a BOM and CR/CRLF line ends are read
  as nothing and as a line end; tags are dropped and &amp; &lt; &gt; &nbsp; &lrm; &rlm; decoded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})"
TIMING_LINE = re.compile(r"^\s*" + _TIME + r"\s+-->\s+" + _TIME)
INLINE_TIME = re.compile(r"<" + _TIME + r">")
TAG = re.compile(r"<[^<>]*>")
ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": "\u00a0", "&lrm;": "\u200e", "&rlm;": "\u200f"}
ENTITY = re.compile("|".join(map(re.escape, ENTITIES)))
SHORTEST_CUE = 0.050  # seconds; rolling captions redisplay a finished line for ~10 ms


def truth_words(path) -> list[tuple[float, str]]:
    path = Path(path)
    raw = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    if path.suffix == ".json3":
        return json3_words(json.loads(raw))
    return vtt_words(raw)


def json3_words(doc: dict) -> list[tuple[float, str]]:
    words = []
    for event in doc.get("events", []):
        if "segs" not in event or event.get("aAppend"):
            continue
        start = event.get("tStartMs", 0)
        for seg in event["segs"]:
            at = (start + seg.get("tOffsetMs", 0)) / 1000
            words.extend((at, word) for word in seg.get("utf8", "").split())
    return words


def vtt_words(text: str) -> list[tuple[float, str]]:
    cues = vtt_cues(text)
    if any(INLINE_TIME.search(line) for _, _, lines in cues for line in lines):
        return _rolling_words(cues)
    words = []
    for start, _, lines in cues:
        words.extend((start, word) for line in lines for word in plain(line).split())
    return words


def vtt_cues(text: str) -> list[tuple[float, float, list[str]]]:
    """(start, end, text lines) of every cue, in file order."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues = []
    current = None  # the text lines of the cue being read, or None between cues
    for line in lines:
        timing = TIMING_LINE.match(line)
        if timing:
            current = []
            cues.append((_seconds(timing.groups()[:4]), _seconds(timing.groups()[4:]), current))
        elif line == "":
            current = None  # a line holding only a space is text ("rolling" cues have them)
        elif current is not None:
            current.append(line)
        # else: header, cue number, NOTE/STYLE/REGION block: not cue text
    return cues


def _rolling_words(cues) -> list[tuple[float, str]]:
    words = []
    for start, end, lines in cues:
        if end - start < SHORTEST_CUE or not lines:
            continue
        pieces = INLINE_TIME.split(lines[-1])  # text, then (h, m, s, ms, text) per inline timing
        words.extend((start, word) for word in plain(pieces[0]).split())
        for i in range(1, len(pieces), 5):
            at = _seconds(pieces[i:i + 4])
            words.extend((at, word) for word in plain(pieces[i + 4]).split())
    return words


def plain(line: str) -> str:
    return ENTITY.sub(lambda m: ENTITIES[m.group()], TAG.sub("", line))


def _seconds(parts) -> float:
    hours, minutes, seconds, millis = parts
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
