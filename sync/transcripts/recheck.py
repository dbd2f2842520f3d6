"""When to ask again: nothing about captions is final.

Every `captions` row says when to look again (`next_check_at`). `none` and `automatic`
are re-checked on a growing delay (automatic captions appear hours after upload;
uploaded ones may replace them), `blocked` backs off for hours.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

HOUR, DAY = 3600, 86400
# state: (first delay, longest delay) in seconds; the delay doubles with each check in a row.
RECHECK = {
    "uploaded": (30 * DAY, 90 * DAY),
    "automatic": (1 * DAY, 30 * DAY),
    "none": (6 * HOUR, 30 * DAY),
    "blocked": (6 * HOUR, 72 * HOUR),
    "needs_token": (1 * DAY, 7 * DAY),
    "unavailable": (1 * DAY, 30 * DAY),
}


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


def next_check(state: str, attempts: int, now: dt.datetime) -> str:
    first, longest = RECHECK[state]
    delay = min(first * 2 ** max(0, min(attempts, 20) - 1), longest)
    return iso(now + dt.timedelta(seconds=delay))


def attempts_in_a_row(stored: Optional[dict], state: str) -> int:
    if stored and stored.get("state") == state:
        return (stored.get("attempts") or 0) + 1
    return 1
