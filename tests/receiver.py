"""A notification receiver on 127.0.0.1 for Apprise's `json://` URLs: it keeps every
POST (path, headers, JSON body) and answers with the status the test sets.

    with running_receiver() as hook:
        url = hook.url("alice", "s3cret")        # json://alice:s3cret@127.0.0.1:PORT/hooks/...
        hook.status = 500                          # the next deliveries fail
        assert [m["title"] for m in hook.messages] == [...]
"""
from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, Optional

MAX_BODY = 1024 * 1024


@dataclass
class Received:
    path: str
    authorization: Optional[str]
    body: dict


@dataclass
class Receiver:
    port: int
    status: int = 200
    received: list[Received] = field(default_factory=list)
    attempts: int = 0  # every POST, answered 200 or not

    def url(self, user: str = "", password: str = "", path: str = "hooks/talks", query: str = "") -> str:
        auth = f"{user}:{password}@" if user else ""
        return f"json://{auth}127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    @property
    def messages(self) -> list[dict]:
        """The bodies of the deliveries it took (answered 2xx)."""
        return [r.body for r in self.received]


@contextlib.contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            receiver.attempts += 1
            status = receiver.status
            if 200 <= status < 300:
                receiver.received.append(Received(self.path, self.headers.get("Authorization"), json.loads(body)))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
