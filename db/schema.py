"""The shape of the database, declared as data and applied by `ensure_schema(db)`.

This is a public contract: people write SQL against these tables and views, and
the README documents every column. Add columns freely (`ensure_schema` adds the
missing ones to an existing file); never rename or drop one.
"""
from __future__ import annotations

import sqlite_utils

# Bookkeeping columns every sourced table carries: which run first and last saw
# the row, and when its source stopped showing it (rows are never deleted).
SEEN = {"first_seen_run": int, "last_seen_run": int, "removed_at": str}

TABLES: dict[str, dict] = {
    "talks": {
        "pk": "id",
        "columns": {
            "id": int,
            "code": str,  # S03E02; NULL until the talk is listed
            "page_code": str,  # the code the webinar page prints on its line (may be one another talk holds)
            "season": int,
            "episode": int,
            "status": str,  # listed | upcoming | unlisted
            "title": str,
            "date": str,  # ISO date
            "date_text": str,  # as the page writes it
            "speakers": str,  # "Hubert Dariusz Zając and Natalia-Rozalia Avlona"
            "speakers_ascii": str,  # ASCII-folded copy, so "zajac" finds Zając
            "affiliation": str,
            "abstract": str,
            "bio": str,
            "topic": str,  # "Next webinar: <topic>" of an announced talk
            "page_video_id": str,  # what the webinar page links (may be stale)
            "talks_page_video_id": str,  # what the talks page links
            "video_id": str,  # the recording chosen by the matcher (or NULL)
            "recording_url": str,  # watch URL of video_id: Datasette embeds a player
            **SEEN,
        },
    },
    "speakers": {
        "pk": "id",
        "columns": {
            "id": int,
            "name": str,
            "name_ascii": str,
            "honorific": str,
            "url": str,
            **SEEN,
        },
    },
    "talk_speakers": {
        "pk": ("talk_id", "speaker_id"),
        "columns": {"talk_id": int, "speaker_id": int, "position": int, **SEEN},
        "foreign_keys": [("talk_id", "talks", "id"), ("speaker_id", "speakers", "id")],
    },
    "videos": {
        "pk": "video_id",
        "columns": {
            "video_id": str,
            "title": str,
            "description": str,
            "published_at": str,
            "duration_seconds": int,
            "channel": str,
            "channel_id": str,
            "thumbnail_url": str,
            "view_count": int,
            "has_captions": int,
            "availability": str,  # public | unlisted | private | deleted | not_found
            "url": str,
            # bookkeeping like last_seen_run (never in `changes`): the last run in which YouTube
            # itself described the video; the API path refreshes it again REFRESH_DAYS later
            "checked_run": int,
            **SEEN,
        },
    },
    "playlists": {
        "pk": "playlist_id",
        "columns": {"playlist_id": str, "title": str, "etag": str, "url": str, **SEEN},
    },
    "playlist_items": {
        "pk": ("playlist_id", "video_id"),
        "columns": {
            "playlist_id": str,
            "video_id": str,
            "position": int,
            "added_at": str,
            **SEEN,
        },
    },
    "matches": {
        # The current decision for each talk; its history is in `changes`.
        "pk": "talk_id",
        "columns": {
            "talk_id": int,
            "code": str,
            "video_id": str,
            "method": str,  # page_link | talks_page_link | episode_code | title_speaker | manual
            "score": float,
            "evidence": str,
            # of video_id when matched: a private or deleted recording is still the talk's
            # (NULL: a pinned video no sync has seen)
            "availability": str,
            **SEEN,
        },
        "foreign_keys": [("talk_id", "talks", "id")],
    },
    "match_decisions": {
        # Organizers' pins and rejections; written only by `talks match`, read by every sync.
        "pk": ("talk_id", "video_id"),
        "columns": {
            "talk_id": int,
            "code": str,
            "video_id": str,
            "action": str,  # pin | reject
            "decided_at": str,
        },
        "foreign_keys": [("talk_id", "talks", "id")],
    },
    "transcript_segments": {
        # A caption change replaces a video's live segments: the old ones get removed_at.
        "pk": "id",
        "columns": {
            "id": int,
            "video_id": str,
            "start_seconds": float,
            "end_seconds": float,
            "text": str,
            "url": str,  # link to that second of the video
            "seq": int,  # position among the video's segments
            # The last words of this segment, a newline, the first words of the next:
            # indexed so a phrase said across the boundary is found (search_recordings).
            "boundary_text": str,
            **SEEN,
        },
    },
    "captions": {
        # Per video: what the last caption check found, what is stored, when to look again.
        "pk": "video_id",
        "columns": {
            "video_id": str,
            "state": str,  # uploaded | automatic | none | blocked | needs_token | unavailable
            "language": str,  # of the stored captions (en, de, ...)
            "track": str,  # yt-dlp's track key: en, en-GB, de-orig, ...
            "format": str,  # json3 | vtt
            "source": str,  # fetch | import
            "fetched_at": str,  # when the stored captions were fetched or imported
            "checked_at": str,  # the last check, whatever it found
            "content_hash": str,  # sha256 of the stored segments
            "segments": int,  # live segments stored
            "attempts": int,  # checks in a row that ended in this state
            "last_error": str,
            "next_check_at": str,  # do not ask YouTube again before this
            "ytdlp_version": str,
            **SEEN,
        },
    },
    "related_talks": {
        # Derived, like a search index: each live talk's nearest talks by what they are about
        # (sync/related.py), rebuilt whole by a sync that changed something; not in `changes`.
        "pk": ("talk_id", "rank"),
        "columns": {"talk_id": int, "rank": int, "related_id": int, "score": float},
        "foreign_keys": [("talk_id", "talks", "id"), ("related_id", "talks", "id")],
    },
    "sync_runs": {
        "pk": "id",
        "columns": {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,  # running | ok | failed
            "source": str,  # none | api | ytdlp | snapshot
            "today": str,
            "snapshot_date": str,  # set when the data came from the bundled snapshot
            "pages": str,
            "playlists": str,
            "requests": int,
            "quota_units": int,
            "talks_seen": int,
            "videos_seen": int,
            "rows_changed": int,
            "error": str,
            "page_playlists": str,  # the playlist ids the webinar page linked (comma-separated)
            "commit_id": str,  # `talks backfill`: the site repository's commit this run replayed
            "commit_date": str,  # ... and its committer date (ISO 8601, the committer's offset)
        },
    },
    "changes": {
        "pk": "id",
        "columns": {
            "id": int,
            "run_id": int,
            "table_name": str,
            "row_key": str,
            "column_name": str,
            "old_value": str,
            "new_value": str,
        },
        "foreign_keys": [("run_id", "sync_runs", "id")],
    },
}

