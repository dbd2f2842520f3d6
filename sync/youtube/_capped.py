"""What a bounded API request can fail with, and the response that refuses an answer past
the size cap. Plain http.client: `_client` classifies these errors without loading
httplib2, and `_http` (the transport) raises them."""
from __future__ import annotations

import http.client

from sync.core.limits import MAX_RESPONSE_BYTES


class ResponseTooLarge(http.client.HTTPException):
    """An answer past MAX_RESPONSE_BYTES: refused before it is read whole."""


class CappedResponse(http.client.HTTPResponse):
    """http.client's response, but a body larger than the cap is refused, not read."""

    def read(self, amt=None):
        if amt is not None:
            return super().read(amt)
        if self.length is not None and self.length > MAX_RESPONSE_BYTES:
            self.close()  # hang up now: the rest is never read
            raise ResponseTooLarge(f"Content-Length {self.length}")
        chunks, total = [], 0
        while True:
            chunk = super().read(64 * 1024)
            if not chunk:
                if self.length:  # the server closed before the promised Content-Length
                    raise http.client.IncompleteRead(b"".join(chunks), self.length)
                return b"".join(chunks)
            total += len(chunk)
            if total > MAX_RESPONSE_BYTES:
                self.close()
                raise ResponseTooLarge(f"more than {MAX_RESPONSE_BYTES} bytes")
            chunks.append(chunk)


class RequestTooSlow(TimeoutError):
    """One request had no complete answer within its total deadline (retried like a timeout)."""
