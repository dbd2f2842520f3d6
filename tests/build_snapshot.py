"""Rebuild sync/snapshot/snapshot.json: the bundled offline snapshot's recorded playlist.

    python -m tests.build_snapshot

The pages in sync/snapshot/ are the series' real pages as of SNAPSHOT_DATE. No
live playlist was recorded with them, so the playlist is a *reconstruction*: one
item per video the webinar page links, answered in the Data API's exact JSON
shapes by the tests' stand-in server. Every reconstructed video says so in its
description, and the snapshot's description says so in sync_runs.
"""
from __future__ import annotations

import json
from pathlib import Path

from sync.pages import parse_webinar_page
from sync.save import speakers_text

from .apiserver import ApiServer, Seen, make_video

SNAPSHOT = Path(__file__).resolve().parent.parent / "sync" / "snapshot"
SNAPSHOT_DATE = "2026-08-11"
SOURCE = "medical-datasets/medical-datasets.github.io@dd744744 (committed 2026-08-11)"
NOTE = (
    "Reconstructed from the link on the series' webinar page (snapshot of {date}); "
    "not a recording of YouTube: title, date and statistics are stand-ins."
)


def reconstructed_videos(page) -> list[dict]:
    videos = []
    for talk in page.listed:
        if not talk.page_video_id:
            continue
        video = make_video(
            talk.page_video_id,
            f"{talk.code} - {speakers_text(talk.speakers)} - {talk.title}",
            description=f"Datasets through the Looking-Glass {talk.code}, {talk.date_text}.\n\n"
            + NOTE.format(date=SNAPSHOT_DATE),
            published_at=f"{talk.date}T17:00:00Z",
            views=None,
            added_at=f"{talk.date}T18:00:00Z",
        )
        del video["contentDetails"]["duration"]  # unknown: stored as NULL, not invented
        videos.append(video)
    return videos


def recorded_responses(playlist_id: str, videos: list[dict]) -> dict:
    server = ApiServer()
    server.add_playlist(playlist_id, videos)
    pages, token = [], None
    while True:
        params = {"part": "snippet,contentDetails,status", "playlistId": playlist_id, "maxResults": "50"}
        if token:
            params["pageToken"] = token
        _, body, _ = server.answer(Seen(len(pages) + 1, "playlistItems", params, None, server.api_key))
        pages.append(body)
        token = body.get("nextPageToken")
        if not token:
            break
    ids = [v["id"] for v in videos]
    responses = []
    for start in range(0, len(ids), 50):
        params = {"part": "snippet,contentDetails,statistics,status", "id": ",".join(ids[start:start + 50])}
        responses.append(server.answer(Seen(99, "videos", params, None, server.api_key))[1])
    return {"playlistItems": {playlist_id: pages}, "videos": responses}


def main() -> None:
    page = parse_webinar_page((SNAPSHOT / "webinar.md").read_text("utf-8"))
    (playlist_id,) = page.playlist_ids
    snapshot = {
        "date": SNAPSHOT_DATE,
        "description": f"Bundled snapshot: the series' pages as of {SNAPSHOT_DATE} and a playlist "
        "reconstructed from the page's links (not a live recording of YouTube).",
        "webinar_source": f"{SOURCE} _pages/webinar.md",
        "talks_source": f"{SOURCE} _pages/webinar_talks.md",
        "youtube": recorded_responses(playlist_id, reconstructed_videos(page)),
    }
    out = SNAPSHOT / "snapshot.json"
    out.write_text(json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
