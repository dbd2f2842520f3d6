"""Saving videos while YouTube is still being read.

A full sync of a large playlist spends most of its time waiting for playlist pages,
which come one after the other, each needing the previous one's token. Each
videos.list answer that arrives meanwhile is saved at once by `StreamedVideos`, on a
thread of its own, inside the sync's open transaction, and the matcher's per-video
work is done then too (`sync.match.prepare_videos`), and so are each page's items
(`save.playlist_items_plan`). After the last page only what needs the whole playlist
is left: the shrink guard, what vanished, the matching.

The thread shares the sync's connection (`open_database(..., threads=True)`) and is
its only user while it runs: the caller touches the database again only after the
`with` block, which waits for the thread and raises its error, if it had one.
"""
from __future__ import annotations

import functools
import json
import logging
import queue
import threading
from typing import Callable, Iterable, Optional

from db.store import RowsPlan, RunContext, select_rows

from sync.match import prepare_videos
from sync.core.records import PlaylistItem, VideoRecord
from .videos import mark_checked, playlist_item_rows, playlist_items_plan, save_videos

log = logging.getLogger("talks.sync")


class StreamedVideos:
    """`add(records)` from any thread; every record added is saved once the block ends.

    `saved[video_id]` is the record saved. A record the read's result then replaced (a
    video a later playlist page lists as private, say) is undone with `take_back`; the
    caller saves the result's records that are not these very objects.
    `add_items(playlist_id, items)` saves through `item_plans[playlist_id]`, which
    `save.save_playlist_items` finishes. Described videos get `checked_run` here.
    """

    def __init__(self, db, run: RunContext):
        self._db, self._run = db, run
        self.saved: dict[str, VideoRecord] = {}
        self.item_plans: dict[str, RowsPlan] = {}
        self._before: dict[str, Optional[dict]] = {}  # each saved video's row before this run
        self._queue: "queue.SimpleQueue[Optional[Callable[[], None]]]" = queue.SimpleQueue()
        self._error: Optional[BaseException] = None
        self._cancelled = False  # the read failed: what is still queued is not saved
        self._thread = threading.Thread(target=self._work, name="save videos", daemon=True)

    def __enter__(self) -> "StreamedVideos":
        self._thread.start()
        return self

    def add(self, records: Iterable[VideoRecord]) -> None:
        self._queue.put(functools.partial(self._save_videos, list(records)))

    def add_items(self, playlist_id: str, items: Iterable[PlaylistItem]) -> None:
        self._queue.put(functools.partial(self._save_items, playlist_id, list(items)))

    def __exit__(self, kind, error, traceback) -> None:
        self._cancelled = error is not None
        self._queue.put(None)
        self._thread.join()  # at most the job in hand: milliseconds
        if self._error is not None:
            if error is None:
                raise self._error
            log.debug("saving streamed videos failed too: %r", self._error)

    def take_back(self, video_ids: Iterable[str]) -> None:
        """Undo the saves of these videos (after the block): their rows, their ledger
        entries and `rows_changed` go back to what they were before this run.

        For a video videos.list described but a later playlist page lists as private
        or deleted: the read's result holds the page's stub, saved afterwards as a
        sync that reads first saves it, not as an update of a state no run kept.
        """
        db, run = self._db, self._run
        for video_id in video_ids:
            before = self._before.pop(video_id)
            self.saved.pop(video_id)
            ledger = db.execute(
                "DELETE FROM changes WHERE run_id = ? AND table_name = 'videos' AND row_key = ?", [run.run_id, video_id]
            ).rowcount
            run.rows_changed -= 1 if ledger else 0  # save_rows counts a row once, when it logs a change
            if before is None:
                db.execute("DELETE FROM videos WHERE video_id = ?", [video_id])
            else:
                columns = [c for c in before if c != "video_id"]
                db.execute(f"UPDATE videos SET {', '.join(f'[{c}] = ?' for c in columns)} WHERE video_id = ?",
                           [*(before[c] for c in columns), video_id])

    # -- the writer thread

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is not None or self._cancelled:
                continue  # drain: the transaction rolls back; the caller raises the first error
            try:
                job()
            except BaseException as error:  # raised in the caller's thread, at the block's end
                self._error = error

    def _save_videos(self, records: list[VideoRecord]) -> None:
        ids = [record.video_id for record in records]
        stored = {row["video_id"]: row for row in select_rows(
            self._db, "videos", "video_id IN (SELECT value FROM json_each(?))", [json.dumps(ids)])}
        self._before.update((video_id, stored.get(video_id)) for video_id in ids)
        save_videos(self._db, self._run, records)
        mark_checked(self._db, self._run, ids)
        self.saved.update((record.video_id, record) for record in records)
        prepare_videos(records)

    def _save_items(self, playlist_id: str, items: list[PlaylistItem]) -> None:
        plan = self.item_plans.get(playlist_id)
        if plan is None:
            plan = self.item_plans[playlist_id] = playlist_items_plan(self._db, self._run, playlist_id)
        plan.add(playlist_item_rows(items))
        plan.apply()
