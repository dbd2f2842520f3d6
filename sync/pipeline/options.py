"""What a sync is asked to do (`SyncOptions`) and what it reports back (`SyncReport`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from sync.core.limits import DEFAULT_SYNC_DEADLINE
from sync.pages.sources import DEFAULT_TALKS_PAGE, DEFAULT_WEBINAR_PAGE


@dataclass
class SyncOptions:
    db_path: str
    webinar_page: str = DEFAULT_WEBINAR_PAGE
    talks_page: Optional[str] = DEFAULT_TALKS_PAGE
    today: Optional[dt.date] = None  # default: the snapshot's date with --snapshot, else today
    source: str = "auto"  # auto | api | ytdlp | none
    playlists: tuple[str, ...] = ()  # replaces the playlists the webinar page links
    snapshot: bool = False
    allow_shrink: bool = False
    api_key: Optional[str] = None
    api_endpoint: Optional[str] = None
    timeout: float = 30.0  # one page or API request, start to last byte
    deadline: float = DEFAULT_SYNC_DEADLINE  # the whole sync
    # Pages already in hand, as bytes (webinar, talks or None): `talks backfill` reads
    # them from git; webinar_page/talks_page then only name them.
    page_bytes: Optional[tuple[bytes, Optional[bytes]]] = None
    kind: str = "sync"  # sync_runs.kind: `talks backfill` replays commits as kind 'backfill'
    run_fields: dict = field(default_factory=dict)  # more sync_runs columns (commit_id, commit_date)
    now: Optional[str] = None  # the time stamped into removed_at; default the real now (backfill: the commit's)
    lock_held: bool = False  # the caller holds <db>.lock already (talks backfill, for its whole replay)
    stream: bool = True  # API path: save videos while pages are read (sync.save.stream); False: after


@dataclass
class SyncReport:
    run_id: int
    talks_seen: int = 0
    videos_seen: int = 0
    rows_changed: int = 0
    requests: int = 0
    quota_units: int = 0
    source: str = "none"
    warnings: list[str] = field(default_factory=list)


def effective_source(options: SyncOptions) -> str:
    if options.snapshot:
        return "snapshot"
    if options.source == "auto":
        return "api" if options.api_key else "ytdlp"
    return options.source
