"""What a YouTube read returns, shared by the API, replay and yt-dlp paths."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from sync.core.records import Playlist, PlaylistItem, VideoRecord


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
    unchanged: bool = False  # the first page answered 304: keep the stored items


@dataclass
class YouTubeResult:
    """Everything one sync learnt from YouTube.

    `items` holds the items of changed playlists only; for a playlist in
    `unchanged_playlists` the caller keeps what it stored. `videos` covers every
    video of the playlists (unchanged ones through `known_items`) and every
    page-linked id, except the `kept_unavailable` ones.
    """

    playlists: list[Playlist] = field(default_factory=list)
    items: list[PlaylistItem] = field(default_factory=list)
    videos: dict[str, VideoRecord] = field(default_factory=dict)
    unchanged_playlists: set[str] = field(default_factory=set)
    # ids of unchanged playlists that videos.list left out: still listed, so private or
    # deleted as the caller stored them (a stored "public" one has gone: treat as not_found)
    kept_unavailable: set[str] = field(default_factory=set)
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