INDEXES = [
    ("talks", ["code"], True),
    ("speakers", ["name"], True),
    ("playlist_items", ["video_id"], False),
    ("changes", ["run_id"], False),
    ("changes", ["table_name", "row_key"], False),  # a row's history (talk_history)
    ("transcript_segments", ["video_id", "start_seconds"], False),
    ("captions", ["next_check_at"], False),
    # search_recordings leaves out replaced segments through this (few rows are not NULL)
    ("transcript_segments", ["removed_at"], False),
]

# remove_diacritics 2 folds accents (jimenez finds Jiménez); *_ascii columns
# cover letters no tokenizer folds (ø, ł); porter stems English words (fair finds fairness).
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"
FTS_CONFIG: dict[str, list[str]] = {
    "talks": ["code", "title", "abstract", "speakers", "speakers_ascii", "affiliation", "bio"],
    "videos": ["title", "description"],
    "transcript_segments": ["text", "boundary_text"],
}
# Full-text indexes kept by their one writer instead of sqlite-utils' per-row triggers, with
# the rows they index: sync/transcripts/save.py indexes each batch of new segments in one
# INSERT ... SELECT and takes replaced ones (removed_at) out. Triggers cost more than twice
# the CPU (200,000 segments: 11.1 s against 4.9 s) and put every row an UPDATE touched back.
FTS_WITHOUT_TRIGGERS: dict[str, str] = {"transcript_segments": "removed_at IS NULL"}
# FTS5 keeps this many bytes of new index in memory before writing a segment (default 1 MB):
# a batch of a bulk load becomes one segment, not dozens to merge. Memory grows only as a
# transaction inserts.
FTS_HASHSIZE: dict[str, int] = {"transcript_segments": 64 * 1024 * 1024}
# Tokenizers that differ from FTS_TOKENIZE, by table. None today: FTS_TOKENIZE stems for
# every table (it already starts with porter; "porter porter ..." stemmed twice).
FTS_TOKENIZERS: dict[str, str] = {}

# The "today" of the reports, defined once (the view `report_today`, one row, one column
# `today`) and read by every view and canned query that counts "past" or "upcoming": the
# last successful sync's, so a snapshot database answers the same on any day; date('now')
# for a database never synced. Runs without a today (organizers' `talks match`
# decisions) do not move it.
REPORT_TODAY_SQL = """
SELECT coalesce(
  (SELECT today FROM sync_runs WHERE status = 'ok' AND today IS NOT NULL ORDER BY id DESC LIMIT 1),
  date('now')) AS today
"""
REPORT_TODAY = "(SELECT today FROM report_today)"


