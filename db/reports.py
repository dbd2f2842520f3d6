"""What the reports mean, defined once: watchable, tied to a talk, orphan, missing, stale
and "today", as SQL (the views in db/schema.py are built from it) and as Python.

Everything that says whether a talk has a problem reads these: the views, the matcher
(`sync.match`), the organizers' desk (`sync.site.data`), `talks status`
(`sync.ops.status`), the refresh policy (`sync.pipeline.refresh`) and the shrink guard.
So for one database they all count the same problems.

Availability of a video (`videos.availability`), as YouTube said it:

    public, unlisted   watchable: anyone with the link can watch it
    private, deleted   it existed and nobody can watch it: the playlist's own entry or
                       yt-dlp said which
    unavailable        it existed (YouTube described it, or a playlist lists it) and
                       videos.list no longer returns it: private or deleted, the Data API
                       cannot tell which
    not_found          YouTube never described it: an id that may never have existed

A video that existed and nobody can watch (`GONE`) still belongs to the talk it is the
recording of (or that a live talk's page links): the talk is missing its recording, once,
for that reason; the video is no orphan and no stale link besides.
"""
from __future__ import annotations

from typing import Iterable, Optional

WATCHABLE = ("public", "unlisted")
GONE = ("private", "deleted", "unavailable")
NOT_FOUND = "not_found"
AVAILABILITIES = (*WATCHABLE, *GONE, NOT_FOUND)


def sql_list(values: Iterable[str]) -> str:
    """('a', 'b'): a constant list for SQL IN (the values are ours, never input)."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


WATCHABLE_SQL = sql_list(WATCHABLE)
GONE_SQL = sql_list(GONE)


def is_watchable(availability: Optional[str]) -> bool:
    """Whether anyone with the link can watch a video of this availability."""
    return availability in WATCHABLE


def recording_is_watchable(video_id: Optional[str], availability: Optional[str]) -> bool:
    """Whether a talk whose chosen recording is `video_id` has one to watch: a watchable
    video, or an organizer's pin no sync has described yet (availability unknown:
    organizers know best). The Python twin of the test in `missing_recordings_sql`."""
    return bool(video_id) and (availability is None or is_watchable(availability))


# ----------------------------------------------------------------------------- today

# The "today" of the reports: the last successful sync's (kind 'sync'), so a snapshot
# database answers the same on any day; in a file only ever backfilled, the last replayed
# commit's day; date('now') for a database never synced. Decisions and caption runs carry
# no today, and a backfill run after a sync (its today is a commit's day, in the past) does
# not move it. The view `report_today` (one row, one column `today`) is this; everything
# else reads the view.
REPORT_TODAY_SQL = """
SELECT coalesce(
  (SELECT today FROM sync_runs WHERE status = 'ok' AND kind = 'sync' AND today IS NOT NULL ORDER BY id DESC LIMIT 1),
  (SELECT today FROM sync_runs WHERE status = 'ok' AND today IS NOT NULL ORDER BY id DESC LIMIT 1),
  date('now')) AS today
"""
TODAY = "(SELECT today FROM report_today)"


# ----------------------------------------------------------------------------- tied to a talk

# Videos that belong to a talk, whatever their state: every talk's chosen recording (the
# matcher ties a talk's private, deleted or unavailable recording to it too), and a video
# nobody can watch that a live talk's page or talks page links (its recording, gone).
TIED_SQL = f"""
SELECT video_id FROM talks WHERE video_id IS NOT NULL
UNION SELECT v.video_id FROM videos v JOIN talks t
  ON v.video_id IN (t.page_video_id, t.talks_page_video_id) AND t.removed_at IS NULL
  WHERE v.availability IN {GONE_SQL}
