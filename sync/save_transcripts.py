"""save_* writers for caption state (`captions`) and transcript segments.

A video's segments are replaced only when their content hash changed, in one
transaction: the live ones get `removed_at` (rows are never deleted) and the new
ones are inserted. The ledger gets one `changes` row per replacement
(transcript_segments, video id, column `segments`, old count -> new count) plus
the `captions` row's changed fields (content_hash among them), not one row per
segment field: a transcript is thousands of rows that change as one.
"""
from __future__ import annotations

from typing import Optional, Sequence

import sqlite_utils

from db.store import RunContext, get_row, record_change, save_row

from .captions import TranscriptSegment, content_hash

BOUNDARY_WORDS = 5  # words taken from each side of a segment boundary: phrases of up to 6 words


def boundary_texts(segments: Sequence[TranscriptSegment]) -> list[Optional[str]]:
    """Per segment: its last words, a newline, the next segment's first words (None for the last)."""
    texts: list[Optional[str]] = []
    for i, seg in enumerate(segments):
        if i + 1 == len(segments):
            texts.append(None)
            continue
        tail = seg.text.split()[-BOUNDARY_WORDS:]
        head = segments[i + 1].text.split()[:BOUNDARY_WORDS]
        texts.append(" ".join(tail) + "\n" + " ".join(head))
    return texts


def stored_captions(db: sqlite_utils.Database, video_id: str) -> Optional[dict]:
    return get_row(db, "captions", {"video_id": video_id})


def save_caption_state(db: sqlite_utils.Database, run: RunContext, video_id: str, fields: dict) -> dict:
    """Record a caption check that stored nothing (none, blocked, needs_token, unavailable)."""
    with db.atomic():
        return save_row(db, run, "captions", {"video_id": video_id, **fields})


def save_transcript(
    db: sqlite_utils.Database,
    run: RunContext,
    video_id: str,
    segments: Sequence[TranscriptSegment],
    fields: dict,
) -> bool:
    """Store a video's segments and its `captions` row; False when the content was unchanged."""
    digest = content_hash(segments)
    with db.atomic():
        stored = stored_captions(db, video_id)
        changed = not stored or stored.get("content_hash") != digest
        if changed:
            old = db.execute(
                "UPDATE transcript_segments SET removed_at = ? WHERE video_id = ? AND removed_at IS NULL",
                [run.now, video_id],
            ).rowcount
            rows = [
                (video_id, s.start_seconds, s.end_seconds, s.text, s.url, n, boundary, run.run_id, run.run_id)
                for n, (s, boundary) in enumerate(zip(segments, boundary_texts(segments)))
            ]
            # executemany, not insert_all: a transcript is hundreds of rows, and sqlite-utils'
            # per-value work would cost more than SQLite's own (full-text triggers included).
            db.conn.executemany(
                "INSERT INTO transcript_segments (video_id, start_seconds, end_seconds, text, url, seq,"
                " boundary_text, first_seen_run, last_seen_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            record_change(db, run, "transcript_segments", video_id, "segments", old if stored else None, len(rows))
            run.rows_changed += 1
        save_row(db, run, "captions", {"video_id": video_id, "content_hash": digest, "segments": len(segments), **fields})
    return changed


__all__ = ["BOUNDARY_WORDS", "boundary_texts", "save_caption_state", "save_transcript", "stored_captions"]
