"""Every error the sync raises on purpose, so callers catch one family.

    TalksError                  a sentence fit to show the user as is; .requests and
    │                           .units: what the failed run spent (the run ledger's)
    ├── InputError              bad input: a page or a response we cannot use
    │   ├── PageError           not the webinar/talks page, empty, binary, too large
    │   ├── ResponseError       malformed API JSON, unusable yt-dlp output
    │   ├── CaptionError        not a json3/vtt caption file, or too large
    │   └── RepositoryError     `talks backfill`: not a git repository, or no page history
    ├── YouTubeError            YouTube refused, for a reason retrying will not fix
    │   ├── QuotaExceeded       the day's quota is spent (resets midnight Pacific)
    │   ├── BadApiKey           YOUTUBE_API_KEY is not valid
    │   ├── PlaylistNotFound    a playlist id that does not exist or is private
    │   └── BotWall             yt-dlp was asked to prove it is not a bot
    ├── FetchError              a page or API could not be reached after retries
    │   └── DeadlineExceeded    a request or the whole sync ran past its deadline
    ├── ShrinkRefused           a source shrank suspiciously; --allow-shrink overrides
    ├── DatabaseFileError       the database file cannot be read or written (permissions,
    │                           corruption, disk full); `path` names it
    ├── PortInUse               `talks serve` cannot listen where it was told
    └── LockHeld                another sync holds the database's lock

Messages never contain the API key: build them from redacted text only
(`sync.core.redact.redact`).
"""


class TalksError(Exception):
    """Base class; str(error) is one sentence for the user."""

    exit_code = 1
    # HTTP requests made and API quota units spent before the error: Google charges
    # failed requests too, so the run ledger records them (set by the fetch code).
    requests: int = 0
    units: int = 0

    def charged(self, requests: int, units: int) -> "TalksError":
        self.requests, self.units = requests, units
        return self


class InputError(TalksError):
    pass


class PageError(InputError):
    pass


class ResponseError(InputError):
    pass


class CaptionError(InputError):
    pass


class RepositoryError(InputError):
    pass


class YouTubeError(TalksError):
    pass


class QuotaExceeded(YouTubeError):
    pass


class BadApiKey(YouTubeError):
    pass


class PlaylistNotFound(YouTubeError):
    pass


class BotWall(YouTubeError):
    pass


class FetchError(TalksError):
    pass


class DeadlineExceeded(FetchError):
    pass


class ShrinkRefused(TalksError):
    pass


class DatabaseFileError(TalksError):
    path: str = ""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class PortInUse(TalksError):
    pass


class LockHeld(TalksError):
    exit_code = 3
