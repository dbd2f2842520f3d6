"""The keyless path: yt-dlp lists the playlists flat, then extracts each video wanted."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional

from sync.core.errors import BotWall, DeadlineExceeded, FetchError, PlaylistNotFound, ResponseError, TalksError
from sync.core.deadlines import Deadline, DeadlineReached, time_limit
from sync.core.limits import DEFAULT_REQUEST_TIMEOUT, MAX_YTDLP_VIDEOS, YTDLP_PACE_SECONDS
from sync.core.records import Playlist, PlaylistItem, VideoRecord
from sync.core.redact import redact
from sync.core.signals import Interrupted

from ._clean import clean_result
from sync.core.video_ids import watch_url

from ._results import YouTubeResult, int_or_none, unique

MAX_UNEXPLAINED_FAILURES = 3  # in a row: YouTube or the network is down, stop asking
PRIVATE_PLACEHOLDER = "[Private video]"
DELETED_PLACEHOLDER = "[Deleted video]"


def playlist_url(playlist_id: str) -> str:
    return f"https://www.youtube.com/playlist?list={playlist_id}"


def classify_ytdlp_message(message: str) -> Optional[str]:
    """"bot_wall", "rate_limited", "private", "unavailable" or None for a yt-dlp message."""
    text = message.lower()
    if "not a bot" in text:  # "Sign in to confirm you’re not a bot" (U+2019 apostrophe)
        return "bot_wall"
    if "content isn't available, try again later" in text.replace("\u2019", "'"):
        return "rate_limited"
    if "private video" in text or "this video is private" in text:
        return "private"
    if "video unavailable" in text or "does not exist" in text:
        return "unavailable"
    return None


class YtdlpLog:
    """yt-dlp's `logger`: keeps warnings and errors so a run can read what went wrong.

    With ignore_no_formats_error, YouTube's refusal reason (bot wall, private,
    unavailable) arrives as a warning, not as a DownloadError. Playlists and videos
    (here) and captions (sync/transcripts/fetch.py) read them with `take()`.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        self.messages.append(msg)

    def error(self, msg: str) -> None:
        self.messages.append(msg)

    def take(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken


# yt-dlp makes several HTTP requests per video (page, player, ...) and per 100 playlist
# entries: each of its steps gets this many request timeouts before it is given up.
EXTRACT_TIMEOUTS = 4
LISTING_TIMEOUTS = 20


def _ytdlp_params(ytdlp_log: YtdlpLog, *, listing: bool, timeout: float = DEFAULT_REQUEST_TIMEOUT) -> dict:
    params: dict = {
        "quiet": True,
        "no_warnings": False,
        "skip_download": True,
        "logger": ytdlp_log,
        "cachedir": False,
        "socket_timeout": timeout,
        # paced like a person, not a crawler: yt-dlp sleeps this long between its requests
        "sleep_interval_requests": YTDLP_PACE_SECONDS,
    }
    if listing:
        params["extract_flat"] = "in_playlist"
    else:
        params.update({"ignore_no_formats_error": True, "noplaylist": True})
    return params


def default_ydl_factory(params: dict):
    """A real YoutubeDL; tests replace `sync.youtube.default_ydl_factory` with recorded data."""
    import yt_dlp  # imported late: only the keyless path needs it

    return yt_dlp.YoutubeDL(params)


def _package_ydl_factory() -> Callable[[dict], Any]:
    # looked up on the package at call time, so replacing the public name takes effect
    import sync.youtube

    return sync.youtube.default_ydl_factory


def _download_error_types() -> tuple[type[BaseException], ...]:
    from yt_dlp.utils import DownloadError, ExtractorError

    return (DownloadError, ExtractorError)


def _iso_upload_date(info: dict) -> Optional[str]:
    timestamp = info.get("timestamp")
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        try:
            return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):  # 1e999, year 10000: not a date
            return None
    date = info.get("upload_date")
    if isinstance(date, str) and len(date) == 8 and date.isdigit():
        return f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return None


def _has_tracks(tracks: object) -> bool:
    return isinstance(tracks, dict) and any(lang != "live_chat" and formats for lang, formats in tracks.items())


