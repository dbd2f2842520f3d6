"""Every cap, in one place (docs/design.md, "Reliability: limits"): the sync's, the
caption import's, the backfill's and the site's.

Every byte from a page, the API, yt-dlp, a caption file or a repository is hostile:
each read is bounded in size, and each network request and the sync as a whole in
time (the deadlines themselves are `sync.core.deadlines`). What is stored is capped
field by field, so that every stored value fits what the site lets one SQL value be
(SITE_MAX_VALUE_BYTES), with room for the few columns the site joins into one.
"""
from __future__ import annotations

MAX_PAGE_BYTES = 5 * 1024 * 1024  # one webinar or talks page; the real ones are ~30 KB
MAX_CAPTION_BYTES = 8 * 1024 * 1024  # one caption file; a 3-hour talk's json3 is ~2 MB
MAX_JSON_DEPTH = 64  # arrays and objects in one JSON file from outside; json3 nests 4 deep
DEFAULT_REQUEST_TIMEOUT = 30.0  # s, one page or API request, start to last byte (--timeout)
DEFAULT_SYNC_DEADLINE = 3600.0  # s, a whole sync (--deadline)
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # one API answer; a real 50-video page is ~100 KB
MAX_PLAYLIST_PAGES = 100  # a playlist holds at most 5,000 videos: 100 pages of 50
MAX_ETAG_CHARS = 200  # an etag sent back as If-None-Match; YouTube's are ~27 characters
MAX_TITLE_CHARS = 1_000  # YouTube allows 100
MAX_DESCRIPTION_CHARS = 20_000  # YouTube allows 5,000 bytes
MAX_FIELD_CHARS = 2_000  # any other text field (channel, URLs, dates, ids, a talk's title, a name)
MAX_ABSTRACT_CHARS = 20_000  # a talk's abstract or bio (the real ones are under 2,300); the site renders this much
MAX_ERROR_CHARS = 2_000  # an error message stored in sync_runs or captions
MAX_HISTORY_COMMITS = 1_000_000  # `talks backfill`: HEAD's first-parent line
MAX_REQUEST_TIMEOUT = 3_600.0  # s, the largest --timeout
MAX_SYNC_DEADLINE = 7 * 86_400.0  # s, the largest --deadline
MAX_STATUS_AGE_DAYS = 36_500  # `talks status --max-age`: a century
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

# ----------------------------------------------------------------------------- the site
# What one request may make `talks serve` do. SQLite's time limit (the progress handler)
# stops a statement between steps only: what one step does is bounded here, before it runs.
SITE_SQL_TIME_LIMIT_MS = 1_000  # one SQL statement (Datasette's sql_time_limit_ms)
SITE_MAX_VALUE_BYTES = 1_000_000  # one string or blob any statement makes or reads (SQLITE_LIMIT_LENGTH)
SITE_MAX_SQL_CHARS = 100_000  # one statement's text (SQLITE_LIMIT_SQL_LENGTH)
SITE_MAX_COLUMNS = 200  # result columns (SQLITE_LIMIT_COLUMN)
SITE_MAX_SQL_VARIABLES = 2_000  # parameters of one statement (a page of 1,000 rows looks up 1,000 keys)
SITE_MAX_LIKE_PATTERN = 100  # LIKE/GLOB pattern characters: one match costs pattern x text
SITE_MAX_QUERY_ARGS = 100  # arguments in one URL's query string
SITE_MAX_ARG_CHARS = 2_000  # one argument's value (?sql= may be SITE_MAX_SQL_CHARS)
SITE_MAX_IN_VALUES = 100  # values of one __in / __notin filter (9,000 took 23 s)
SITE_SNIPPET_MAX_CHARS = 8_000  # /search snippets a talk whose indexed text is at most this long (a real one: ~4,500)
SITE_SQL_WORKER_MEMORY = 1 << 30  # bytes: address space of the process that tries arbitrary SQL first
SITE_SQL_WAITING = 4  # arbitrary SQL requests that may wait for their turn; more answer 503
# Cells of an arbitrary query's HTML page: Datasette renders each on the event loop, where
# every request waits (1,000 rows of 199 columns held the site 2.4 s); .json and .csv are cheap.
SITE_MAX_HTML_CELLS = 20_000
