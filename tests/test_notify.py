"""Organizers are told, once, what changed for them (issue 24): `talks sync --notify URL`
and TALKS_NOTIFY deliver one digest through Apprise to a receiver on 127.0.0.1.

The story: a synthetic playlist through the stand-in Data API (tests/apiserver.py) and the
real page of 2026-08-11 cut to three talks whose lines link no video (only the code in a
video's title ties it to its talk, as in tests/test_reports_once.py). At first S06E03's
recording is not uploaded yet and a trailer belongs to no talk; later S05E01's recording
goes private, S06E03's is uploaded, and syncs fail.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tenacity import wait_none

from sync import youtube
from sync.cli import cli

from .apiserver import deleted_item, make_video, private_item, running_api_server
from .conftest import FIXTURES, rows
from .receiver import running_receiver

KEY = "TEST-KEY-notify.1"
PLAYLIST = "PLnotifyLookingGlass"
TODAY = "2026-08-11"
WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
SITE = "https://talks.example.org"

ZAJAC = "cQGKHaYj4Ak"  # S05E01's recording
REINKE = "FQ0MpMqmwlQ"  # S05E02's
ALIKHANI = "_ZzRJFdK2pI"  # S06E03's, uploaded late
TRAILER = "trailer0001"
ZAJAC_TITLE = "Ground Truth Or Dare: Factors Affecting The Creation Of Medical Datasets For Training AI"
KEPT = ("S05E01", "S05E02", "S06E03")


def upload(video_id: str, title: str, published: str = "2024-03-28") -> dict:
    return make_video(video_id, title, published_at=f"{published}T10:00:00Z", added_at=f"{published}T11:00:00Z")


TRAILER_ITEM = upload(TRAILER, "Datasets through the Looking-Glass: series trailer")
ZAJAC_ITEM = upload(ZAJAC, "S05E01 - Ground Truth Or Dare: Factors Affecting The Creation Of Medical Datasets")
REINKE_ITEM = upload(REINKE, "S05E02 - Why your Dataset Matters: Choosing the Right Metrics for Biomedical Image Analysis")
ALIKHANI_ITEM = upload(ALIKHANI, "S06E03 - Towards Equity: Overcoming Fairness Challenges in Multimodal Learning",
                       "2025-03-01")
FIRST = [TRAILER_ITEM, ZAJAC_ITEM, REINKE_ITEM]
ZAJAC_PRIVATE = [TRAILER_ITEM, private_item(ZAJAC, added_at="2024-03-28T11:00:00Z"), REINKE_ITEM]


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch):
    monkeypatch.setattr(youtube, "BACKOFF", wait_none())
    monkeypatch.setattr("sync.core.redact._KEPT", [])  # the URLs' secrets stay with each test


@pytest.fixture
def hook():
    with running_receiver() as receiver:
        yield receiver


class Story:
    """Syncs of one database against the stand-in API, each with the notification options given."""

    def __init__(self, tmp_path, monkeypatch):
        self.tmp_path, self.monkeypatch = tmp_path, monkeypatch
        self.db_path = str(tmp_path / "talks.db")
        page = tmp_path / "webinar.md"
        lines = []
        for line in WEBINAR.read_text("utf-8").splitlines(keepends=True):
            code = re.match(r"\* (S\d\dE\d\d) - ", line)
            if code and code[1] not in KEPT:
                continue
            if code:
                line = re.sub(r"\[([^\]]+)\]\(https?://youtu[^)]*\)", r"\1", line)
            lines.append(line)
        page.write_text("".join(lines), "utf-8")
        self.page = page

    def sync(self, entries: list[dict], *notify_args: str, page=None, expect: int = 0):
        with running_api_server(KEY) as api:
            self.monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
            self.monkeypatch.setenv("YOUTUBE_API_ENDPOINT", api.endpoint)
            api.add_playlist(PLAYLIST, entries)
            result = CliRunner().invoke(cli, [
                "sync", "--db", self.db_path, "--page", str(page or self.page), "--no-talks-page", "--today", TODAY,
                "--source", "api", "--playlist", PLAYLIST, "-q", *notify_args])
        assert result.exit_code == expect, (result.output, result.exc_info)
        return result

    def notify(self, *args: str, expect: int = 0, env=None):
        result = CliRunner().invoke(cli, ["notify", "--db", self.db_path, *args], env=env)
        assert result.exit_code == expect, (result.output, result.exc_info)
        return result


@pytest.fixture
def story(tmp_path, monkeypatch):
    monkeypatch.delenv("TALKS_NOTIFY", raising=False)
    monkeypatch.delenv("TALKS_SITE_URL", raising=False)
    return Story(tmp_path, monkeypatch)


def lines(message: dict) -> list[str]:
    return message["message"].splitlines()


def test_a_first_sync_announces_what_is_to_do_with_codes_titles_and_links(story, hook):
    story.sync(FIRST, "--notify", hook.url(), "--site-url", SITE + "/")
    [message] = hook.messages
    assert message["title"] == "talks: 2 to do"
    assert lines(message) == [
        "To do:",
        f"- S06E03 “Towards Equity: Overcoming Fairness Challenges in Multimodal Learning” <{SITE}/talk/S06E03>:"
        " no recording yet",
        f"- Video https://www.youtube.com/watch?v={TRAILER} “Datasets through the Looking-Glass: series trailer”"
        " (public) belongs to no talk",
    ]
    # the first sync's matches built the archive: they are not news
    assert "New" not in message["message"]
    [sent] = rows(story.db_path, "SELECT status, to_do, new, solved, title FROM notifications")
    assert sent == {"status": "sent", "to_do": 2, "new": 0, "solved": 0, "title": "talks: 2 to do"}


def test_an_unchanged_resync_sends_nothing(story, hook, monkeypatch):
    monkeypatch.setenv("TALKS_NOTIFY", hook.url())
    story.sync(FIRST)
    story.sync(FIRST)
    story.notify()
    assert hook.attempts == 1
    assert len(rows(story.db_path, "SELECT * FROM notifications")) == 1


def test_a_recording_going_private_sends_one_message_naming_its_talk(story, hook, monkeypatch):
    monkeypatch.setenv("TALKS_NOTIFY", hook.url())
    story.sync(FIRST)
    story.sync(ZAJAC_PRIVATE)
    assert hook.attempts == 2
    message = hook.messages[-1]
    assert message["title"] == "talks: 1 to do"
    assert lines(message) == [
        "To do:",
        f"- S05E01 “{ZAJAC_TITLE}”: its recording is private",
    ]
    story.sync(ZAJAC_PRIVATE)  # still private: said once
    assert hook.attempts == 2
    story.sync(FIRST)  # public again: solved
    assert lines(hook.messages[-1]) == [
        "Solved:",
        f"- S05E01 “{ZAJAC_TITLE}”:"
        " no longer missing (was: its recording is private)",
    ]


def test_a_receiver_that_fails_gets_the_same_events_at_the_next_run(story, hook):
    url = hook.url()
    story.sync(FIRST, "--notify", url)
    hook.status = 500
    failed = story.sync([*FIRST, ALIKHANI_ITEM], "--notify", url)  # the sync itself succeeds
    assert "could not notify json:// " in failed.output and "error=500" in failed.output
    assert hook.attempts == 2 and len(hook.messages) == 1
    hook.status = 200
    story.sync([*FIRST, ALIKHANI_ITEM], "--notify", url)  # nothing changed since: the failed digest goes now
    assert hook.attempts == 3
    message = hook.messages[-1]
    assert message["title"] == "talks: 1 new recording"
    assert lines(message) == [  # its missing recording's end is this line, not another
        "New:",
        "- S06E03 “Towards Equity: Overcoming Fairness Challenges in Multimodal Learning”: new recording"
        f" https://www.youtube.com/watch?v={ALIKHANI}",
    ]
    attempts = rows(story.db_path, "SELECT status, title, body, error FROM notifications ORDER BY id")
    assert [a["status"] for a in attempts] == ["sent", "failed", "sent"]
    assert attempts[1]["body"] == attempts[2]["body"] == message["message"]
    assert "error=500" in attempts[1]["error"]
    [target] = rows(story.db_path, "SELECT failures, last_error, delivered_event FROM notify_targets")
    assert target["failures"] == 0 and target["last_error"] is None
    story.sync([*FIRST, ALIKHANI_ITEM], "--notify", url)
    assert hook.attempts == 3  # delivered once, never again


def test_a_failed_sync_is_announced_once_and_its_end_too(story, hook, monkeypatch):
    monkeypatch.setenv("TALKS_NOTIFY", hook.url())
    story.sync(FIRST)
    assert hook.attempts == 1
    gone = story.tmp_path / "no-such-page.md"
    story.sync(FIRST, page=gone, expect=1)
    assert hook.attempts == 2
    message = hook.messages[-1]
    assert message["title"] == "talks: 1 to do"
    [line] = [line for line in lines(message) if line.startswith("- ")]
    assert line.startswith("- The scheduled sync is unhealthy: the last sync (run 2) failed: ")
    assert "no-such-page.md" in line
    story.sync(FIRST, page=gone, expect=1)  # still failing: said once
    assert hook.attempts == 2
    story.sync(FIRST)
    assert lines(hook.messages[-1]) == ["Solved:", "- The scheduled sync is healthy again."]
    assert hook.attempts == 3


def test_a_problem_that_came_and_went_while_delivery_failed_is_told_as_solved(story, hook):
    url = hook.url()
    story.sync(FIRST, "--notify", url)
    hook.status = 500
    story.sync(ZAJAC_PRIVATE, "--notify", url)
    story.sync(FIRST, "--notify", url)
    hook.status = 200
    story.notify("--notify", url)
    assert lines(hook.messages[-1]) == [
        "Solved:",
        f"- S05E01 “{ZAJAC_TITLE}”: no longer missing (was: its recording is private)",
    ]


def test_a_recording_deleted_after_going_private_is_one_line_saying_both(story, hook):
    url = hook.url()
    story.sync(FIRST, "--notify", url)
    story.sync(ZAJAC_PRIVATE, "--notify", url)
    story.sync([TRAILER_ITEM, deleted_item(ZAJAC, added_at="2024-03-28T11:00:00Z"), REINKE_ITEM], "--notify", url)
    assert hook.messages[-1]["title"] == "talks: 1 to do"
    assert lines(hook.messages[-1]) == [
        "To do:",
        f"- S05E01 “{ZAJAC_TITLE}”: its recording was deleted (was: its recording is private)",
    ]


def test_a_url_added_later_hears_what_is_open_now_and_the_first_hears_nothing_again(story, hook):
    first, second = hook.url(path="first"), hook.url(path="second")
    story.sync(FIRST, "--notify", first)
    story.sync(ZAJAC_PRIVATE, "--notify", first)
    story.sync(ZAJAC_PRIVATE, "--notify", first, "--notify", second)
    assert [r.path for r in hook.received] == ["/first", "/first", "/second"]
    assert hook.messages[-1]["title"] == "talks: 3 to do"  # S05E01, S06E03, the trailer: nothing solved
    assert [line[:8] for line in lines(hook.messages[-1])] == ["To do:", "- S05E01", "- S06E03", "- Video "]
    targets = rows(story.db_path, "SELECT label FROM notify_targets ORDER BY first_seen_at, target")
    assert len(targets) == 2 and all(re.fullmatch(r"json:// [0-9a-f]{8}", t["label"]) for t in targets)


def test_notify_dry_run_prints_the_digest_and_changes_and_sends_nothing(story, hook, monkeypatch):
    story.sync(FIRST)  # no URL: nothing told, nothing stored
    tables = ("notify_events", "notify_targets", "notifications", "notify_state")
    assert [rows(story.db_path, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables] == [0, 0, 0, 0]
    shown = story.notify("--dry-run", "--site-url", SITE)
    assert shown.output.startswith("== to a URL not seen before\ntalks: 2 to do\n\nTo do:\n- S06E03 ")
    assert f"<{SITE}/talk/S06E03>" in shown.output
    monkeypatch.setenv("TALKS_NOTIFY", hook.url())
    again = story.notify("--dry-run", "--site-url", SITE)
    assert re.match(r"== to json:// [0-9a-f]{8}\ntalks: 2 to do\n", again.output)
    assert hook.attempts == 0
    assert [rows(story.db_path, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables] == [0, 0, 0, 0]
    story.notify()  # now for real
    assert hook.messages[0]["title"] == "talks: 2 to do"
    known = story.notify("--dry-run", env={"TALKS_NOTIFY": ""})  # no URL given: the targets the database knows
    assert re.match(r"nothing to send", known.output)


def test_a_sync_that_stopped_running_is_unhealthy_after_max_age(story, hook):
    url = hook.url()
    story.sync(FIRST, "--notify", url)
    story.notify("--notify", url, "--max-age", "26h", "--now", "2099-01-01T00:00:00")
    [line] = lines(hook.messages[-1])[1:]
    assert line.startswith("- The scheduled sync is unhealthy: no sync succeeded within 26 h (the last success")


def test_bad_notification_settings_are_usage_errors_that_do_not_show_the_url(story, monkeypatch):
    result = CliRunner().invoke(cli, ["sync", "--db", story.db_path, "--snapshot", "--notify", "json://u:Pa55word@"])
    assert result.exit_code == 2 and "Pa55word" not in result.output
    assert "--notify: notification URL 1 (json://…) is not one Apprise can use" in result.output
    monkeypatch.setenv("TALKS_NOTIFY", "ntfy://topic-one just-a-token-9")
    result = CliRunner().invoke(cli, ["notify", "--db", story.db_path])
    assert result.exit_code == 2 and "TALKS_NOTIFY: notification URL 2 is no URL (scheme://...)" in result.output
    assert "just-a-token-9" not in result.output
    monkeypatch.delenv("TALKS_NOTIFY")
    result = CliRunner().invoke(cli, ["notify", "--db", story.db_path])
    assert result.exit_code == 2 and "no notification URL" in result.output
    result = CliRunner().invoke(cli, ["notify", "--db", story.db_path, "--dry-run", "--site-url", "javascript:x"])
    assert result.exit_code == 2 and "must be an http(s) URL" in result.output
    assert not Path(story.db_path).exists()  # nothing ran
    result = CliRunner().invoke(cli, ["notify", "--db", story.db_path, "--dry-run"])
    assert result.exit_code == 1 and "does not exist; build it first" in result.output


def test_notify_waits_for_no_sync_it_finds_holding_the_lock(story, hook):
    from sync.core.lock import sync_lock

    story.sync(FIRST)
    with sync_lock(story.db_path):
        held = story.notify("--notify", hook.url(), expect=3)
    assert "another sync holds the lock" in held.output and hook.attempts == 0
    story.notify("--notify", hook.url())
    assert hook.attempts == 1


def test_a_sync_without_notification_urls_does_not_load_apprise(tmp_path):
    probe = ("import sys; from sync.cli import cli; cli.main(sys.argv[1:], standalone_mode=False);"
             " print('apprise' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "TALKS_NOTIFY"}
    done = subprocess.run([sys.executable, "-c", probe, "sync", "--snapshot", "--db", str(tmp_path / "t.db"), "-q"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr
