"""The records that flow between parsing, fetching, matching and storage.

Plain dataclasses, no behaviour: parsers produce them from text, `sync.youtube`
from the network, `sync.match` consumes them, `db` stores them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Person:
    """A speaker as a page writes them: name without honorific, honorific apart."""

    name: str
    honorific: Optional[str] = None  # "Dr.", "Prof." as written
    url: Optional[str] = None  # a non-YouTube profile link, when the name links one


@dataclass
class TalkRecord:
    """One talk as the webinar page shows it.

    `status` is "listed" for a coded line of "Previous talks" and "upcoming" for
    a talk of the upcoming section (which has no code yet).
    """

    status: str
    speakers: list[Person] = field(default_factory=list)
    code: Optional[str] = None  # "S03E02"
    # the code as the line writes it ("S3E2"); not part of what the talk is
    code_text: Optional[str] = field(default=None, compare=False)
    season: Optional[int] = None
    episode: Optional[int] = None
    affiliation: Optional[str] = None
    date: Optional[str] = None  # ISO "2023-09-18", None when TBA or unparseable
    date_text: Optional[str] = None  # as written: "18th September 2023", "20 October 2025 at 9:30am CET"
    title: Optional[str] = None
    page_video_id: Optional[str] = None  # the YouTube id the line links to
    talks_page_video_id: Optional[str] = None  # the id the talks page's `Video:` link gives
    abstract: Optional[str] = None
    bio: Optional[str] = None
    topic: Optional[str] = None  # "Next webinar: <topic>" of an upcoming talk


@dataclass
class AbstractRecord:
    """One `### Name (Affiliation)` section of the talks page."""

    speakers: list[Person] = field(default_factory=list)
    affiliation: Optional[str] = None
    title: Optional[str] = None
    abstract: Optional[str] = None
    bio: Optional[str] = None
    code: Optional[str] = None  # normalised from the `Video: [S0302](...)` label: "S03E02"
    video_id: Optional[str] = None  # the YouTube id of that link


@dataclass
class WebinarPage:
    """Everything `parse_webinar_page` reads from one version of the webinar page."""

    listed: list[TalkRecord] = field(default_factory=list)
    upcoming: list[TalkRecord] = field(default_factory=list)
    playlist_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # lines read with doubt, or not at all


@dataclass
class VideoRecord:
    """What YouTube says of one video as of a sync.

    `availability` is one of "public", "unlisted", "private", "deleted", "unavailable"
    (private or deleted: the Data API cannot tell which), "not_found" (db/reports.py).
    """

    video_id: str
    availability: str
    title: Optional[str] = None
    description: Optional[str] = None
    published_at: Optional[str] = None  # ISO 8601 UTC
    duration_seconds: Optional[int] = None
    channel: Optional[str] = None
    channel_id: Optional[str] = None
    thumbnail_url: Optional[str] = None
    view_count: Optional[int] = None
    has_captions: Optional[bool] = None


@dataclass
class PlaylistItem:
    """One video's place in a playlist."""

    playlist_id: str
    video_id: str
    position: int
    added_at: Optional[str] = None  # ISO 8601, when it was added to the playlist


@dataclass
class Playlist:
    playlist_id: str
    title: Optional[str] = None
    etag: Optional[str] = None  # of the first playlistItems page


@dataclass
class PlaylistPage:
    """One playlistItems page as the Data API last answered it (`playlist_pages`): the next
    sync sends `etag` as If-None-Match, and on a 304 reuses `items` and `next_page_token`."""

    playlist_id: str
    number: int  # 1 = the first page
    etag: Optional[str]
    next_page_token: Optional[str]
    items: list[PlaylistItem] = field(default_factory=list)
    # the entries YouTube shows as a stub, by video id: "private" or "deleted"
    gone: dict[str, str] = field(default_factory=dict)
    fresh: bool = True  # answered 200 in this run (False: a 304, the stored page reused)


@dataclass
class Match:
    """The matcher's decision that `video_id` is the recording of a talk."""

    talk_key: object  # whatever key the caller gave the talk (the database uses talks.id)
    video_id: str
    method: str  # page_link, talks_page_link, episode_code, title_speaker, manual
    score: float  # 0..1
    evidence: str
