"""One message a run, read in ten seconds: what is to do, what is new, what was solved.

Plain text: Apprise turns it into what each service shows (escaping it for HTML and
Markdown ones), so a title from a page stays text everywhere. Every value from a page
or YouTube is cleaned to one bounded line here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from sync.core.redact import redact
from sync.core.video_ids import watch_url

from .events import Event
from .state import Pending

MAX_LINES = 20  # event lines in one message; a count stands for the rest
MAX_TITLE_CHARS = 90  # most talks' titles whole; longer ones end in …
MAX_REASON_CHARS = 300
_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")

MISSING = {
    "never_listed": "announced, never listed",
    "private": "its recording is private",
    "deleted": "its recording was deleted",
    "broken_link": "its link leads to no video",
    "no_video": "no recording yet",
}
STALE = {
    "not_found": "leads to no video",
    "deleted": "leads to a deleted video",
    "private": "leads to a private video",
    "not_recording": "is not the talk's recording",
    "not_in_playlist": "is outside the playlist",
}


@dataclass
class Digest:
    title: str
    body: str
    counts: dict  # to_do, new, solved: the events it tells

    def __bool__(self) -> bool:
        return any(self.counts.values())

    def text(self) -> str:
        return f"{self.title}\n\n{self.body}\n"


def one_line(value: object, limit: int) -> str:
    """`value` as one line of at most `limit` characters, with no control or invisible characters."""
    text = " ".join(_UNSEEN.sub(" ", str(value or "")[: limit * 4]).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def talk_link(event: Event, site_url: Optional[str]) -> Optional[str]:
    """The talk's page on the site, when the site's address is known."""
    if not site_url or (not event.code and event.talk_id is None):
        return None
    from sync.site.render import talk_path  # one home for the site's addresses

    return site_url + talk_path({"code": event.code, "talk_id": event.talk_id})


def _talk(event: Event, site_url: Optional[str]) -> str:
    name = " ".join(p for p in (event.code, f"“{one_line(event.title, MAX_TITLE_CHARS)}”" if event.title else "") if p)
    link = talk_link(event, site_url)
    return f"{name or 'a talk without a code'}{f' <{link}>' if link else ''}"


def _video(video_id: Optional[str]) -> str:
    return watch_url(video_id) or one_line(video_id, 20) or "(no video)"


def _reason(table: dict, reason: Optional[str]) -> str:
    return table.get(reason or "", one_line(reason, 40) or "unknown")


def _line(event: Event, group: str, site_url: Optional[str], was: Optional[str] = None) -> str:
    if event.kind == "health":
        if group == "solved":
            return "The scheduled sync is healthy again."
        return f"The scheduled sync is unhealthy: {one_line(redact(event.reason), MAX_REASON_CHARS)}"
    if event.kind == "missing":
        if group == "solved":
            return f"{_talk(event, site_url)}: no longer missing (was: {_reason(MISSING, event.reason)})"
        earlier = f" (was: {_reason(MISSING, was)})" if was else ""
        return f"{_talk(event, site_url)}: {_reason(MISSING, event.reason)}{earlier}"
    if event.kind == "stale":
        if group == "solved":
            return f"{_talk(event, site_url)}: the page's link {_video(event.video_id)} is fixed"
        fix = f"; replace it with {_video(event.replacement)}" if event.replacement else ""
        return f"{_talk(event, site_url)}: the page's link {_video(event.video_id)} {_reason(STALE, event.reason)}{fix}"
    if event.kind == "orphan":
        title = f" “{one_line(event.title, MAX_TITLE_CHARS)}”" if event.title else ""
        if group == "solved":
            return f"Video {_video(event.video_id)}{title} no longer stands alone in the playlist"
        return f"Video {_video(event.video_id)}{title} ({one_line(event.reason, 20) or 'unknown'}) belongs to no talk"
    if event.kind == "recording":
        return f"{_talk(event, site_url)}: new recording {_video(event.video_id)}"
    return one_line(f"{event.kind}: {event.key}", MAX_REASON_CHARS)


def compose(pending: Pending, site_url: Optional[str] = None, max_lines: int = MAX_LINES) -> Digest:
    """The message for what a target has not been told. A talk whose missing recording
    changed reason is one line ("deleted (was: private)"), and a talk that got its
    recording says so once, under new."""
    to_do = pending.to_do
    reopened = {e.subject: e for e in to_do}
    recorded = {e.talk_id for e in pending.new if e.talk_id is not None}
    was = {}
    solved = []
    for event in pending.solved:
        if event.kind == "missing" and event.subject in reopened:
            was[event.subject] = event.reason
        elif not (event.kind == "missing" and event.talk_id in recorded):
            solved.append(event)
    groups = [("To do", "to_do", to_do), ("New", "new", pending.new), ("Solved", "solved", solved)]
    counts = {name: len(events) for _, name, events in groups}
    lines, left = [], max_lines
    hidden = {}
    for heading, name, events in groups:
        shown = events[:max(left, 0)]
        hidden[name] = len(events) - len(shown)
        left -= len(shown)
        if shown:
            lines += ["" if lines else None, f"{heading}:"]
            lines += [f"- {_line(e, name, site_url, was.get(e.subject))}" for e in shown]
    lines = [line for line in lines if line is not None]
    if any(hidden.values()):
        rest = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in hidden.items() if n)
        where = f" or {site_url}/desk" if site_url else ""
        lines += ["", f"… and {sum(hidden.values())} more ({rest}): see `talks missing`, `talks status`{where}."]
    parts = [f"{counts['to_do']} to do" if counts["to_do"] else "",
             f"{counts['new']} new recording{'s' if counts['new'] != 1 else ''}" if counts["new"] else "",
             f"{counts['solved']} solved" if counts["solved"] else ""]
    title = "talks: " + ", ".join(p for p in parts if p) if any(counts.values()) else "talks: nothing new"
    return Digest(title=title, body="\n".join(lines), counts=counts)
