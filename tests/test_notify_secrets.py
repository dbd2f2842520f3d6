"""A notification URL's secrets (password, token in the path, a header's value) reach no
database row, no log line (text or JSON, -v included) and no page of the site: real
processes, deliveries that succeed, are refused (500) and find no server, a failed sync,
a dry run; then the file's bytes and Datasette's pages."""
from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, TODAY
from tests.datasette_process import ROOT, free_port, serving, talks_command
from tests.receiver import running_receiver

pytestmark = pytest.mark.slow

PASSWORD = "pw-Sekr1t.notify-4711"
TOKEN = "tok-Sekr1t.path-0815"
HEADER = "hdr-Sekr1t.value-2342"
SECRETS = (PASSWORD, TOKEN, HEADER)
WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def run(*args: str, notify: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YOUTUBE_", "TALKS_"))}
    if notify:
        env["TALKS_NOTIFY"] = notify
    return subprocess.run(talks_command(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def get(url: str) -> str:
    try:
        with _NO_PROXY.open(url, timeout=20) as response:
            return response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{url}: HTTP {error.code}") from None


def test_a_notification_urls_secrets_reach_no_row_no_log_line_and_no_page(tmp_path):
    db = str(tmp_path / "talks.db")
    pages = ["--source", "none", "--page", str(WEBINAR), "--no-talks-page", "--today", TODAY, "--db", db]
    outputs = []
    with running_receiver() as hook:
        url = hook.url("notify-user", PASSWORD, path=f"hooks/{TOKEN}", query=f"+X-Api-Key={HEADER}")
        nobody = f"json://notify-user:{PASSWORD}@127.0.0.1:{free_port()}/hooks/{TOKEN}"

        def talks(*args, notify="", expect=0):
            done = run(*args, notify=notify)
            outputs.append(done.stdout + done.stderr)
            assert done.returncode == expect, outputs[-1]
            return done

        talks("sync", *pages, "-v", "--notify", url)  # text logs, every step
        assert len(hook.messages) == 1 and "To do:" in hook.messages[0]["message"]
        assert hook.received[0].path == f"/hooks/{TOKEN}"  # the URL was used whole
        talks("notify", "--db", db, "--dry-run", notify=f"{url} {nobody}")
        hook.status = 500
        gone = [*pages[:3], str(tmp_path / "gone.md"), *pages[4:]]
        failed = talks("sync", *gone, "--log-format", "json", expect=1, notify=f"{url} {nobody}")
        logged = [json.loads(line) for line in failed.stderr.splitlines()]
        warnings = [line for line in logged if line["level"] == "WARNING"]
        assert len(warnings) == 2 and all(w["step"] == "notify" for w in warnings), failed.stderr
        assert any("error=500" in w["error"] for w in warnings)
        assert logged[-1]["level"] == "ERROR" and "gone.md" in logged[-1]["error"]
        talks("notify", "--db", db, "-v", expect=1, notify=f"{url} {nobody}")
        hook.status = 200
        talks("notify", "--db", db, "--log-format", "json", notify=url)
        assert "unhealthy" in hook.messages[-1]["message"]
        bad = talks("notify", "--db", db, "--notify", f"nosuchservice://{TOKEN}:{PASSWORD}@x", expect=2)
        assert "notification URL 1 (nosuchservice://…) is not one Apprise can use" in bad.stderr

    for output in outputs:
        assert "Traceback" not in output, output
        for secret in SECRETS:
            assert secret not in output, output
    files = [p for p in tmp_path.iterdir() if p.name.startswith("talks.db")]
    for file in files:
        data = file.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, file
    sent = json.loads(run_sql(db, "select status, label from notifications"))
    assert {row["status"] for row in sent} == {"sent", "failed"}
    assert all(row["label"].startswith("json:// ") and len(row["label"]) == len("json:// ") + 8 for row in sent)

    with serving(Path(db), tmp_path / "datasette.log") as base:
        bodies = {page: get(base + page) for page in [
            "/", "/desk", "/talks", "/talks/notifications", "/talks/notify_targets", "/talks/notify_events",
            "/talks/notify_state", "/talks/notifications.json?_shape=array",
            "/talks.json?sql=select+*+from+notify_targets",
        ]}
    assert "json:// " in bodies["/talks/notifications"]
    for page, body in bodies.items():
        for secret in SECRETS:
            assert secret not in body, page


def run_sql(db: str, sql: str) -> str:
    import sqlite3

    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return json.dumps([dict(r) for r in con.execute(sql)])
    finally:
        con.close()
