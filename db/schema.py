"""The shape of the database, declared as data and applied by `ensure_schema(db)`.

This is a public contract: people write SQL against these tables and views, and
the README documents every column. Add columns freely (`ensure_schema` adds the
missing ones to an existing file); never rename or drop one.
"""
from __future__ import annotations

import sqlite_utils

from .reports import REPORT_TODAY_SQL, REPORT_VIEWS, TODAY as REPORT_TODAY, missing_recordings_sql  # noqa: F401

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
    "speaker_aliases": {
        # Every way the pages wrote a speaker's name ("Malih Alikhani", "Malihe Alikhani"):
        # variants of one person's name are one speaker (sync/pages/people.py).
        "pk": ("speaker_id", "name"),
        "columns": {"speaker_id": int, "name": str, "name_ascii": str, **SEEN},
        "foreign_keys": [("speaker_id", "speakers", "id")],
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
            "availability": str,  # public | unlisted | private | deleted | unavailable | not_found (db/reports.py)
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
    "playlist_pages": {
        # The Data API's playlistItems pages as last answered, so that a sync can ask for
        # every page conditionally (If-None-Match: its own etag) and reuse a page that
        # answers 304. A cache, not a source: rewritten when a page changes, pages past
        # the playlist's end deleted, nothing in `changes` (playlist_items is the record).
        "pk": ("playlist_id", "page_number"),
        "columns": {
            "playlist_id": str,
            "page_number": int,  # 1 = the first page
            "etag": str,
            "next_page_token": str,  # NULL on the last page
            # JSON list of {"video_id", "position", "added_at"} (+ "state": "private" or
            # "deleted" for YouTube's stub of an entry nobody can watch)
            "items": str,
            "item_count": int,
            "fetched_run": int,  # the run whose 200 answer this is
        },
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
            # Each timed piece (a word of automatic captions, a cue of uploaded ones) as a flat
            # JSON array [offset, ms, offset, ms, ...]: its first character in `text` and its
            # start in milliseconds after start_seconds. A hit links to its first matched word.
            "word_times": str,
            # The Chinese, Japanese and Korean runs of `text` as overlapping pairs of characters
            # ("まあ昨日" -> "まあ あ昨 昨日 日"; NULL without any): indexed so that words typed
            # without spaces are found inside text written without spaces.
            "text_cjk": str,
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
        # (sync/related.py), rebuilt whole by a sync that changed a talk's title, abstract or
        # presence; not in `changes`.
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
            "status": str,  # running | ok | failed | interrupted
            "source": str,  # none | api | ytdlp | snapshot; transcripts (captions); match (decision)
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
            "kind": str,  # sync | backfill | captions | decision (RUN_KINDS)
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
    # Notifications (sync/ops/notify): what organizers were told, where and when. A
    # notification URL carries secrets and is never stored: a target is its fingerprint.
    "notify_state": {
        # name -> value: ledger_run (the newest run whose changes became events), salt
        # (of the targets' fingerprints)
        "pk": "name",
        "columns": {"name": str, "value": str},
    },
    "notify_events": {
        # One row per change of a problem's state, or per new recording: never updated.
        "pk": "id",
        "columns": {
            "id": int,
            "event": str,  # the identity: missing:S03E02:private, stale:S03E02:<video>, orphan:<video>,
            #                recording:S03E02:<video>, health:unhealthy
            "kind": str,  # health | missing | stale | orphan | recording
            "state": str,  # open | solved (a problem) | happened (a recording)
            "detected_at": str,
            "run_id": int,  # the newest sync when it was detected
            "talk_id": int,
            "code": str,
            "title": str,
            "video_id": str,
            "reason": str,  # the report's reason (missing, stale), the video's availability (orphan), the problem (health)
            "replacement": str,  # stale: the talk's recording, to link instead
        },
    },
    "notify_targets": {
        # Where digests go, known by a fingerprint of the URL (PBKDF2 with the salt above).
        "pk": "target",
        "columns": {
            "target": str,
            "label": str,  # the URL's scheme and the fingerprint's start: "json:// 3f2a9c1b"
            "first_seen_at": str,
            "since_event": int,  # the newest event when it was first seen: its history starts after it
            "delivered_event": int,  # the newest event its last delivered digest covered (NULL: none yet)
            "last_attempt_at": str,
            "failures": int,  # deliveries failed in a row
            "last_error": str,
        },
    },
    "notifications": {
        # One row per digest sent, or tried: what was sent where and when.
        "pk": "id",
        "columns": {
            "id": int,
            "target": str,
            "label": str,
            "attempted_at": str,
            "status": str,  # sent | failed
            "through_event": int,  # the newest event it covers
            "to_do": int,
            "new": int,
            "solved": int,
            "title": str,
            "body": str,
            "error": str,
        },
    },
}

# What a run was. Only `talks sync` writes kind 'sync': health, the keyless rotation and
# re-matching ask db.syncs what "the last sync" is, and other runs never answer for one.
RUN_KINDS = ("sync", "backfill", "captions", "decision")
# A row written before the column existed, classified from what it holds (ensure_schema
# fills it in; db.syncs reads a file no new version has opened yet the same way).
RUN_KIND_OF_ROW = """CASE
  WHEN commit_id IS NOT NULL THEN 'backfill'
  WHEN source = 'transcripts' THEN 'captions'
  WHEN source = 'match' THEN 'decision'
  ELSE 'sync' END"""

INDEXES = [
    ("talks", ["code"], True),
    ("speakers", ["name"], True),
    ("speaker_aliases", ["name"], False),
    ("playlist_items", ["video_id"], False),
    ("changes", ["run_id"], False),
    ("changes", ["table_name", "row_key"], False),  # a row's history (talk_history)
    ("transcript_segments", ["video_id", "start_seconds"], False),
    ("captions", ["next_check_at"], False),
    ("notify_events", ["event"], False),
    # search_recordings leaves out replaced segments through this (few rows are not NULL)
    ("transcript_segments", ["removed_at"], False),
]

# remove_diacritics 2 folds accents (jimenez finds Jiménez); *_ascii columns
# cover letters no tokenizer folds (ø, ł); porter stems English words (fair finds fairness).
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"
FTS_CONFIG: dict[str, list[str]] = {
    "talks": ["code", "title", "abstract", "speakers", "speakers_ascii", "affiliation", "bio"],
    "videos": ["title", "description"],
    "transcript_segments": ["text", "boundary_text", "text_cjk"],
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


# The reports' views come from db/reports.py, which says what they mean (and is read by
# everything else that counts problems); talk_history is a plain view of the ledger.
VIEWS: dict[str, str] = {**REPORT_VIEWS, "talk_history": TALK_HISTORY}


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
    db.execute(f"UPDATE sync_runs SET kind = {RUN_KIND_OF_ROW} WHERE kind IS NULL")
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
