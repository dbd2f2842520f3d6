"""Fetching captions with yt-dlp: the track list of one video at a time, then one track.

No video is downloaded. For each video, `choose_track` takes uploaded English
captions first, else the original-language automatic track (`<lang>-orig`, never
a machine translation: their URLs carry `tlang=`), json3 before vtt; the track URL
is then read through yt-dlp itself (`ydl.urlopen`), so its cookies, proxy and
browser impersonation apply. `fetch_captions` yields one `CaptionFetch` per video
and stops after the first bot wall or HTTP 429: later requests would only
prolong the block. An empty 200 body means the track needs a PO token.

See ../shared/docs/transcripts-notes.md for what is known about YouTube's behaviour.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional

from .captions import MAX_CAPTION_BYTES, TRACK_KEY
from sync.core.redact import redact
from sync.core.video_ids import watch_url
from sync.youtube import YtdlpLog, classify_ytdlp_message

log = logging.getLogger("talks.transcripts")

PAUSE_SECONDS = (4.0, 10.0)  # randomised pause between two videos
_pause = time.sleep  # what fetch_captions sleeps with unless given `sleep` (tests record instead)
TRACK_TIMEOUT = 30.0
ENGLISH = "en"


@dataclass(frozen=True)
class Track:
    kind: str  # uploaded | automatic
    key: str  # yt-dlp's language key: en, en-GB, de-orig
    language: str  # en, en-GB, de
    fmt: str  # json3 | vtt
    url: str
    impersonate: bool = False


@dataclass
class CaptionFetch:
    """What one video's caption check found."""

    video_id: str
    state: str  # uploaded | automatic | none | blocked | needs_token | unavailable
    track: Optional[Track] = None
    data: Optional[bytes] = None  # the caption file, when one was read
    error: Optional[str] = None
    stop: bool = False  # the run's caption work ends here (bot wall, rate limit)


def _format(formats: object) -> Optional[tuple[str, str, bool]]:
    """(ext, url, impersonate) of the json3 entry, else the vtt one."""
    if not isinstance(formats, list):
        return None
    by_ext = {}
    for entry in formats:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str) and entry.get("ext") in ("json3", "vtt"):
            by_ext.setdefault(entry["ext"], entry)
    for ext in ("json3", "vtt"):
        if ext in by_ext:
            return ext, by_ext[ext]["url"], bool(by_ext[ext].get("impersonate"))
    return None


def _is_key(key: object) -> bool:
    return isinstance(key, str) and TRACK_KEY.fullmatch(key) is not None


def _is_english(key: str) -> bool:
    return key == ENGLISH or key.startswith(ENGLISH + "-")


def choose_track(info: dict) -> Optional[Track]:
    """Uploaded English, else the original automatic track, else another uploaded language."""
    uploaded = info.get("subtitles") if isinstance(info.get("subtitles"), dict) else {}
    automatic = info.get("automatic_captions") if isinstance(info.get("automatic_captions"), dict) else {}
    uploaded = {k: v for k, v in uploaded.items() if _is_key(k) and k != "live_chat"}
    automatic = {k: v for k, v in automatic.items() if _is_key(k)}
    candidates: list[tuple[str, str, str]] = []  # (kind, key, language)
    candidates += [("uploaded", k, k) for k in sorted(uploaded, key=lambda k: k != ENGLISH) if _is_english(k)]
    candidates += [("automatic", k, k[: -len("-orig")]) for k in automatic if isinstance(k, str) and k.endswith("-orig")]
    candidates += [("uploaded", k, k) for k in sorted(uploaded) if not _is_english(k)]
    for kind, key, language in candidates:
        found = _format((uploaded if kind == "uploaded" else automatic).get(key))
        if found and "tlang=" not in found[1]:
            ext, url, impersonate = found
            return Track(kind, key, language, ext, url, impersonate)
    # No "-orig" label (yt-dlp adds it only when translations exist): an automatic
    # track whose URL asks for no translation is the original one.
    for key, formats in automatic.items():
        found = _format(formats)
        if isinstance(key, str) and found and "tlang=" not in found[1]:
            return Track("automatic", key, key, found[0], found[1], found[2])
    return None


def caption_params(messages: YtdlpLog) -> dict:
    return {
        "quiet": True,
        "no_warnings": False,
        "skip_download": True,
        # Without it, "Requested format is not available" aborts extract_info.
        "ignore_no_formats_error": True,
        "noplaylist": True,
        "logger": messages,
        "cachedir": False,
        "socket_timeout": TRACK_TIMEOUT,
        "extractor_args": {"youtube": {"skip": ["translated_subs"]}},
    }


