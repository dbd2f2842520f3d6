"""save_* writers for caption state (`captions`) and transcript segments.

A video's segments are replaced only when their content hash changed, in one
transaction: the live ones get `removed_at` (rows are never deleted) and the new
ones are inserted. The ledger gets one `changes` row per replacement
(transcript_segments, video id, column `segments`, old count -> new count) plus
the `captions` row's changed fields (content_hash among them), not one row per
segment field: a transcript is thousands of rows that change as one.

`TranscriptLoader` writes many videos in few transactions (imports, bulk loads) and
keeps `transcript_segments_fts` holding exactly the live segments.
"""
from __future__ import annotations

from contextlib import ExitStack
from typing import Optional, Sequence

import sqlite_utils

from db.runs import book_changes
from db.store import RunContext, get_row, record_change, save_row
from sync.core.text import cjk_bigrams

from .captions import TranscriptSegment, content_hash

BOUNDARY_WORDS = 5  # words taken from each side of a segment boundary: phrases of up to 6 words


def boundary_texts(segments: Sequence[TranscriptSegment]) -> list[Optional[str]]:
    """Per segment: its last words, a newline, the next segment's first words (None for the last)."""
    # Split off only the words taken (a bulk load splits millions of segments): the same
    # words as split()[-n:] and split()[:n].
    n = BOUNDARY_WORDS
    tails = [" ".join(s.text.rsplit(None, n)[-n:]) for s in segments[:-1]]
    heads = [" ".join(s.text.split(None, n)[:n]) for s in segments[1:]]
    texts: list[Optional[str]] = [tail + "\n" + head for tail, head in zip(tails, heads)]
    return texts + [None] if segments else texts


def stored_captions(db: sqlite_utils.Database, video_id: str) -> Optional[dict]:
    return get_row(db, "captions", {"video_id": video_id})


# When a check happened and when the next is due: bookkeeping, like last_seen_run. A re-check
# that finds what is stored changes these and nothing else, and writes no `changes` row.
CHECK_BOOKKEEPING = ("checked_at", "next_check_at", "attempts", "ytdlp_version")


def _save_captions_row(db: sqlite_utils.Database, run: RunContext, fields: dict) -> dict:
    stored = stored_captions(db, fields["video_id"])
    if stored is None:
        return save_row(db, run, "captions", fields)
    sourced = {k: v for k, v in fields.items() if k not in CHECK_BOOKKEEPING}
    row = save_row(db, run, "captions", sourced)
    checks = {k: v for k, v in fields.items() if k in CHECK_BOOKKEEPING and row.get(k) != v}
    if checks:
        db.execute(f"UPDATE captions SET {', '.join(f'[{k}] = ?' for k in checks)} WHERE video_id = ?",
                   [*checks.values(), fields["video_id"]])
    return {**row, **checks}


def save_caption_state(db: sqlite_utils.Database, run: RunContext, video_id: str, fields: dict) -> dict:
    """Record a caption check that stored nothing (none, blocked, needs_token, unavailable)."""
    with db.atomic():
        saved = _save_captions_row(db, run, {"video_id": video_id, **fields})
        book_changes(db, run.run_id, run.rows_changed)
        return saved


BATCH_SEGMENTS = 50_000  # a bulk load commits (and indexes) about this many segments at a time

