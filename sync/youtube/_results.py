"""What a YouTube read returns, shared by the API, replay and yt-dlp paths."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from sync.core.records import Playlist, PlaylistItem, PlaylistPage, VideoRecord


@dataclass
class Quota:
    """What a sync spent: HTTP requests made and API units charged.

    Every attempt counts, failed, retried and 304 ones included: Google charges
    them all.
    """

    requests: int = 0
    units: int = 0

    def spend(self, units: int = 1) -> None:
        self.requests += 1
        self.units += units


@dataclass
class PlaylistFetch:
    """One playlist as `fetch_playlist_items` read it."""

    playlist: Playlist
    items: list[PlaylistItem] = field(default_factory=list)
    # private/deleted entries, known from the playlist alone (videos.list omits them)
    unavailable: dict[str, VideoRecord] = field(default_factory=dict)
    # every page, in order: those that answered 304 are the stored ones (fresh=False)
    pages: list[PlaylistPage] = field(default_factory=list)


@dataclass
class YouTubeResult:
    """Everything one sync learnt from YouTube.

    `items` holds every item of every playlist read (a page that answered 304 gives its
    stored items). `videos` holds what YouTube said of the videos it was asked about
    (every video of a changed page, the page-linked ones, those the caller's `refresh`
    names) and the stub of every private or deleted playlist entry; the other videos of
    unchanged pages keep what the caller stored. `pages` holds each playlist's pages
    (the API path only), for the next sync's conditional requests.
    """

    playlists: list[Playlist] = field(default_factory=list)
    items: list[PlaylistItem] = field(default_factory=list)
    videos: dict[str, VideoRecord] = field(default_factory=dict)
    pages: dict[str, list[PlaylistPage]] = field(default_factory=dict)
    requests: int = 0
    units: int = 0
    warnings: list[str] = field(default_factory=list)
    source: str = "api"  # "api" or "yt-dlp"



def unique(ids: Iterable[str]) -> list[str]:
    """`ids` without blanks and repeats, in first-seen order."""
    return list(dict.fromkeys(i for i in ids if i))


def int_or_none(value: object) -> Optional[int]:
    """An integer SQLite can store, or None (for 1e999, "9" * 5000, True, "12a" ...)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**63) <= number < 2**63 else None