def missing_recordings_sql(today_sql: str = REPORT_TODAY) -> str:
    """Past talks with no watchable recording; `today_sql` is an SQL expression.

    A talk is past when its date is before today (a talk of today's date is not yet),
    and never while it is announced (upcoming). A talk has a watchable recording when
    the video chosen (talks.video_id) is public or unlisted, or is an organizer's pin of
    a video no sync has seen yet (organizers know best; its availability is unknown).
    The reason, first that applies: never_listed (announced, then gone without a code);
    private, deleted, broken_link when the chosen video, the webinar page's link or the
    talks page's link is private, deleted, or not found, in that order; else no_video.
    """
    return f"""
SELECT
  t.code, t.title, t.date, t.speakers,
  CASE
    WHEN t.status = 'unlisted' THEN 'never_listed'
    WHEN 'private' IN (rec.availability, page.availability, talks_page.availability) THEN 'private'
    WHEN 'deleted' IN (rec.availability, page.availability, talks_page.availability) THEN 'deleted'
    WHEN 'not_found' IN (rec.availability, page.availability, talks_page.availability) THEN 'broken_link'
    ELSE 'no_video'
  END AS reason,
  t.status,
  coalesce(t.page_video_id, t.talks_page_video_id) AS linked_video_id,
  t.video_id,
  t.id AS talk_id
FROM talks t
LEFT JOIN videos rec ON rec.video_id = t.video_id
LEFT JOIN videos page ON page.video_id = t.page_video_id
LEFT JOIN videos talks_page ON talks_page.video_id = t.talks_page_video_id
WHERE t.status IN ('listed', 'unlisted')
  AND t.date IS NOT NULL
  AND t.date < {today_sql}
  AND (t.video_id IS NULL OR rec.availability NOT IN ('public', 'unlisted'))
ORDER BY t.date, t.code, t.id
"""


# A talk's timeline: each change of its row in `talks`, oldest first, with the run that
# made it and, for a backfilled run, the site commit and its date (else when the run
# started). Copies derived from another column (speakers_ascii, season, episode,
# recording_url) are left out; removed_at (the pages stopped showing it) is kept.
TALK_HISTORY = """
SELECT
  t.id AS talk_id,
  t.code,
  coalesce(r.commit_date, r.started_at) AS changed_at,
  c.table_name,
  c.column_name,
  c.old_value,
  c.new_value,
  c.run_id,
  r.commit_id,
  c.id AS change_id
FROM changes c
JOIN talks t ON c.table_name = 'talks' AND c.row_key = CAST(t.id AS TEXT)
JOIN sync_runs r ON r.id = c.run_id
WHERE c.column_name NOT IN ('speakers_ascii', 'season', 'episode', 'recording_url')
ORDER BY t.id, c.run_id, c.id
"""


VIEWS: dict[str, str] = {
    "report_today": REPORT_TODAY_SQL,  # first: the views below read it
    "missing_recordings": missing_recordings_sql(),
    "talk_history": TALK_HISTORY,
    # Webinar-page links to fix. Only links a sync has looked up are judged (a pages-only
    # sync knows nothing of YouTube), and "outside the playlist" only once a playlist has
    # been read. reason, first that applies: not_found, deleted, private (the link points
    # at a video nobody can watch); not_recording (it points at a watchable video that is
    # not the talk's recording: a re-upload replaced it, it is another talk's, or the
    # organizers rejected it); not_in_playlist (it is the recording, but the playlist
    # does not hold it).
    "stale_links": """
SELECT
  t.code, t.page_video_id, t.video_id,
  CASE
    WHEN linked.availability IN ('not_found', 'deleted', 'private') THEN linked.availability
    WHEN t.video_id IS NULL OR t.video_id != t.page_video_id THEN 'not_recording'
    ELSE 'not_in_playlist'
  END AS reason,
  t.title, t.status, t.id AS talk_id
FROM talks t
JOIN videos linked ON linked.video_id = t.page_video_id
WHERE t.removed_at IS NULL
  -- a link to the talk's own private or deleted recording is reported once, by
  -- missing_recordings, as the recording that went
  AND NOT (t.video_id IS t.page_video_id AND linked.availability IN ('private', 'deleted'))
  AND (
    linked.availability IN ('not_found', 'deleted', 'private')
    OR t.video_id IS NULL
    OR t.video_id != t.page_video_id
    OR (EXISTS (SELECT 1 FROM playlists WHERE removed_at IS NULL)
        AND NOT EXISTS (SELECT 1 FROM playlist_items pi
                        WHERE pi.video_id = t.page_video_id AND pi.removed_at IS NULL))
  )
ORDER BY t.code, t.id
""",
    # Videos a live playlist holds that belong to no talk: extra uploads, decoys, and
    # private or deleted entries (no title, no date: listed first). A private or deleted
    # video is a talk's when it is its recording or a live talk's page links it (a
    # re-upload replaced it): missing_recordings or stale_links reports it, not this.
    "unmatched_videos": """
SELECT
  v.video_id, v.title, v.availability, v.published_at, v.duration_seconds, v.url,
  group_concat(pi.playlist_id) AS playlists
FROM videos v
JOIN playlist_items pi ON pi.video_id = v.video_id AND pi.removed_at IS NULL
WHERE v.video_id NOT IN (SELECT video_id FROM talks WHERE video_id IS NOT NULL)
  AND NOT (v.availability IN ('private', 'deleted') AND v.video_id IN (
    SELECT page_video_id FROM talks WHERE removed_at IS NULL AND page_video_id IS NOT NULL
    UNION SELECT talks_page_video_id FROM talks WHERE removed_at IS NULL AND talks_page_video_id IS NOT NULL))
GROUP BY v.video_id
ORDER BY v.published_at, v.video_id
""",
}