"""

# Videos a live talk's webinar page links: a link that is not the talk's recording is a
# stale link (reported by stale_links), never an orphan besides.
PAGE_LINKED_SQL = "SELECT page_video_id FROM talks WHERE removed_at IS NULL AND page_video_id IS NOT NULL"


# ----------------------------------------------------------------------------- missing


def missing_recordings_sql(today_sql: str = TODAY) -> str:
    """Past talks with no watchable recording; `today_sql` is an SQL expression.

    A talk is past when its date is before today (a talk of today's date is not yet),
    and never while it is announced (upcoming). A talk has a watchable recording when
    the video chosen (talks.video_id) is public or unlisted, or is an organizer's pin of
    a video no sync has seen yet (organizers know best; its availability is unknown).
    The reason, first that applies: never_listed (announced, then gone without a code);
    private, deleted, unavailable, broken_link when the chosen video, the webinar
    page's link or the talks page's link is private, deleted, unavailable (one of the
    two; the API cannot tell which) or not found, in that order; else no_video.
    """
    return f"""
SELECT
  t.code, t.title, t.date, t.speakers,
  CASE
    WHEN t.status = 'unlisted' THEN 'never_listed'
    WHEN 'private' IN (rec.availability, page.availability, talks_page.availability) THEN 'private'
    WHEN 'deleted' IN (rec.availability, page.availability, talks_page.availability) THEN 'deleted'
    WHEN 'unavailable' IN (rec.availability, page.availability, talks_page.availability) THEN 'unavailable'
    WHEN 'not_found' IN (rec.availability, page.availability, talks_page.availability) THEN 'broken_link'
    ELSE 'no_video'
  END AS reason,
  t.status,
  coalesce(t.page_video_id, t.talks_page_video_id) AS linked_video_id,
  t.video_id,
  t.id AS talk_id
FROM talks t
LEFT JOIN videos rec ON rec.video_id = t.video_id
LEFT JOIN videos page ON page.video_id = t.page_video_id
LEFT JOIN videos talks_page ON talks_page.video_id = t.talks_page_video_id
WHERE t.status IN ('listed', 'unlisted')
  AND t.date IS NOT NULL
  AND t.date < {today_sql}
  AND (t.video_id IS NULL OR rec.availability NOT IN {WATCHABLE_SQL})
ORDER BY t.date, t.code, t.id
"""


# ----------------------------------------------------------------------------- stale

# Webinar-page links to fix. Only links a sync has looked up are judged (a pages-only
# sync knows nothing of YouTube), and "outside the playlist" only once a playlist has
# been read. reason, first that applies: not_found, deleted, private, unavailable (the
# link points at a video nobody can watch); not_recording (it points at a watchable video
# that is not the talk's recording: a re-upload replaced it, it is another talk's, or the
# organizers rejected it); not_in_playlist (it is the recording, but the playlist does
# not hold it). A link to the talk's own recording that nobody can watch is reported
# once, by missing_recordings, as the recording that went.
STALE_LINKS_SQL = f"""
SELECT
  t.code, t.page_video_id, t.video_id,
  CASE
    WHEN linked.availability IN ('{NOT_FOUND}', 'deleted', 'private', 'unavailable') THEN linked.availability
    WHEN t.video_id IS NULL OR t.video_id != t.page_video_id THEN 'not_recording'
    ELSE 'not_in_playlist'
  END AS reason,
  t.title, t.status, t.id AS talk_id
FROM talks t
JOIN videos linked ON linked.video_id = t.page_video_id
WHERE t.removed_at IS NULL
  AND NOT (t.video_id IS t.page_video_id AND linked.availability IN {GONE_SQL})
  AND (
    linked.availability NOT IN {WATCHABLE_SQL}
    OR t.video_id IS NULL
    OR t.video_id != t.page_video_id
    OR (EXISTS (SELECT 1 FROM playlists WHERE removed_at IS NULL)
        AND NOT EXISTS (SELECT 1 FROM playlist_items pi
                        WHERE pi.video_id = t.page_video_id AND pi.removed_at IS NULL))
  )
ORDER BY t.code, t.id
"""


# ----------------------------------------------------------------------------- orphans

# Orphans: videos a live playlist holds that belong to no talk (extra uploads, decoys, and
# private or deleted entries of nobody's talk: no title, no date, listed first). Not an
# orphan: a video tied to a talk (TIED_SQL: missing_recordings reports a gone one), and a
# live talk's webinar-page link (stale_links reports it when it is not the recording).
UNMATCHED_VIDEOS_SQL = f"""
SELECT
  v.video_id, v.title, v.availability, v.published_at, v.duration_seconds, v.url,
  group_concat(pi.playlist_id) AS playlists
FROM videos v
JOIN playlist_items pi ON pi.video_id = v.video_id AND pi.removed_at IS NULL
WHERE v.video_id NOT IN ({TIED_SQL})
  AND v.video_id NOT IN ({PAGE_LINKED_SQL})
GROUP BY v.video_id
ORDER BY v.published_at, v.video_id
"""


# The views of the reports, in creation order (report_today first: the others read it).
REPORT_VIEWS: dict[str, str] = {
    "report_today": REPORT_TODAY_SQL,
    "missing_recordings": missing_recordings_sql(),
    "stale_links": STALE_LINKS_SQL,
    "unmatched_videos": UNMATCHED_VIDEOS_SQL,
}


# ----------------------------------------------------------------------------- counting

# How many problems of each kind a database holds: every report counts from these (the
# desk shows the rows of the same views, `talks status` prints these numbers). A talk
# missing its recording whose page link is also stale is one talk to fix.
PROBLEM_COUNTS_SQL = {
    "missing_recordings": "SELECT count(*) FROM missing_recordings",
    "stale_links": "SELECT count(*) FROM stale_links",
    "orphans": "SELECT count(*) FROM unmatched_videos",
    "talks_to_fix": "SELECT count(*) FROM (SELECT talk_id FROM missing_recordings UNION SELECT talk_id FROM stale_links)",
}


def problem_counts(con) -> dict[str, Optional[int]]:
    """PROBLEM_COUNTS_SQL on a sqlite3 connection; None for a view an older file lacks."""
    counts: dict[str, Optional[int]] = {}
    for name, sql in PROBLEM_COUNTS_SQL.items():
        try:
            counts[name] = con.execute(sql).fetchone()[0]
        except Exception:  # sqlite3.OperationalError: a database from before the view
            counts[name] = None
    return counts


# ----------------------------------------------------------------------------- what they depend on

# Videos whose state the reports read, asked about again on every sync that reads YouTube
# (sync.pipeline.refresh; the pages' own links and pins are added by the caller): every
# talk's chosen recording, and every live video nobody can watch (it may come back).
REPORT_VIDEOS_SQL = f"""
SELECT video_id FROM matches WHERE removed_at IS NULL AND video_id IS NOT NULL
UNION SELECT video_id FROM videos WHERE removed_at IS NULL AND availability NOT IN {WATCHABLE_SQL}
ORDER BY 1
"""
