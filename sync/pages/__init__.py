"""The pages stage: the series' two markdown pages read from a path, a URL, the bundled
snapshot or a git repository's history, parsed into talk records, and talk identity
(which stored talk a record is).

    parse       parse_webinar_page, parse_talks_page, decode_page (pure)
    _pagetext   the text, link, code, date and people readers parse shares
    identity    same_talk, attach_abstracts, find_talk (which talk a record is)
    sources     reading a page from a path, a URL or the snapshot
    gitrepo     reading the pages' history from a local git repository
"""
from .parse import (
    MAX_PAGE_BYTES,
    decode_page,
    fold,
    normalize_code,
    parse_talks_page,
    parse_webinar_page,
    video_id_from_url,
)

__all__ = [
    "MAX_PAGE_BYTES",
    "decode_page",
    "fold",
    "normalize_code",
    "parse_talks_page",
    "parse_webinar_page",
    "video_id_from_url",
]
