"""videos.list in batches of 50 ids, sent while the next playlistItems page is on its way.

A playlist's pages form a chain (each needs the previous page's token), so they go out
one after the other. A batch that fills up while pages are still coming is sent by one
of two worker threads, each on its own HTTP connection (httplib2 objects are not
thread-safe), so a full sync costs about one round trip per page instead of two. Two,
because a videos.list answer (50 whole videos) takes a little longer than a page: one
worker fell behind the chain, and at 5,000 videos 10-17 batches were still to go after
the last page. The batches are the ones a serial run sends (same ids, same quota); with
two in flight they may reach YouTube in another order. Batches that fill after the last
page, and the last partial one, go out from the calling thread while the workers still
send theirs; it is also the only thread a sync deadline (SIGALRM) can interrupt: each
worker's connection has its own watchdog (`_http.BoundedHttp`).
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Iterable, Optional

import tenacity
from tenacity import stop_when_event_set

from sync.core.records import VideoRecord

from ._clean import clean_video, secret_keys
from ._client import PAGE_SIZE, Executor, call_api
from ._parse import videos_answered
from ._results import Quota

VIDEO_PARTS = "snippet,contentDetails,statistics,status"
VIDEO_WORKERS = 2
_STOP_WAIT = 5.0  # s to wait for a worker beyond its request's own timeout, after a failure


class _Stopped(Exception):
    """The caller or the other worker failed while this worker waited to retry: it gives up
    (never raised to the caller)."""


class VideoBatches:
    """Collects video ids in first-seen order and describes them, 50 to a request.

    `add(ids, more_pages=True)` while the page chain goes on; `finish()` sends the rest
    and returns what YouTube said, by id; `close()` always (it stops the workers and adds
    their requests to `quota`). `worker_https` are the workers' connections, one each;
    with none every batch goes out from the calling thread, in order (the serial run the
    fault tests count requests of).

    Each answer's records are cleaned (`_clean`) as they arrive, and handed to
    `on_described(records)` then, from whichever thread fetched them: a caller can
    store them while the next pages are on their way.
    """

    def __init__(
        self, client, quota: Quota, execute: Executor, *, worker_https=(),
        secrets: tuple[str, ...] = (), on_described: Optional[Callable[[list[VideoRecord]], None]] = None,
    ):
        self._videos = client.videos()  # once: building a resource costs milliseconds
        self._quota = quota
        self._execute = execute
        self._seen: set[str] = set()
        self._pending: list[str] = []
        self.order: list[str] = []
        self.found: dict[str, VideoRecord] = {}
        self._https = list(worker_https)
        self._workers: list[threading.Thread] = []
        self._queue: "queue.Queue" = queue.Queue()
        self._stopping = threading.Event()
        self._worker_quotas = [Quota() for _ in self._https]  # one each: `+=` is not atomic across threads
        self._worker_error: Optional[BaseException] = None  # the first; it stops the others
        self._error_lock = threading.Lock()
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
            if more_pages and self._https:
                self._submit(batch)
            else:  # while the workers still send theirs: no page is left to wait for
                self._fetch(self._request(batch), batch, self._quota, self._execute)
                self._check_worker()

    def finish(self) -> dict[str, VideoRecord]:
        for start in range(0, len(self._pending), PAGE_SIZE):
            self._check_worker()
            batch = self._pending[start : start + PAGE_SIZE]
            self._fetch(self._request(batch), batch, self._quota, self._execute)
        self._pending = []
        self._wait_for_worker()
        return self.found

    def close(self, at_once: bool = False) -> None:
        """Stop the workers and count what they spent.

        A request one has in flight is let finish (its watchdog bounds it), so that every
        request counted reached YouTube and every one that reached it is counted; they
        then send nothing more. Cut off only if it somehow outlives its watchdog, or
        `at_once` (the process was told to stop: a request already sent stays counted).
        """
        if self._closed:
            return
        self._closed = True
        if self._workers:
            self._stopping.set()
            for _ in self._workers:
                self._queue.put(None)
            if at_once:
                for http in self._https:
                    http.cut_off()
            # one wait for all: they run side by side, each bounded by its watchdog
            _join_all(self._workers, max(http.request_timeout for http in self._https) + _STOP_WAIT)
            for worker, http in zip(self._workers, self._https):
                if worker.is_alive():
                    http.cut_off()
            _join_all(self._workers, _STOP_WAIT)
        for http in self._https:
            http.close()
        for spent in self._worker_quotas:
            self._quota.requests += spent.requests
            self._quota.units += spent.units

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
        if not self._workers:
            retrying = self._execute.retry
            for number, (http, spent) in enumerate(zip(self._https, self._worker_quotas), 1):
                # its own retry state (tenacity keeps one per wrapped function), and it stops
                # retrying once the caller has failed
                execute = self._execute.retry_with(
                    stop=retrying.stop | stop_when_event_set(self._stopping), sleep=self._sleep_unless_stopped(retrying.sleep)
                )
                worker = threading.Thread(target=self._work, args=(http, spent, execute), name=f"videos.list {number}",
                                          daemon=True)
                self._workers.append(worker)
                worker.start()
        self._queue.put(batch)  # the worker builds the request: the page chain's thread stays free

    def _sleep_unless_stopped(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """The retry wait: cut short when the caller or the other worker fails, and then no
        further attempt."""

        def wait(seconds: float) -> None:
            if sleep is tenacity.nap.sleep:
                self._stopping.wait(seconds)
            else:
                sleep(seconds)  # a test's recorder
            if self._stopping.is_set():
                raise _Stopped()

        return wait

    def _work(self, http, spent: Quota, execute: Executor) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                # after a failure the rest of the queue is only drained, never sent
                if self._worker_error is None and not self._stopping.is_set():
                    request = self._request(item)
                    request.http = http  # the worker's own connection
                    self._fetch(request, item, spent, execute)
            except BaseException as error:  # handed to the caller's thread, raised there
                with self._error_lock:
                    if self._worker_error is None and not isinstance(error, _Stopped):
                        self._worker_error = error
                        self._stopping.set()  # the other worker: no new batch, no retry
            finally:
                self._queue.task_done()

    def _check_worker(self) -> None:
        if self._worker_error is not None:
            raise self._worker_error

    def _wait_for_worker(self) -> None:
        if self._workers:
            self._queue.join()
        self._check_worker()


def _join_all(threads: list[threading.Thread], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