def _narrow_update_trigger(db: sqlite_utils.Database, table_name: str, columns: list[str]) -> None:
    """sqlite-utils' `<table>_au` trigger re-indexes a row on any UPDATE; make it fire only
    when an indexed column changes, so bookkeeping (last_seen_run, checked_run on 5,000
    videos a sync) does not rewrite the full-text index. The index stays the same."""
    name = f"{table_name}_au"
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [name]).fetchone()
    if row is None or " UPDATE OF " in row[0]:
        return
    body = row[0][row[0].index(" BEGIN"):]
    names = ", ".join(f'"{c}"' for c in columns)
    db.execute(f"DROP TRIGGER [{name}]")
    db.execute(f'CREATE TRIGGER "{name}" AFTER UPDATE OF {names} ON "{table_name}"{body}')


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create or upgrade every table, index, full-text index and view. Idempotent."""
    for name, spec in TABLES.items():
        table = db[name]
        if not table.exists():
            table.create(
                spec["columns"],
                pk=spec["pk"],
                foreign_keys=spec.get("foreign_keys"),
            )
        else:
            existing = set(table.columns_dict)
            for column, column_type in spec["columns"].items():
                if column not in existing:
                    table.add_column(column, column_type)
    for table_name, columns, unique in INDEXES:
        db[table_name].create_index(columns, unique=unique, if_not_exists=True)
    for table_name, columns in FTS_CONFIG.items():
        table = db[table_name]
        tokenize = FTS_TOKENIZERS.get(table_name, FTS_TOKENIZE)
        live = FTS_WITHOUT_TRIGGERS.get(table_name)
        fts = table.detect_fts()
        if fts and (set(db[fts].columns_dict) != set(columns) or f"'{tokenize}'" not in db[fts].schema
                    or (live and any(t.name == f"{table_name}_ai" for t in table.triggers))):
            table.disable_fts()  # columns, tokenizer or triggers changed: rebuild the index below
            fts = None
        if not fts:
            # enable_fts indexes every row itself (a populate_fts after it counted each row twice)
            table.enable_fts(columns, create_triggers=not live, tokenize=tokenize, replace=True)
            if live:  # only the rows the writer keeps indexed
                fts = f"{table_name}_fts"
                names = ", ".join(f"[{c}]" for c in columns)
                db.execute(f"INSERT INTO [{fts}] ([{fts}]) VALUES ('delete-all')")
                db.execute(f"INSERT INTO [{fts}] (rowid, {names}) SELECT rowid, {names} FROM [{table_name}]"
                           f" WHERE {live}")
        if not live:
            _narrow_update_trigger(db, table_name, columns)
        hashsize = FTS_HASHSIZE.get(table_name)
        if hashsize and db.execute(f"SELECT v FROM [{table_name}_fts_config] WHERE k = 'hashsize'").fetchall() != [
                (hashsize,)]:
            db.execute(f"INSERT INTO [{table_name}_fts] ([{table_name}_fts], rank) VALUES ('hashsize', ?)", [hashsize])
    for name, sql in VIEWS.items():
        db.create_view(name, sql.strip(), replace=True)
