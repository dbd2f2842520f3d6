"""videos.list in batches of 50 ids, sent while the next playlistItems page is on its way.

A playlist's pages form a chain (each needs the previous page's token), so they go out
one after the other. A batch that fills up while pages are still coming is sent by one
worker thread on its own HTTP connection (httplib2 objects are not thread-safe), so a
full sync costs about one round trip per page instead of two. The batches are the ones a
serial run sends (same ids, same order, same quota), one videos.list in flight at a
time; batches that fill after the last page, and the last partial one, go out from the
calling thread, which is also the only thread a sync deadline (SIGALRM) can interrupt:
the worker's connection has its own watchdog (`_http.BoundedHttp`).
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Optional

import tenacity
from tenacity import stop_when_event_set

from sync.core.records import VideoRecord

from ._clean import clean_video, secret_keys
from ._client import PAGE_SIZE, Executor, call_api
from ._parse import videos_answered
from ._results import Quota

VIDEO_PARTS = "snippet,contentDetails,statistics,status"
_STOP_WAIT = 5.0  # s to wait for the worker beyond its request's own timeout, after a failure


class _Stopped(Exception):
    """The caller failed while the worker waited to retry: it gives up (never raised to the caller)."""


class VideoBatches:
    """Collects video ids in first-seen order and describes them, 50 to a request.

    `add(ids, more_pages=True)` while the page chain goes on; `finish()` sends the rest
    and returns what YouTube said, by id; `close()` always (it stops the worker and adds
    its requests to `quota`). With `worker_http` None every batch goes out from the
    calling thread, in order (the serial run the fault tests count requests of).

    Each answer's records are cleaned (`_clean`) as they arrive, and handed to
    `on_described(records)` then, from whichever thread fetched them: a caller can
    store them while the next pages are on their way.
    """

    def __init__(
        self, client, quota: Quota, execute: Executor, *, worker_http=None,
        secrets: tuple[str, ...] = (), on_described: Optional[Callable[[list[VideoRecord]], None]] = None,
    ):
        self._videos = client.videos()  # once: building a resource costs milliseconds
        self._quota = quota
        self._execute = execute
        self._seen: set[str] = set()
        self._pending: list[str] = []
        self.order: list[str] = []
        self.found: dict[str, VideoRecord] = {}
        self._http = worker_http
        self._worker: Optional[threading.Thread] = None
        self._queue: "queue.Queue" = queue.Queue()
        self._stopping = threading.Event()
        self._worker_quota = Quota()
        self._worker_error: Optional[BaseException] = None
        self._closed = False
        self._secrets, self._keys = secrets, secret_keys(secrets)
        self._on_described = on_described

    # -- the caller's side

    def add(self, ids: Iterable[str], *, more_pages: bool) -> None:
        for video_id in ids:
            if video_id and video_id not in self._seen:
                self._seen.add(video_id)
                self.order.append(video_id)
                self._pending.append(video_id)
        self._check_worker()
        while len(self._pending) >= PAGE_SIZE:
            batch, self._pending = self._pending[:PAGE_SIZE], self._pending[PAGE_SIZE:]
            if more_pages and self._http is not None:
                self._submit(batch)
            else:
                self._wait_for_worker()  # its batches come first: one videos.list at a time
                self._fetch(self._request(batch), batch, self._quota, self._execute)

    def finish(self) -> dict[str, VideoRecord]:
        self._wait_for_worker()
        for start in range(0, len(self._pending), PAGE_SIZE):
            batch = self._pending[start : start + PAGE_SIZE]
            self._fetch(self._request(batch), batch, self._quota, self._execute)
        self._pending = []
        return self.found

    def close(self, at_once: bool = False) -> None:
        """Stop the worker and count what it spent.

        A request it has in flight is let finish (its watchdog bounds it), so that every
        request counted reached YouTube and every one that reached it is counted; it
        then sends nothing more. Cut off only if it somehow outlives its watchdog, or
        `at_once` (the process was told to stop: a request already sent stays counted).
        """
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._stopping.set()
            self._queue.put(None)
            if at_once:
                self._http.cut_off()
            self._worker.join(self._http.request_timeout + _STOP_WAIT)
            if self._worker.is_alive():
                self._http.cut_off()
                self._worker.join(_STOP_WAIT)
            self._http.close()
        self._quota.requests += self._worker_quota.requests
        self._quota.units += self._worker_quota.units

    # -- helpers

    def _request(self, batch: list[str]):
        return self._videos.list(part=VIDEO_PARTS, id=",".join(batch), maxResults=PAGE_SIZE)

    def _fetch(self, request, batch: list[str], quota: Quota, execute: Executor) -> None:
        answered = videos_answered(call_api(request, quota, execute=execute), batch)
        records = [clean_video(record, self._secrets, self._keys) for record in answered.values()]
        self.found.update((record.video_id, record) for record in records)
        if self._on_described is not None and records:
            self._on_described(records)

    def _submit(self, batch: list[str]) -> None:
        if self._worker is None:
            # its own retry state (tenacity keeps one per wrapped function), and it stops
            # retrying once the caller has failed
            retrying = self._execute.retry
            execute = self._execute.retry_with(
                stop=retrying.stop | stop_when_event_set(self._stopping), sleep=self._sleep_unless_stopped(retrying.sleep)
            )
            self._worker = threading.Thread(target=self._work, args=(execute,), name="videos.list", daemon=True)
            self._worker.start()
        self._queue.put(batch)  # the worker builds the request: the page chain's thread stays free

    def _sleep_unless_stopped(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """The retry wait: cut short when the caller fails, and then no further attempt."""

        def wait(seconds: float) -> None:
            if sleep is tenacity.nap.sleep:
                self._stopping.wait(seconds)
            else:
                sleep(seconds)  # a test's recorder
            if self._stopping.is_set():
                raise _Stopped()

        return wait

    def _work(self, execute: Executor) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                # after a failure the rest of the queue is only drained, never sent
                if self._worker_error is None and not self._stopping.is_set():
                    request = self._request(item)
                    request.http = self._http  # the worker's own connection
                    self._fetch(request, item, self._worker_quota, execute)
            except BaseException as error:  # handed to the caller's thread, raised there
                self._worker_error = error
            finally:
                self._queue.task_done()

    def _check_worker(self) -> None:
        if self._worker_error is not None:
            raise self._worker_error

    def _wait_for_worker(self) -> None:
        if self._worker is not None:
            self._queue.join()
        self._check_worker()
