"""Make what the API or yt-dlp said fit to store: text only, valid UTF-8, capped, no key.

Applied to every result once, whichever path produced it, so no stored field can
carry a lone surrogate (SQLite cannot encode it), a 5 MB description, or the API
key that a server echoed back into data.
"""
from __future__ import annotations

import dataclasses
import logging
import os

from sync.core.limits import MAX_DESCRIPTION_CHARS, MAX_FIELD_CHARS, MAX_TITLE_CHARS
from sync.core.text import clean_text
from sync.core.records import PlaylistItem, PlaylistPage, VideoRecord
from sync.core.redact import redact

from ._results import YouTubeResult

log = logging.getLogger("talks.youtube")

_VIDEO_TEXT = {
    "title": MAX_TITLE_CHARS,
    "description": MAX_DESCRIPTION_CHARS,
    "published_at": MAX_FIELD_CHARS,
    "channel": MAX_FIELD_CHARS,
    "channel_id": MAX_FIELD_CHARS,
    "thumbnail_url": MAX_FIELD_CHARS,
}


def _stored(value: object, limit: int, where, secrets: tuple[str, ...], keys: tuple[str, ...]):
    """`where` is called only for the warning: building 30,000 labels cost more than cleaning."""
    if value is None:
        return None
    text, truncated = clean_text(value, limit)
    if truncated:
        log.warning("%s was longer than %d characters: stored cut to that length", where(), limit)
    if text is None:
        return None
    # redact() only where it can change something (its pattern needs "key="): most fields cannot.
    if "key=" in text or any(k in text for k in keys):
        return redact(text, secrets)
    return text


def secret_keys(secrets: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What redact() blanks: the given secrets and the environment's API key."""
    return tuple(k for k in (*secrets, os.environ.get("YOUTUBE_API_KEY")) if k)


def clean_video(record: VideoRecord, secrets: tuple[str, ...] = (), keys: tuple[str, ...] | None = None) -> VideoRecord:
    """`record` with every text field made storable (a new record)."""
    keys = secret_keys(secrets) if keys is None else keys
    video_id = record.video_id
    changes = {
        column: _stored(getattr(record, column), limit, lambda c=column: f"video {video_id}'s {c}", secrets, keys)
        for column, limit in _VIDEO_TEXT.items()
    }
    return dataclasses.replace(record, **changes)


def clean_item(item: PlaylistItem, secrets: tuple[str, ...] = (), keys: tuple[str, ...] | None = None) -> PlaylistItem:
    """`item` with its text made storable (in place; also returned)."""
    keys = secret_keys(secrets) if keys is None else keys
    item.added_at = _stored(item.added_at, MAX_FIELD_CHARS, lambda: f"playlist item {item.video_id}'s date", secrets, keys)
    return item


def clean_page(page: PlaylistPage, secrets: tuple[str, ...] = (), keys: tuple[str, ...] | None = None) -> PlaylistPage:
    """A fresh page's items and etag made storable (in place; also returned)."""
    keys = secret_keys(secrets) if keys is None else keys
    for item in page.items:
        clean_item(item, secrets, keys)
    page.etag = _stored(page.etag, MAX_FIELD_CHARS, lambda: f"playlist {page.playlist_id}'s page etag", secrets, keys)
    return page


def clean_result(
    result: YouTubeResult, secrets: tuple[str, ...] = (), *, videos: bool = True, items: bool = True
) -> YouTubeResult:
    """`result` with every text field made storable (in place; also returned).

    `videos=False` and `items=False` leave those alone: the API path cleans each
    record as its answer arrives (`_batches`, `_api`), so it can be saved while
    pages still come.
    """
    keys = secret_keys(secrets)
    if videos:
        for video_id, record in list(result.videos.items()):
            result.videos[video_id] = clean_video(record, secrets, keys)
    for playlist in result.playlists:
        playlist.title = _stored(playlist.title, MAX_TITLE_CHARS,
                                 lambda: f"playlist {playlist.playlist_id}'s title", secrets, keys)
        playlist.etag = _stored(playlist.etag, MAX_FIELD_CHARS,
                                lambda: f"playlist {playlist.playlist_id}'s etag", secrets, keys)
    if items:
        for item in result.items:
            clean_item(item, secrets, keys)
    result.warnings = [redact(clean_text(w, MAX_FIELD_CHARS)[0] or "", secrets) for w in result.warnings]
    return result
