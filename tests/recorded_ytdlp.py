"""An offline yt-dlp: recorded playlist and info dicts behind the real YoutubeDL object.

    factory = recorded_ydl_factory(refusals={"S01E03ccccc": REFUSALS["bot_wall"]})
    fetch_youtube_ytdlp([...], [...], ydl_factory=factory)
    factory.calls  # every URL yt-dlp was asked for
"""
from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import yt_dlp
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.utils import ExtractorError

FIXTURES = Path(__file__).parent / "fixtures" / "youtube"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


REFUSALS = load("ytdlp_refusals.json")


class RecordedYoutube(InfoExtractor):
    """Replays recorded info dicts for playlist and watch URLs; never touches the network.

    Registered as "Youtube" so flat entries (ie_key "Youtube") can only ever resolve
    to it. A refusal is raised the way yt-dlp's YouTube extractor does it:
    `raise_no_formats(reason, expected=True)`, a warning under ignore_no_formats_error;
    ids in `hard_failures` raise ExtractorError instead. With `stand_in_for_unknown`,
    an id nothing was recorded for (a page link) gets a copy of a recorded info dict
    under its own id; without it, an unknown id is a test bug (KeyError). Ids in
    `private` have gone private: the flat listing shows "[Private video]" for them and
    their extraction is refused as private. Ids in `hang` never answer: their
    extraction blocks (for at most 30 s, so a missing deadline fails rather than hangs).
    """

    IE_NAME = "youtube"
    _VALID_URL = r"https://www\.youtube\.com/(?:watch\?v=(?P<id>[\w-]{11})|playlist\?list=(?P<list>[\w-]+))"

    def __init__(self, refusals=None, hard_failures=(), playlist_refusal=None, calls=None,
                 stand_in_for_unknown=False, private=(), hang=()):
        super().__init__()
        self.refusals = refusals or {}
        self.hard_failures = set(hard_failures)
        self.playlist_refusal = playlist_refusal
        self.calls = calls if calls is not None else []
        self.stand_in_for_unknown = stand_in_for_unknown
        self.private = set(private)
        self.hang = set(hang)

    @classmethod
    def ie_key(cls):
        return "Youtube"

    def _real_extract(self, url):
        match = self._match_valid_url(url)
        self.calls.append(url)
        if match.group("list"):
            if self.playlist_refusal:
                raise ExtractorError(self.playlist_refusal, expected=True)
            listing = load(f"ytdlp_playlist_{match.group('list')}.json")
            for entry in listing["entries"]:
                if entry["id"] in self.private:
                    entry.update(title="[Private video]", duration=None, channel=None, channel_id=None)
            return listing
        video_id = match.group("id")
        if video_id in self.hang:
            threading.Event().wait(30)
        if video_id in self.refusals or video_id in self.private:
            reason = self.refusals.get(video_id) or REFUSALS["private"]
            if video_id in self.hard_failures:
                raise ExtractorError(reason, expected=True, video_id=video_id)
            self.raise_no_formats(reason, expected=True)
            return {"id": video_id, "title": None, "formats": []}
        recorded = load("ytdlp_videos.json")
        if video_id in recorded or not self.stand_in_for_unknown:
            return recorded[video_id]
        return stand_in_info(recorded["S01E01aaaaa"], video_id)


def stand_in_info(template: dict, video_id: str) -> dict:
    info = copy.deepcopy(template)
    watch = f"https://www.youtube.com/watch?v={video_id}"
    info.update(id=video_id, display_id=video_id, title=f"Recording {video_id}", fulltitle=f"Recording {video_id}",
                webpage_url=watch, original_url=watch,
                thumbnail=f"https://i.ytimg.com/vi/{video_id}/maxresdefault.jpg", thumbnails=[])
    return info


def recorded_ydl_factory(**extractor_kw):
    """A `ydl_factory` for sync.youtube: a real YoutubeDL with only the recorded extractor."""
    calls: list[str] = []

    def factory(params):
        ydl = yt_dlp.YoutubeDL(params, auto_init=False)  # no real extractors: offline
        ydl.add_info_extractor(RecordedYoutube(calls=calls, **extractor_kw))
        return ydl

    factory.calls = calls
    return factory
