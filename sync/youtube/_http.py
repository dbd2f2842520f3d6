"""The HTTP transport the API client runs on: httplib2, bounded (a total deadline per
request, a size cap, no redirects). Its own module so that httplib2 loads only when a
client is built (`_client.build_client`)."""
from __future__ import annotations

import httplib2

from sync.errors import DeadlineExceeded
from sync.limits import MAX_RESPONSE_BYTES, Deadline, time_limit

from ._client import _CappedResponse, _RequestTooSlow


class _CappedHTTPConnection(httplib2.HTTPConnectionWithTimeout):
    response_class = _CappedResponse


class _CappedHTTPSConnection(httplib2.HTTPSConnectionWithTimeout):
    response_class = _CappedResponse


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

    def request(self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None):
        if connection_type is None:
            connection_type = _CappedHTTPSConnection if str(uri).startswith("https:") else _CappedHTTPConnection
        deadline = Deadline(self.request_timeout, "one YouTube API request")
        try:
            with time_limit(deadline):
                return super().request(uri, method, body, headers, redirections, connection_type)
        except DeadlineExceeded:
            raise _RequestTooSlow(f"no complete answer within {self.request_timeout:g} s (--timeout)") from None