_FTS = "transcript_segments_fts"
_INSERT = (
    "INSERT INTO transcript_segments (video_id, start_seconds, end_seconds, text, url, seq,"
    " boundary_text, word_times, text_cjk, first_seen_run, last_seen_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INDEXED = "text, boundary_text, text_cjk"  # the full-text index's columns (db/schema.py FTS_CONFIG)


class TranscriptLoader:
    """Saves many videos' transcripts in few transactions, and keeps the full-text index.

    transcript_segments_fts has no triggers (db/schema.py FTS_WITHOUT_TRIGGERS): a batch's
    new segments are indexed in one INSERT ... SELECT when it commits, and a replaced
    segment leaves the index as it gets removed_at, so the index holds exactly the live
    segments. A batch commits every `batch_segments` segments and when the `with` block
    ends; an exception rolls back the open batch only (each video stays all or nothing).
    """

    def __init__(self, db: sqlite_utils.Database, run: RunContext, batch_segments: int = BATCH_SEGMENTS):
        self.db, self.run, self.batch_segments = db, run, batch_segments
        self._tx: Optional[ExitStack] = None
        self._floor = 0  # highest segment id before the open batch: newer ones are not indexed yet
        self._pending = self._changed = 0

    def __enter__(self) -> "TranscriptLoader":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        elif self._tx is not None:
            tx, self._tx = self._tx, None
            self.run.rows_changed -= self._changed  # rolled back: not changed after all
            tx.__exit__(exc_type, exc, tb)

    def save(self, video_id: str, segments: Sequence[TranscriptSegment], fields: dict) -> bool:
        """Store a video's segments and its `captions` row; False when the content was unchanged."""
        if self._tx is None:
            self._tx = ExitStack()
            self._tx.enter_context(self.db.atomic())
            self._floor = self.db.execute("SELECT coalesce(max(id), 0) FROM transcript_segments").fetchone()[0]
            self._pending = self._changed = 0
        counts = (self.run.rows_changed, self._changed, self._pending)
        try:
            return self._save(video_id, segments, fields)
        except BaseException:
            # the savepoint rolled this video back: it changed nothing
            self.run.rows_changed, self._changed, self._pending = counts
            raise

    def _save(self, video_id: str, segments: Sequence[TranscriptSegment], fields: dict) -> bool:
        db, run = self.db, self.run
        digest = content_hash(segments)
        with db.atomic():  # a savepoint: one video is all or nothing
            stored = stored_captions(db, video_id)
            changed = not stored or stored.get("content_hash") != digest
            if changed:
                # The replaced segments leave the index (external content: 'delete' needs their
                # indexed values); those inserted in this batch are not in it yet. `+id`: a
                # rowid range through the removed_at index would read every older segment.
                db.execute(
                    f"INSERT INTO {_FTS} ({_FTS}, rowid, {_INDEXED}) SELECT 'delete', id, {_INDEXED}"
                    " FROM transcript_segments WHERE video_id = ? AND removed_at IS NULL AND +id <= ?",
                    [video_id, self._floor],
                )
                old = db.execute(
                    "UPDATE transcript_segments SET removed_at = ? WHERE video_id = ? AND removed_at IS NULL",
                    [run.now, video_id],
                ).rowcount
                rows = [
                    (video_id, s.start_seconds, s.end_seconds, s.text, s.url, n, boundary, s.word_times,
                     cjk_bigrams(s.text) if not s.text.isascii() else None, run.run_id, run.run_id)
                    for n, (s, boundary) in enumerate(zip(segments, boundary_texts(segments)))
                ]
                # executemany, not insert_all: sqlite-utils' per-value work would cost more than SQLite's.
                db.conn.executemany(_INSERT, rows)
                record_change(db, run, "transcript_segments", video_id, "segments", old if stored else None, len(rows))
                run.rows_changed += 1
                self._changed += 1
                self._pending += len(rows)
            fields = {"video_id": video_id, "content_hash": digest, "segments": len(segments), **fields}
            if not changed:  # the stored captions were fetched when they were first read
                fields.pop("fetched_at", None)
            before = run.rows_changed
            _save_captions_row(db, run, fields)
            self._changed += run.rows_changed - before
        if self._pending >= self.batch_segments:
            self.commit()
        return changed

    def commit(self) -> None:
        """Index the open batch's live segments in one statement, and commit it."""
        if self._tx is None:
            return
        self.db.execute(
            f"INSERT INTO {_FTS} (rowid, {_INDEXED}) SELECT id, {_INDEXED}"
            " FROM transcript_segments WHERE id > ? AND removed_at IS NULL",
            [self._floor],
        )
        book_changes(self.db, self.run.run_id, self.run.rows_changed)
        tx, self._tx = self._tx, None
        tx.close()


def save_transcript(
    db: sqlite_utils.Database,
    run: RunContext,
    video_id: str,
    segments: Sequence[TranscriptSegment],
    fields: dict,
) -> bool:
    """Store one video's segments and its `captions` row in one transaction; False when unchanged."""
    with TranscriptLoader(db, run) as loader:
        return loader.save(video_id, segments, fields)


__all__ = ["BATCH_SEGMENTS", "BOUNDARY_WORDS", "CHECK_BOOKKEEPING", "TranscriptLoader", "boundary_texts", "save_caption_state", "save_transcript", "stored_captions"]
