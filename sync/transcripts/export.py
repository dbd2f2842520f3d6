"""Transcripts people can take away: WebVTT, SubRip (SRT) and plain text, from stored segments.

One writer for the site's downloads (/talk/CODE/transcript.vtt|srt|txt) and `talks
transcripts export DIR`. A segment is one cue, timed as stored; text is written as stored
(cleaned of control characters when it was parsed), escaped where the format needs it
(WebVTT: &, <, >; SRT has no escaping and none is needed for plain words).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

FORMATS = {"vtt": "text/vtt", "srt": "application/x-subrip", "txt": "text/plain"}


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _stamp(seconds: float, separator: str) -> str:
    millis = max(0, round(float(seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def _cues(cues: Iterable[Cue]) -> Iterator[Cue]:
    for cue in cues:
        text = " ".join(str(cue.text or "").split())
        if text:
            yield Cue(cue.start, max(cue.end, cue.start), text)


def to_vtt(cues: Iterable[Cue]) -> str:
    parts = ["WEBVTT\n"]
    for cue in _cues(cues):
        text = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts.append(f"\n{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}\n{text}\n")
    return "".join(parts)


def to_srt(cues: Iterable[Cue]) -> str:
    return "".join(f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n\n"
                   for n, c in enumerate(_cues(cues), 1))


def to_text(cues: Iterable[Cue]) -> str:
    return "".join(f"{c.text}\n" for c in _cues(cues))


WRITERS = {"vtt": to_vtt, "srt": to_srt, "txt": to_text}

# Every talk with live segments, its name for files, and its segments in order.
TALK_TRANSCRIPTS = """
select t.id, t.code, s.start_seconds, s.end_seconds, s.text
from talks t join transcript_segments s on s.video_id = t.video_id and s.removed_at is null
where t.removed_at is null
order by t.code is null, t.code, t.id, s.seq, s.start_seconds
"""


def file_stem(code: object, talk_id: int) -> str:
    """S03E01, or talk-12 for a talk without a code; only letters, digits, - and _."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(code)) if code else ""
    return name[:40] if name.strip("_") else f"talk-{int(talk_id)}"


def export_transcripts(conn, directory: Path) -> list[Path]:
    """Write <talk>.vtt, .srt and .txt for every talk with a transcript; the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    talks: dict[tuple, list[Cue]] = {}
    for talk_id, code, start, end, text in conn.execute(TALK_TRANSCRIPTS):
        talks.setdefault((talk_id, code), []).append(Cue(start, end, text))
    written = []
    for (talk_id, code), cues in talks.items():
        for ext, writer in WRITERS.items():
            path = directory / f"{file_stem(code, talk_id)}.{ext}"
            path.write_text(writer(cues), encoding="utf-8")
            written.append(path)
    return written


__all__ = ["Cue", "FORMATS", "WRITERS", "export_transcripts", "file_stem", "to_srt", "to_text", "to_vtt"]
