"""Caption files fetched elsewhere (`talks transcripts import`): which file is which video's,
and the best readable one of each video's files."""
from __future__ import annotations

import re
from pathlib import Path

from sync.core.errors import CaptionError
from sync.core.limits import MAX_CAPTION_BYTES
from sync.core.video_ids import VIDEO_ID

from .captions import TRACK_KEY, parse_caption, segment

# yt-dlp's names; the extension in any case (a file copied from Windows may end .VTT).
CAPTION_FILE = re.compile(rf"(?P<video_id>{VIDEO_ID.pattern})\.(?P<lang>{TRACK_KEY.pattern})\.(?P<fmt>(?i:json3|vtt))")


def caption_files(directory: Path, errors: list[str]) -> dict[str, list[tuple[Path, str, str]]]:
    """`<video_id>.<lang>.json3|vtt` files by video; a misnamed one is an error line."""
    found: dict[str, list[tuple[Path, str, str]]] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in (".json3", ".vtt") or not path.is_file():
            continue
        match = CAPTION_FILE.fullmatch(path.name)
        if not match:
            errors.append(f"{path}: not named <video_id>.<lang>.json3 or <video_id>.<lang>.vtt")
            continue
        found.setdefault(match["video_id"], []).append((path, match["lang"], match["fmt"].lower()))
    return found


def best_caption_file(video_id: str, files: list[tuple[Path, str, str]], errors: list[str]):
    """Parse one video's files; the best readable one as (lang, fmt, kind, segments), or None.

    Uploaded English first, then the original automatic track, then anything; json3
    before vtt. A bad file is one error line and nothing else. Files are read one
    video at a time, so a large directory never sits in memory whole.
    """
    best = None
    for path, lang, fmt in files:
        try:
            if path.stat().st_size > MAX_CAPTION_BYTES:
                raise CaptionError(f"larger than a caption file can be ({MAX_CAPTION_BYTES} bytes)")
            captions = parse_caption(path.read_bytes(), fmt, str(path))
            segments = segment(captions.words, video_id)
        except CaptionError as exc:
            message = str(exc)
            errors.append(message if message.startswith(str(path)) else f"{path}: {message}")
            continue
        except OSError as exc:
            errors.append(f"{path}: cannot be read ({exc.strerror or exc})")
            continue
        if not segments:
            errors.append(f"{path}: holds no caption text")
            continue
        rank = (captions.kind != "uploaded" or not (lang == "en" or lang.startswith("en-")),
                not lang.endswith("-orig"), fmt != "json3")
        if best is None or rank < best[0]:
            best = (rank, lang, fmt, captions.kind, segments)
    return best[1:] if best else None
