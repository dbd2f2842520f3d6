"""The sync's caps, in one place (the README's "Reliability: limits" table).

Every byte from a page, the API or yt-dlp is hostile: each read is bounded in
size, and each network request and the sync as a whole in time (the deadlines
themselves are `sync.core.deadlines`).
"""
from __future__ import annotations

MAX_PAGE_BYTES = 5 * 1024 * 1024  # one webinar or talks page; the real ones are ~30 KB
MAX_CAPTION_BYTES = 8 * 1024 * 1024  # one caption file; a 3-hour talk's json3 is ~2 MB
DEFAULT_REQUEST_TIMEOUT = 30.0  # s, one page or API request, start to last byte (--timeout)
DEFAULT_SYNC_DEADLINE = 3600.0  # s, a whole sync (--deadline)
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # one API answer; a real 50-video page is ~100 KB
MAX_PLAYLIST_PAGES = 100  # a playlist holds at most 5,000 videos: 100 pages of 50
MAX_ETAG_CHARS = 200  # an etag sent back as If-None-Match; YouTube's are ~27 characters
MAX_TITLE_CHARS = 1_000  # YouTube allows 100
MAX_DESCRIPTION_CHARS = 20_000  # YouTube allows 5,000 bytes
MAX_FIELD_CHARS = 2_000  # any other text field (channel, URLs, dates, ids)
MAX_YTDLP_VIDEOS = 200  # yt-dlp extractions per sync; the rest wait for the next sync
YTDLP_ROTATION = 50  # known videos yt-dlp re-checks per keyless sync beyond the reports' own
# A playlist that answers 304 is not described again whole: the API path refreshes the
# videos the reports depend on, plus those last described this many days ago or more ...
REFRESH_DAYS = 7
REFRESH_CAP = 1_000  # ... at most this many of them a sync (20 videos.list units), oldest first
YTDLP_PACE_SECONDS = 1.0  # between yt-dlp's HTTP requests (its sleep_interval_requests)
MASS_DISAPPEARANCE_MIN = 5  # this many watchable videos vanishing at once is suspicious ...
MASS_DISAPPEARANCE_RATIO = 0.5  # ... when they are at least this share of the watchable ones
# Transcript segments, whatever the captions' punctuation or cue lengths: the site's FTS5
# highlight()/snippet() cost grows with a segment's matches, so no segment is longer than
# this (one uploaded cue of 7.9 MB was a single segment, and held the site for minutes) ...
MAX_SEGMENT_CHARS = 500
MAX_SEGMENT_SECONDS = 15.0  # ... nor spans more than this
MAX_CAPTION_SECONDS = 48 * 3600  # a caption time past this is refused (YouTube's longest videos are 12 h)