def _default_factory(params: dict):
    import yt_dlp  # imported late: only fetching needs it

    return yt_dlp.YoutubeDL(params)


def ytdlp_version() -> Optional[str]:
    try:
        from yt_dlp.version import __version__
    except ImportError:  # pragma: no cover
        return None
    return __version__


def _read_track(ydl, track: Track) -> bytes:
    from yt_dlp.networking import Request
    from yt_dlp.networking.exceptions import RequestError

    extensions: dict[str, Any] = {"timeout": TRACK_TIMEOUT}
    if track.impersonate:
        from yt_dlp.networking.impersonate import ImpersonateTarget

        extensions["impersonate"] = ImpersonateTarget()
    try:
        response = ydl.urlopen(Request(track.url, extensions=extensions))
    except RequestError as error:
        if "impersonat" not in str(error).lower() or "impersonate" not in extensions:
            raise
        # No impersonation handler (curl_cffi missing): try plainly, YouTube may still answer.
        del extensions["impersonate"]
        response = ydl.urlopen(Request(track.url, extensions=extensions))
    try:
        return response.read(MAX_CAPTION_BYTES + 1)
    finally:
        response.close()


def _fetch_one(ydl, messages: YtdlpLog, video_id: str) -> CaptionFetch:
    from yt_dlp.networking.exceptions import HTTPError, RequestError
    from yt_dlp.utils import DownloadError, ExtractorError

    messages.take()
    try:
        info = ydl.extract_info(watch_url(video_id), download=False)
        said = messages.take()
    except (DownloadError, ExtractorError) as error:
        info, said = None, [str(error), *messages.take()]
    for message in said:
        kind = classify_ytdlp_message(message)
        text = redact(message.strip())[:500]
        if kind == "bot_wall":
            return CaptionFetch(video_id, "blocked", error=f"bot wall: {text}", stop=True)
        if kind == "rate_limited":
            return CaptionFetch(video_id, "blocked", error=f"rate limited: {text}", stop=True)
        if kind in ("private", "unavailable"):
            return CaptionFetch(video_id, "unavailable", error=text)
    if not isinstance(info, dict):
        return CaptionFetch(video_id, "unavailable", error=redact("yt-dlp gave no result: " + " ".join(said))[:500])
    track = choose_track(info)
    if track is None:
        if any("po token" in m.lower() for m in said):
            return CaptionFetch(video_id, "needs_token", error="the tracks need a PO token (yt-dlp skipped them)")
        return CaptionFetch(video_id, "none")
    try:
        data = _read_track(ydl, track)
    except HTTPError as error:
        status = error.status
        if status == 429:
            return CaptionFetch(video_id, "blocked", track=track, error="rate limited: HTTP 429 on the caption URL", stop=True)
        return CaptionFetch(video_id, "blocked", track=track, error=f"HTTP {status} on the caption URL")
    except RequestError as error:
        return CaptionFetch(video_id, "blocked", track=track, error=redact(f"caption URL failed: {error}")[:500])
    if not data:
        # An empty 200: the track needs a proof-of-origin token (URL with exp=xpe).
        return CaptionFetch(video_id, "needs_token", track=track, error="empty caption body: the track needs a PO token")
    return CaptionFetch(video_id, track.kind, track=track, data=data)


def fetch_captions(
    video_ids: Iterable[str],
    *,
    ydl_factory: Optional[Callable[[dict], Any]] = None,
    sleep: Optional[Callable[[float], None]] = None,
    rng: Optional[random.Random] = None,
) -> Iterator[CaptionFetch]:
    """One `CaptionFetch` per video, in order, pausing between videos; ends after a stop."""
    messages = YtdlpLog()
    sleep = sleep or _pause
    rng = rng or random.Random()
    with (ydl_factory or _default_factory)(caption_params(messages)) as ydl:
        for n, video_id in enumerate(video_ids):
            if n:
                sleep(rng.uniform(*PAUSE_SECONDS))
            result = _fetch_one(ydl, messages, video_id)
            yield result
            if result.stop:
                return


__all__ = ["CaptionFetch", "PAUSE_SECONDS", "Track", "caption_params", "choose_track", "fetch_captions", "ytdlp_version"]
