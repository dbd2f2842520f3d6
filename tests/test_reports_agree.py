"""Every report counts the same problems (#19.3): for one database with every kind of
problem, the views, the organizers' desk (its data and its page) and `talks status`
give the same numbers, because all of them read db/reports.py.

The database is tests/test_recordings.py's archive (private, deleted, not-found and
copied links, a re-upload behind a dead link, a recording outside the playlist, decoys,
an announced talk never listed), synced once more after: the organizers reject S09E03's
linked video, the page drops S09E03's line (its rejected video is then linked only by a
removed talk), S03E01's recording leaves the playlist and vanishes from videos.list
(unavailable), and a private and a deleted entry of nobody's talk join the playlist.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re

from sync.ops.status import read_status
from sync.site import data
from sync.site.serve import build_datasette

from .apiserver import deleted_item, private_item
from .conftest import rows
from .test_recordings import (  # noqa: F401  (archive, pages, server and synced are fixtures)
    KOOI, PLAYLIST, SELVAN, archive, decide, drop_line_with, ok, pages, server, sync, synced,
)

PRIVATE_ORPHAN = "privOrphan1"
DELETED_ORPHAN = "delOrphan01"


def every_kind_of_problem(runner, db_path, pages, server) -> None:
    ok(decide(runner, db_path, "reject", "S09E03", SELVAN))
    text = pages["webinar"].read_text("utf-8")
    pages["webinar"].write_text(drop_line_with(text, "* S09E03 - "), "utf-8")
    server.playlists[PLAYLIST] = [e for e in server.playlists[PLAYLIST] if e["snippet"]["resourceId"]["videoId"] != KOOI]
    server.videos[KOOI]["status"]["privacyStatus"] = "private"
    server.append_to_playlist(PLAYLIST, private_item(PRIVATE_ORPHAN))
    server.append_to_playlist(PLAYLIST, deleted_item(DELETED_ORPHAN))
    sync(runner, db_path, pages)


def view_counts(db_path) -> dict:
    missing = rows(db_path, "SELECT talk_id, reason FROM missing_recordings")
    stale = rows(db_path, "SELECT talk_id, reason FROM stale_links")
    orphans = rows(db_path, "SELECT video_id, availability FROM unmatched_videos")
    return {
        "missing_recordings": len(missing), "stale_links": len(stale), "orphans": len(orphans),
        "talks_to_fix": len({r["talk_id"] for r in missing + stale}),
        "reasons": ({r["reason"] for r in missing}, {r["reason"] for r in stale}),
        "orphan_ids": {r["video_id"]: r["availability"] for r in orphans},
    }


def desk_of(db_path) -> tuple[dict, str]:
    """The desk's data (sync.site.data) and its page as a visitor gets it."""
    async def read():
        datasette = build_datasette(str(db_path))
        desk = await data.desk(datasette.get_database("talks"))
        page = await datasette.client.get("/desk")
        assert page.status_code == 200
        return desk, page.text

    return asyncio.run(read())


def test_the_views_the_desk_and_status_count_the_same_problems(runner, synced, pages, server):
    every_kind_of_problem(runner, synced, pages, server)
    views = view_counts(synced)
    # the database holds every kind: each missing reason, each stale reason, orphans of
    # every availability, and talks both missing and stale (one talk to fix each)
    missing_reasons, stale_reasons = views["reasons"]
    assert missing_reasons == {"never_listed", "private", "deleted", "unavailable", "broken_link", "no_video"}
    assert stale_reasons == {"not_found", "private", "not_recording", "not_in_playlist"}
    assert set(views["orphan_ids"].values()) == {"public", "private", "deleted"}
    assert views["orphan_ids"][SELVAN] == "public"  # linked only by a removed talk: an orphan
    assert views["talks_to_fix"] < views["missing_recordings"] + views["stale_links"]

    status = read_status(synced, dt.timedelta(hours=36)).counts
    desk, page = desk_of(synced)
    counted = {k: views[k] for k in ("missing_recordings", "stale_links", "orphans", "talks_to_fix")}
    assert {k: status[k] for k in counted} == counted
    assert desk["counts"] == counted
    assert {v["video_id"] for v in desk["orphans"]} == set(views["orphan_ids"])
    assert sum(1 for p in desk["problems"] if p["missing"]) == counted["missing_recordings"]
    assert sum(1 for p in desk["problems"] if p["stale"]) == counted["stale_links"]
    # the page says the same numbers
    assert re.search(r"To fix on the pages \((\d+)\)", page).group(1) == str(counted["talks_to_fix"])
    assert re.search(r"no talk's recording \((\d+)\)", page).group(1) == str(counted["orphans"])
