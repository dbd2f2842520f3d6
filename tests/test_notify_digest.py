"""The digest read in ten seconds: grouped, one clean line an event, at most MAX_LINES of
them with a count for the rest, links to the talk pages when the site's address is known."""
from __future__ import annotations

import pytest

from sync.core.redact import keep_secret
from sync.ops.notify.digest import MAX_LINES, compose
from sync.ops.notify.events import Event
from sync.ops.notify.state import Pending
from sync.ops.notify.targets import process_secrets

SITE = "https://talks.example.org"


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch):
    """Secrets a test hands sync.core.redact stay with that test."""
    monkeypatch.setattr("sync.core.redact._KEPT", [])


def missing(n: int, reason: str = "no_video") -> Event:
    code = f"S{n // 10 + 1:02d}E{n % 10 + 1:02d}"
    return Event(f"missing:{code}:{reason}", "missing", n, code, f"Talk {n}", None, reason)


def test_at_most_max_lines_with_a_count_for_the_rest():
    pending = Pending(to_do=[missing(n) for n in range(25)], new=[
        Event("recording:S09E01:abcdefghijk", "recording", 90, "S09E01", "New one", "abcdefghijk")])
    digest = compose(pending, SITE)
    items = [line for line in digest.body.splitlines() if line.startswith("- ")]
    assert len(items) == MAX_LINES == 20
    assert digest.title == "talks: 25 to do, 1 new recording"
    assert digest.body.splitlines()[-1] == (f"… and 6 more (5 to do, 1 new): see `talks missing`, `talks status` or"
                                            f" {SITE}/desk.")
    assert "New:" not in digest.body  # the rest is counted, not cut mid-group


def test_hostile_titles_stay_one_short_plain_line():
    title = "Evil\ntitle\r\n- S99E99 fake line\u202e<script>x</script>\x00" + "long " * 40
    digest = compose(Pending(to_do=[Event("missing:S01E01:private", "missing", 1, "S01E01", title, None, "private")]))
    [line] = [line for line in digest.body.splitlines() if line.startswith("- ")]
    assert line.startswith("- S01E01 “Evil title - S99E99 fake line <script>x</script> long long")
    assert "\u202e" not in line and "\x00" not in line and len(digest.body.splitlines()) == 2
    assert "…”: its recording is private" in line  # cut, and plain text: Apprise escapes it per service


def test_links_and_the_replacement_of_a_stale_link():
    pending = Pending(to_do=[
        Event("stale:S03E02:oldoldold01", "stale", 7, "S03E02", "Skin", "oldoldold01", "not_recording",
              "newnewnew01"),
        Event("missing:#12:never_listed", "missing", 12, None, "Announced once", None, "never_listed"),
    ])
    body = compose(pending, SITE).body
    assert body.splitlines() == [
        "To do:",
        f"- S03E02 “Skin” <{SITE}/talk/S03E02>: the page's link https://www.youtube.com/watch?v=oldoldold01 is not"
        " the talk's recording; replace it with https://www.youtube.com/watch?v=newnewnew01",
        f"- “Announced once” <{SITE}/talk/12>: announced, never listed",
    ]
    assert "<https://" not in compose(pending).body  # no site address: the code only


def test_a_secret_in_a_failed_syncs_error_is_blanked_in_the_digest():
    url = "ntfy://user:hunter22-secret@ntfy.example.org/topic-secret-1"
    keep_secret(*process_secrets(url))
    health = Event("health:unhealthy", "health", reason=f"the last sync (run 3) failed: {url} refused")
    body = compose(Pending(to_do=[health])).body
    assert "hunter22-secret" not in body and "topic-secret-1" not in body and "REDACTED" in body


def test_nothing_pending_is_an_empty_digest():
    digest = compose(Pending())
    assert not digest and digest.counts == {"to_do": 0, "new": 0, "solved": 0}
