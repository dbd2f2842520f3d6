"""Pages over HTTP: fetched with retries from a local server, refused when unusable."""
import http.server
import threading

import pytest
import tenacity

from sync.pages import sources
from sync.cli import cli

from .conftest import FIXTURES, rows

WEBINAR = (FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md").read_bytes()
TALKS = (FIXTURES / "pages" / "2026-08-11_dd744744_webinar_talks.md").read_bytes()


class PageServer(http.server.ThreadingHTTPServer):
    """Serves /webinar.md and /webinar_talks.md; `failures` 503s come first."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), PageHandler)
        self.pages = {"/webinar.md": WEBINAR, "/webinar_talks.md": TALKS}
        self.failures = 0
        self.hits = []

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class PageHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        if self.server.failures:
            self.server.failures -= 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.server.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def page_server(monkeypatch):
    # no real waiting between retries in tests
    monkeypatch.setattr(sources, "_get", sources._get.retry_with(wait=tenacity.wait_none()))
    server = PageServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def sync_urls(runner, db_path, server, webinar="/webinar.md"):
    return runner.invoke(cli, [
        "sync", "--db", db_path, "--source", "none", "--today", "2026-08-11",
        "--page", server.base + webinar, "--talks-page", server.base + "/webinar_talks.md",
    ])


def test_pages_are_fetched_over_http_with_retries(runner, db_path, page_server):
    page_server.failures = 2
    result = sync_urls(runner, db_path, page_server)
    assert result.exit_code == 0, result.output
    assert page_server.hits == ["/webinar.md"] * 3 + ["/webinar_talks.md"]
    assert rows(db_path, "select count(*) n from talks where code is not null") == [{"n": 26}]
    assert page_server.base in rows(db_path, "select pages from sync_runs")[0]["pages"]


def test_missing_page_url_is_one_sentence(runner, db_path, page_server):
    result = sync_urls(runner, db_path, page_server, "/nope.md")
    assert result.exit_code == 1
    assert f"Error: {page_server.base}/nope.md answered HTTP 404" in result.stderr


def test_server_that_keeps_failing_is_reported_after_retries(runner, db_path, page_server):
    page_server.failures = 10
    result = sync_urls(runner, db_path, page_server)
    assert result.exit_code == 1
    assert "answered HTTP 503" in result.stderr
    assert len(page_server.hits) == 4  # four attempts, then stop
    assert rows(db_path, "select status from sync_runs") == [{"status": "failed"}]
