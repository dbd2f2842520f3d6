"""YouTube video ids and the links built from them: the one home of both.

An id is exactly 11 characters of YouTube's URL-safe alphabet. Every id read from a
page, the API, yt-dlp, a caption file's name or an organizer's command is checked
against `VIDEO_ID`, and only a checked id becomes a watch link, a player or a
thumbnail (the site's script checks the same pattern again in the browser).

    VIDEO_ID                      the pattern (use .fullmatch)
    is_video_id(value)            a str that is exactly an id
    video_id_from_url(url)        the id a YouTube link points to, in any form the pages used
    canonical_video_id(value)     a bare id or a plain watch / youtu.be link -> the id (what the site shows)
    watch_url(id, seconds=None)   https://www.youtube.com/watch?v=ID[&t=Ns], or None for a bad id
    watch_url_at(id, start)       the link one second before `start` (transcript hits)
"""
from __future__ import annotations

import math
import re
from typing import Optional
from urllib.parse import parse_qs, parse_qsl, urlsplit

from .text import ZERO_WIDTH

VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")

_YOUTUBE_HOSTS = {
    "youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
    "youtube-nocookie.com", "www.youtube-nocookie.com",
}
_SHORT_HOSTS = {"youtu.be", "www.youtu.be"}
_ID_PATH_PREFIXES = {"embed", "live", "shorts", "v", "e"}
_WATCH_HOSTS = {"www.youtube.com", "youtube.com", "m.youtube.com", "youtu.be"}


def is_video_id(value: object) -> bool:
    return isinstance(value, str) and VIDEO_ID.fullmatch(value) is not None


def video_id_from_url(url: str) -> Optional[str]:
    """The 11-character YouTube video id a URL points to, or None (not YouTube, a playlist).

    youtu.be/ID?si=.., youtube.com/watch?v=ID&list=.., watch?feature=x&v=ID, /embed/ID,
    /live/ID, /shorts/ID, on www., m., music. and youtube-nocookie.com hosts.
    """
    url = " ".join((url or "").translate(ZERO_WIDTH).split())
    if not url:
        return None
    if "://" not in url:
        url = "https://" + url.lstrip("/")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    segments = [s for s in parts.path.split("/") if s]
    candidate = None
    if host in _SHORT_HOSTS:
        candidate = segments[0] if segments else None
    elif host in _YOUTUBE_HOSTS:
        if segments == ["watch"]:
            candidate = parse_qs(parts.query).get("v", [None])[0]
        elif len(segments) >= 2 and segments[0] in _ID_PATH_PREFIXES:
            candidate = segments[1]
    # "videoseries" (/embed/videoseries?list=..) is 11 letters but a playlist, not a video.
    if candidate and candidate != "videoseries" and is_video_id(candidate):
        return candidate
    return None


def canonical_video_id(value: object) -> Optional[str]:
    """The 11-character id in a bare id or an http(s) YouTube watch/short URL, or None.

    Stricter than `video_id_from_url`: what the site shows comes from stored columns
    that hold ids and the watch links the sync itself wrote."""
    if not isinstance(value, str) or len(value) > 300:
        return None
    if is_video_id(value):
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.hostname not in _WATCH_HOSTS:
        return None
    if parts.hostname == "youtu.be":
        candidate = parts.path.lstrip("/")
    elif parts.path == "/watch":
        candidate = dict(parse_qsl(parts.query)).get("v", "")
    else:
        return None
    return candidate if is_video_id(candidate) else None


def watch_url(video_id: Optional[str], seconds: Optional[float] = None) -> Optional[str]:
    """The video's watch link (at `seconds`, whole seconds), or None for anything not an id."""
    if not is_video_id(video_id):
        return None
    url = f"https://www.youtube.com/watch?v={video_id}"
    if seconds:
        url += f"&t={int(seconds)}s"
    return url


def watch_url_at(video_id: str, start_seconds: float) -> str:
    """The watch URL one second before `start_seconds`, so the sentence is heard from its start."""
    return f"https://www.youtube.com/watch?v={video_id}&t={max(0, math.floor(start_seconds) - 1)}s"
