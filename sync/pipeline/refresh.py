"""Which known videos a sync asks YouTube about again: the refresh policy.

The reports' videos on every sync; the rest on a rotation (the API path: those last
described REFRESH_DAYS ago, at most REFRESH_CAP a sync; the keyless path: YTDLP_ROTATION
a sync in video-id order).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from db.reports import REPORT_VIDEOS_SQL
from db.runs import utc_now
from db.syncs import last_sync
from sync.core.limits import REFRESH_CAP, REFRESH_DAYS, YTDLP_ROTATION


def report_video_ids(db, linked: list[str]) -> list[str]:
    """Videos the reports depend on, described again on every sync: `linked` (page-linked
    now or at the last sync, pinned), then db/reports.py's REPORT_VIDEOS_SQL (the matched
    recordings, and every video nobody can watch: it may have come back). A playlist's
    own private or deleted entry is not asked about: its page says so (sync.youtube)."""
    needed = list(linked)
    needed += [r[0] for r in db.execute(REPORT_VIDEOS_SQL).fetchall()]
    return list(dict.fromkeys(needed))


def api_refresh(db, linked: list[str], now: Optional[str] = None) -> list[str]:
    """Known videos of a playlist answering 304 that the API path describes again.

    Those the reports depend on (`report_video_ids`), then the rotation: videos last
    described (`videos.checked_run`) by a run started REFRESH_DAYS or more days (UTC
    dates, so a daily job's jitter does not matter) before `now`, or never, oldest
    first, at most REFRESH_CAP of them a sync; the others keep their stored statistics
    and availability until they are due.
    """
    needed = report_video_ids(db, linked)
    needed_set = set(needed)
    cutoff = (dt.datetime.fromisoformat(now or utc_now()) - dt.timedelta(days=REFRESH_DAYS)).date().isoformat()
    due = [r[0] for r in db.execute(
        "SELECT v.video_id FROM videos v LEFT JOIN sync_runs r ON r.id = v.checked_run"
        " WHERE v.removed_at IS NULL AND (r.started_at IS NULL OR substr(r.started_at, 1, 10) <= ?)"
        " ORDER BY v.checked_run, v.video_id", [cutoff]
    ).fetchall() if r[0] not in needed_set]
    return needed + due[:REFRESH_CAP]


def ytdlp_recheck(db, linked: list[str]) -> list[str]:
    """Known videos the keyless path looks at again this sync, most needed first.

    Every sync: those the reports depend on (`report_video_ids`). Then a rotation
    through all the others: after k successful keyless syncs the next re-checks the
    YTDLP_ROTATION of them that follow position k * YTDLP_ROTATION in video id order,
    so each is seen again within ceil(n / YTDLP_ROTATION) successful keyless syncs.
    """
    needed = report_video_ids(db, linked)
    needed_set = set(needed)
    others = [r[0] for r in db.execute(
        "SELECT video_id FROM videos WHERE removed_at IS NULL ORDER BY video_id"
    ).fetchall() if r[0] not in needed_set]
    if not others:
        return needed
    done = last_sync(db, source="ytdlp").number  # keyless syncs that succeeded: a failed one saved no turn
    start = (done * YTDLP_ROTATION) % len(others)
    turn = (others[start:] + others[:start])[:YTDLP_ROTATION]
    return needed + turn
