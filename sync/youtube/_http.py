"""The HTTP transport the API client runs on: httplib2, bounded (a total deadline per
request, a size cap, no redirects). Its own module so that httplib2 loads only when a
client is built (`_client.build_client`)."""
from __future__ import annotations

import contextlib
import socket
import threading
from typing import Optional

import httplib2

from sync.core.errors import DeadlineExceeded
from sync.core.deadlines import Deadline, time_limit
from sync.core.limits import MAX_RESPONSE_BYTES

from ._capped import CappedResponse, RequestTooSlow


class _CutOffable:
    """A connection that will not reconnect once its request was cut off: httplib2
    re-sends a request on a fresh socket after some failures, which would send a
    request the quota never counted and start the wait over."""

    cut: Optional[threading.Event] = None

    def connect(self):
        if self.cut is not None and self.cut.is_set():
            raise RequestTooSlow("cut off")
        super().connect()


class _CappedHTTPConnection(_CutOffable, httplib2.HTTPConnectionWithTimeout):
    response_class = CappedResponse


class _CappedHTTPSConnection(_CutOffable, httplib2.HTTPSConnectionWithTimeout):
    response_class = CappedResponse


class BoundedHttp(httplib2.Http):
    """httplib2 with a total deadline per request, a size cap and no redirects.

    The socket timeout only bounds each read; the deadline bounds the whole request,
    so a server dripping a byte every few seconds cannot hold a sync. The Data API
    never redirects: a 3xx comes back as an HttpError instead of a loop followed.
    """

    def __init__(self, timeout: float):
        super().__init__(timeout=timeout, decode_limit_hard=MAX_RESPONSE_BYTES)
        self.follow_redirects = False
        self.request_timeout = timeout
        self._cut = threading.Event()  # set: the request in flight was cut off

    def request(self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None):
        if connection_type is None:
            connection_type = _CappedHTTPSConnection if str(uri).startswith("https:") else _CappedHTTPConnection
        if threading.current_thread() is not threading.main_thread():
            return self._watched_request(uri, method, body, headers, redirections, connection_type)
        deadline = Deadline(self.request_timeout, "one YouTube API request")
        try:
            with time_limit(deadline):
                return super().request(uri, method, body, headers, redirections, connection_type)
        except DeadlineExceeded:
            raise RequestTooSlow(f"no complete answer within {self.request_timeout:g} s (--timeout)") from None

    # A deadline's alarm (SIGALRM) reaches the main thread only: elsewhere a watchdog
    # timer shuts the request's socket down when its time is up.
    def _watched_request(self, *args):
        cut = self._cut = threading.Event()
        for conn in self.connections.values():
            conn.cut = cut
        watchdog = threading.Timer(self.request_timeout, self.cut_off, args=(cut,))
        watchdog.daemon = True
        watchdog.start()
        try:
            return super().request(*args)
        except Exception:
            if cut.is_set():
                raise RequestTooSlow(f"no complete answer within {self.request_timeout:g} s (--timeout)") from None
            raise
        finally:
            watchdog.cancel()
            if cut.is_set():  # its sockets are shut down: the next request starts afresh
                for conn in list(self.connections.values()):
                    conn.close()

    def cut_off(self, cut: Optional[threading.Event] = None) -> None:
        """End the request in flight now (callable from any thread): its socket is shut
        down and it raises `RequestTooSlow`; it does not reconnect. With `cut`, only if
        that request is still the one in flight (a late watchdog leaves the next alone)."""
        if cut is not None and cut is not self._cut:
            return
        cut = self._cut
        cut.set()
        for conn in list(self.connections.values()):
            conn.cut = cut
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