def ytdlp_video_record(info: dict) -> VideoRecord:
    """Map a full yt-dlp info dict to a VideoRecord."""
    duration = info.get("duration")
    return VideoRecord(
        video_id=info["id"],
        availability="unlisted" if info.get("availability") == "unlisted" else "public",
        title=info.get("title"),
        description=info.get("description"),
        published_at=_iso_upload_date(info),
        duration_seconds=int_or_none(duration) if isinstance(duration, (int, float)) else None,
        channel=info.get("channel") or info.get("uploader"),
        channel_id=info.get("channel_id"),
        thumbnail_url=info.get("thumbnail"),
        view_count=int_or_none(info.get("view_count")),
        has_captions=_has_tracks(info.get("subtitles")) or _has_tracks(info.get("automatic_captions")),
    )


def _flat_entry_stub(entry: dict) -> Optional[VideoRecord]:
    title = entry.get("title")
    if title == PRIVATE_PLACEHOLDER:
        return VideoRecord(video_id=entry["id"], availability="private")
    if title == DELETED_PLACEHOLDER:
        return VideoRecord(video_id=entry["id"], availability="deleted")
    return None


def _stop_on_refusal(kind: Optional[str], message: str) -> None:
    """Refusals that no later request would get past: end the whole run now."""
    if kind == "bot_wall":
        raise BotWall(
            redact(
                "YouTube asked yt-dlp to sign in to confirm it is not a bot; stopped. "
                "Set YOUTUBE_API_KEY to use the Data API, or try again later. "
                f"(yt-dlp said: {message.strip()})"
            )
        )
    if kind == "rate_limited":
        raise FetchError(
            redact(
                "YouTube rate-limited yt-dlp (\"This content isn't available, try again later\"); "
                "stopped. Try again in an hour."
            )
        )


def _first_refusal(messages: list[str]) -> tuple[Optional[str], str]:
    for message in messages:
        kind = classify_ytdlp_message(message)
        if kind:
            return kind, message
    return None, ""


def _list_playlist_ytdlp(ydl, ytdlp_log: YtdlpLog, playlist_id: str, result: YouTubeResult, timeout: float) -> list[dict]:
    """Flat entries of one playlist; records the playlist and its items in `result`."""
    result.requests += 1
    ytdlp_log.take()
    try:
        with time_limit(Deadline(timeout * LISTING_TIMEOUTS, f"yt-dlp listing playlist {playlist_id}", " (20 x --timeout)")):
            info = ydl.extract_info(playlist_url(playlist_id), download=False)
    except _download_error_types() as error:
        kind, message = classify_ytdlp_message(str(error)), str(error)
        _stop_on_refusal(kind, message)
        if kind == "unavailable":
            raise PlaylistNotFound(
                redact(
                    f"YouTube has no playlist {playlist_id}: check the id given with --playlist or linked "
                    f"from the webinar page (yt-dlp: {message.strip()})."
                )
            ) from None
        raise FetchError(redact(f"yt-dlp could not list playlist {playlist_id}: {message.strip()}")) from None
    _stop_on_refusal(*_first_refusal(ytdlp_log.take()))
    if not isinstance(info, dict):
        raise ResponseError(f"yt-dlp returned nothing for playlist {playlist_id}.")
    entries = [e for e in (info.get("entries") or []) if isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"]]
    result.playlists.append(Playlist(playlist_id=playlist_id, title=info.get("title")))
    result.items += [PlaylistItem(playlist_id=playlist_id, video_id=e["id"], position=n) for n, e in enumerate(entries)]
    return entries


def _extract_video_ytdlp(
    ydl, ytdlp_log: YtdlpLog, video_id: str, existed: bool, result: YouTubeResult, timeout: float
) -> Optional[VideoRecord]:
    """Full metadata of one video, a private/deleted/not_found record, or None (warned).

    yt-dlp tells "Private video" from "Video unavailable", which the Data API cannot: a
    video that `existed` (a playlist lists it, or YouTube described it before) and is
    now unavailable is deleted; an id never seen that is unavailable was never found."""
    result.requests += 1
    ytdlp_log.take()
    missing = "deleted" if existed else "not_found"
    try:
        with time_limit(Deadline(timeout * EXTRACT_TIMEOUTS, "yt-dlp", f" ({EXTRACT_TIMEOUTS} x --timeout)")):
            info = ydl.extract_info(watch_url(video_id), download=False)
    except _download_error_types() as error:
        kind, message = classify_ytdlp_message(str(error)), str(error)
        info = None
    except DeadlineExceeded as error:
        kind, message, info = None, str(error), None
    else:
        kind, message = _first_refusal(ytdlp_log.take())
    _stop_on_refusal(kind, message)
    if kind == "private":
        return VideoRecord(video_id=video_id, availability="private")
    if kind == "unavailable":
        return VideoRecord(video_id=video_id, availability=missing)
    if not isinstance(info, dict) or info.get("id") != video_id:
        result.warnings.append(redact(f"yt-dlp gave no metadata for video {video_id}: {message.strip() or 'no result'}"))
        return None
    return ytdlp_video_record(info)


def fetch_youtube_ytdlp(
    playlist_ids: Iterable[str],
    linked_video_ids: Iterable[str],
    *,
    known_video_ids: set[str] | frozenset[str] = frozenset(),
    recheck: Iterable[str] = (),
    ydl_factory: Callable[[dict], Any] | None = None,
    timeout: float = DEFAULT_REQUEST_TIMEOUT,
    max_videos: int = MAX_YTDLP_VIDEOS,
) -> YouTubeResult:
    """The keyless path: list playlists flat, then extract the videos wanted.

    Wanted are the playlists' videos and `linked_video_ids`: first every one not in
    `known_video_ids`, then those of `recheck` (known ones whose availability is to be
    refreshed, in that order); other known videos keep their stored metadata. A
    playlist's "[Private video]"/"[Deleted video]" entry is always reported, without
    an extraction. At most `max_videos` extractions a sync: the rest are warned about
    and wait for the next one. `requests` counts extract_info calls; `units` stays 0.
    A bot wall raises BotWall and rate limiting FetchError at the first sight.
    """
    result = YouTubeResult(source="yt-dlp")
    try:
        _fetch_ytdlp_into(
            result, playlist_ids, linked_video_ids, known_video_ids, list(recheck),
            ydl_factory or _package_ydl_factory(), timeout, max_videos,
        )
    except (TalksError, DeadlineReached, Interrupted) as error:
        error.charged(result.requests, 0)
        raise
    return clean_result(result)


def _fetch_ytdlp_into(
    result: YouTubeResult, playlist_ids, linked_video_ids, known_video_ids, recheck, factory, timeout, max_videos
) -> None:
    ytdlp_log = YtdlpLog()

    in_playlist: set[str] = set()
    with factory(_ytdlp_params(ytdlp_log, listing=True, timeout=timeout)) as ydl:
        for playlist_id in unique(playlist_ids):
            for entry in _list_playlist_ytdlp(ydl, ytdlp_log, playlist_id, result, timeout):
                in_playlist.add(entry["id"])
                stub = _flat_entry_stub(entry)
                if stub:
                    result.videos[stub.video_id] = stub

    listed_or_linked = unique([*(item.video_id for item in result.items), *linked_video_ids])
    candidates = set(listed_or_linked) - set(result.videos)
    new = [i for i in listed_or_linked if i in candidates and i not in known_video_ids]
    again = [i for i in unique(recheck) if i in candidates and i in known_video_ids]
    wanted = [*new, *again]
    if len(wanted) > max_videos:
        result.warnings.append(
            f"yt-dlp checks at most {max_videos} videos a sync: {len(wanted) - max_videos} wait for the next sync"
        )
        wanted = wanted[:max_videos]
    failures_in_a_row = 0
    with factory(_ytdlp_params(ytdlp_log, listing=False, timeout=timeout)) as ydl:
        for video_id in wanted:
            existed = video_id in in_playlist or video_id in known_video_ids
            record = _extract_video_ytdlp(ydl, ytdlp_log, video_id, existed, result, timeout)
            failures_in_a_row = 0 if record else failures_in_a_row + 1
            if failures_in_a_row >= MAX_UNEXPLAINED_FAILURES:
                raise FetchError(
                    redact(f"yt-dlp failed on {failures_in_a_row} videos in a row; stopped. Last: {result.warnings[-1]}")
                )
            if record:
                result.videos[video_id] = record
