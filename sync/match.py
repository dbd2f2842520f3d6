"""Which video is which talk's recording: pure matching over records, no I/O, no clock.

For every (talk, video) pair we collect evidence, each kind with a weight, the chance
that it alone is right:

    page_link        the webinar page links the video            (any watchable video)
    talks_page_link  the talks page's `Video:` link is the video (any watchable video)
    episode_code     the talk's code, as a whole token, in the video's title or description
    title_speaker    the talk's title in the video's title and a speaker named in its
                     title or description, fuzzily; only for dated talks, and void for a
                     video published before the talk

Code and title evidence count only for watchable videos of the playlist (or for the video
a talk itself links, where they corroborate the link). Kinds combine as independent
signals, score = 1 - prod(1 - weight), so a corroborated link beats a bare one and a fully
labelled playlist video beats a bare link to an unlabelled one.

Talks x videos is never walked: a pair is looked at only when a link, a code the video
carries, or a speaker name its text holds puts it together (names are indexed once per
run and found in one pass over a video's words), so 10,000 x 10,000 takes seconds.

Precision first, a wrong match is worse than none, hence the vetoes:
  - a video whose title carries another talk's code, or names other talks' speakers and
    none of this talk's, is not this talk's recording, whatever links it;
  - code and title evidence from a video published before the talk is void;
  - a video whose code/title evidence points at several talks (a season highlights reel,
    a whole-session upload) gives none.

Then organizers' decisions apply (pins first, rejects drop pairs for good) and the
remaining pairs are assigned best-first: at most one recording per talk and one talk per
video. Watchable videos are assigned first; then a talk still without a recording gets the
private or deleted video its page links or its code titles (stored titles outlive the
video): that is its recording, gone, and the reports say so once, as a missing recording,
rather than as an orphan video and a stale link besides.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from collections.abc import Hashable, Iterable, Mapping
from typing import Optional, TypeVar

from rapidfuzz import fuzz

from db import reports
from sync.core.records import Match, Person, TalkRecord, VideoRecord
from sync.core.text import words as _words  # local names `words` hold folded text

K = TypeVar("K", bound=Hashable)

WATCHABLE = frozenset(reports.WATCHABLE)
# A video that went private, was deleted or became unavailable (one of the two) is still
# the recording of the talk a page link or its code ties it to (reported missing, not
# orphaned); an id YouTube never described (not_found) is only a broken link (db/reports.py).
TIED_UNWATCHABLE = frozenset(reports.GONE)

# Breaks ties between equal scores, strongest first.
METHOD_STRENGTH = {
    "manual": 5,
    "page_link": 4,
    "talks_page_link": 3,
    "episode_code": 2,
    "title_speaker": 1,
}

# Weights: how often each kind of evidence alone names the right video (judged, not measured).
PAGE_LINK_WEIGHT = 0.95  # organizers wrote it, but links go stale or get copy-pasted
TALKS_PAGE_LINK_WEIGHT = 0.90  # the talks page is updated less carefully than the webinar page
CODE_IN_TITLE_WEIGHT = 0.90  # organizers title uploads "SxxEyy - ..."
CODE_IN_DESCRIPTION_WEIGHT = 0.80  # descriptions may also mention neighbouring episodes
TITLE_SPEAKER_MIN_WEIGHT = 0.70  # at TITLE_MATCH_MIN similarity
TITLE_SPEAKER_MAX_WEIGHT = 0.85  # at 100 % similarity
PUBLISHED_AFTER_BONUS = 0.05  # a recording is published after its talk

# THE precision threshold for title evidence: the talk's title must be at least this
# similar (rapidfuzz, 0..100, on folded text) to the video's title, AND one of its
# speakers must be named in the video. Uploads in every title style score 95-100 (case,
# punctuation, accents, codes, names and "..." truncation are taken out); the series' other
# talk titles score at most 74 against each other (two "Characteristics of ... datasets"
# talks). A decoy - similar title, another speaker - fails on the name, not the title.
TITLE_MATCH_MIN = 85

# A truncated title ("Title...") is compared with the same-length prefix of the talk's
# title, but only when it keeps half of it or 40 characters: "Characteristics of..."
# alone would fit two talks.
TRUNCATED_MIN_SHARE = 0.5
TRUNCATED_MIN_CHARS = 40

# published_at is UTC and talk dates are local (and premieres exist): one day of slack
# before a video published "before the talk" is held against it.
PUBLISHED_BEFORE_GRACE = timedelta(days=1)

# A surname alone names a speaker only when it is this long ("Pacheco" yes, "Lee" no).
SURNAME_ALONE_MIN_CHARS = 6

_HONORIFICS = {"dr", "prof", "professor", "mr", "mrs", "ms", "phd"}
# SxxEyy as a whole token: "S03E02", "[S03E02]", "S03E02:", "s3e2", "S01E100" (the pages
# allow three-digit episodes); not "S03E0210" nor "XS03E02".
_CODE = re.compile(r"(?<![^\W_])s(\d{1,2})[ ._-]?e(\d{1,3})(?![^\W_])", re.IGNORECASE)
_CODE_WORD = re.compile(r"s\d{1,2}e\d{1,3}")
_ELLIPSIS = re.compile(r"\.\.\.|\u2026")


def is_watchable(video: Optional[VideoRecord]) -> bool:
    """Whether anyone with the link can watch it (public or unlisted)."""
    return video is not None and reports.is_watchable(video.availability)


def episode_codes(text: Optional[str]) -> set[str]:
    """The episode codes in `text`, normalised: "s3e2 and [S04E01]" -> {"S03E02", "S04E01"}."""
    return {f"S{int(s):02d}E{int(e):02d}" for s, e in _CODE.findall(text or "")}


@dataclass(frozen=True)
class Decision:
    """An organizer's manual decision on one (talk, video) pair; it outlives syncs."""

    talk_key: Hashable
    video_id: str
    action: str  # "pin" forces the match, "reject" forbids it forever

    def __post_init__(self) -> None:
        if self.action not in ("pin", "reject"):
            raise ValueError(f"decision action must be 'pin' or 'reject', not {self.action!r}")


def match_recordings(
    talks: Mapping[K, TalkRecord],
    videos: Mapping[str, VideoRecord],
    playlist_video_ids: set[str],
    decisions: Iterable[Decision] = (),
) -> list[Match]:
    """Each talk's recording, at most one per talk and one talk per video, in talk order."""
    pins, rejected = _pins_and_rejects(decisions, talks)
    chosen: dict[K, Match] = {}
    for talk_key, video_id in pins:
        chosen[talk_key] = Match(talk_key, video_id, "manual", 1.0, "pinned by organizers")
    taken = {m.video_id for m in chosen.values()}
    order = {key: i for i, key in enumerate(talks)}
    # Watchable videos first: a talk's private or deleted recording is its recording only
    # when nothing watchable is (a re-upload behind a dead page link wins).
    for watchable in (True, False):
        texts = {
            vid: _VideoText.of(v) for vid, v in videos.items()
            if (is_watchable(v) if watchable else v.availability in TIED_UNWATCHABLE)
        }
        candidates = [
            m for m in _candidates(talks, texts, playlist_video_ids, title_evidence=watchable)
            if (m.talk_key, m.video_id) not in rejected
        ]
        candidates.sort(key=lambda m: (-m.score, -METHOD_STRENGTH[m.method], order[m.talk_key], m.video_id))
        for match in candidates:
            if match.talk_key not in chosen and match.video_id not in taken:
                chosen[match.talk_key] = match
                taken.add(match.video_id)
    return [chosen[key] for key in talks if key in chosen]


# --- decisions -----------------------------------------------------------------------


def _pins_and_rejects(decisions: Iterable[Decision], talks: Mapping) -> tuple[list, set]:
    """Pins (talk, video) to apply and pairs rejected; the latest decision wins.

    Decisions on talks no longer known are ignored. Of two pins that claim the same talk
    or the same video, the later one wins.
    """
    latest: dict[tuple, str] = {}
    for d in decisions:
        if d.talk_key in talks:
            latest.pop((d.talk_key, d.video_id), None)  # re-insert: dict order = time order
            latest[(d.talk_key, d.video_id)] = d.action
    rejected = {pair for pair, action in latest.items() if action == "reject"}
    pins, pinned_talks, pinned_videos = [], set(), set()
    for talk_key, video_id in reversed([p for p, a in latest.items() if a == "pin"]):
        if talk_key not in pinned_talks and video_id not in pinned_videos:
            pins.append((talk_key, video_id))
            pinned_talks.add(talk_key)
            pinned_videos.add(video_id)
    return pins, rejected


# --- candidates ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Evidence:
    method: str  # page_link, talks_page_link, episode_code, title_speaker
    weight: float  # the chance that this evidence alone names the right video
    text: str  # what it was, said in the match's evidence


@dataclass(frozen=True)
class _VideoText:
    """A video's title and description as matching reads them."""

    title_words: str  # folded, punctuation -> single spaces
    description_words: str
    title_codes: frozenset[str]
    description_codes: frozenset[str]
    truncated: bool  # the title ends or breaks with "..."
    published: Optional[date]

    @classmethod
    def of(cls, video: VideoRecord) -> "_VideoText":
        key = (video.title or "", video.description or "", video.published_at)
        text = _VIDEO_TEXTS.get(key)
        if text is None:
            title, description = key[0], key[1]
            text = cls(
                title_words=_words(title),
                description_words=_words(description),
                title_codes=frozenset(episode_codes(title)),
                description_codes=frozenset(episode_codes(description)),
                truncated=bool(_ELLIPSIS.search(title)),
                published=_iso_date(video.published_at),
            )
            if len(_VIDEO_TEXTS) >= _VIDEO_TEXTS_MAX:
                _VIDEO_TEXTS.clear()  # a bound, not an LRU: one process matches one archive
            _VIDEO_TEXTS[key] = text
        return text


# What matching reads of a video depends on its title, description and date alone: kept
# across calls, so `prepare_videos` can do that work while a sync still waits on YouTube.
_VIDEO_TEXTS: dict[tuple, _VideoText] = {}
_VIDEO_TEXTS_MAX = 50_000


def prepare_videos(videos: Iterable[VideoRecord]) -> None:
    """Do the per-video part of matching now (folding, codes), for a later `match_recordings`."""
    for video in videos:
        _VideoText.of(video)


def forget_prepared_videos() -> None:
    """Drop what `prepare_videos` (and earlier matching) kept: the scale bench times matching cold."""
    _VIDEO_TEXTS.clear()


def _candidates(
    talks: Mapping, texts: Mapping[str, "_VideoText"], playlist: set[str], title_evidence: bool = True
) -> list[Match]:
    """Every (talk, video) pair with evidence and no veto, as a provisional Match; without
    `title_evidence` only links and codes count (what ties an unwatchable video to a talk).

    Never talks x videos: a pair is looked at only when blocking puts it together, by a
    code the video carries or a speaker name its title or description holds (one pass
    over its words, _NameIndex); no other pair can have code or title evidence.
    """
    keys = {key: _TalkText.of(talk) for key, talk in talks.items()}
    by_code: dict[str, list] = {}
    for key, talk_text in keys.items():
        if talk_text.code is not None:
            by_code.setdefault(talk_text.code, []).append(key)
    speakers = _Speakers(talks)
    names_in_title = {vid: speakers.names_in(t.title_words) for vid, t in texts.items()}
    named_in_title = {vid: speakers.talks_of(names) for vid, names in names_in_title.items()}
    links = {
        (key, vid): ev for key, talk in talks.items() for vid, ev in _link_evidence(talk, texts).items()
    }
    content: dict[tuple, list[_Evidence]] = {}
    for vid, text in texts.items():
        names = (names_in_title[vid], speakers.names_in(text.description_words))
        block = named_in_title[vid] | speakers.talks_of(names[1])
        for code in text.title_codes | text.description_codes:
            block.update(by_code.get(code, ()))
        for key in block:
            if vid in playlist or (key, vid) in links:
                found = _content_evidence(talks[key], keys[key], text, names, title_evidence)
                if found:
                    content[(key, vid)] = found
    _drop_ambiguous(content)
    matches = []
    for pair in links.keys() | content.keys():
        key, vid = pair
        if _contradicted(keys[key], key, texts[vid], named_in_title[vid]):
            continue
        matches.append(_combine(key, vid, links.get(pair, []) + content.get(pair, [])))
    return matches


def _link_evidence(talk: TalkRecord, texts: Mapping[str, _VideoText]) -> dict[str, list[_Evidence]]:
    """The pages' own links from this talk to the videos of `texts`, in or out of the playlist."""
    found: dict[str, list[_Evidence]] = {}
    if talk.page_video_id in texts:
        found.setdefault(talk.page_video_id, []).append(
            _Evidence("page_link", PAGE_LINK_WEIGHT, f"webinar page links {talk.page_video_id}"))
    if talk.talks_page_video_id in texts:
        found.setdefault(talk.talks_page_video_id, []).append(
            _Evidence("talks_page_link", TALKS_PAGE_LINK_WEIGHT, f"talks page links {talk.talks_page_video_id}"))
    return found


def _content_evidence(
    talk: TalkRecord, keys: "_TalkText", text: _VideoText, named: tuple, title_evidence: bool = True
) -> list[_Evidence]:
    """Code and title+speaker evidence the video's own text gives for this talk;
    `named` holds the speaker names its title and its description name."""
    if _published_before(text.published, keys.date):
        return []  # cannot be its recording: void whatever the text says
    found = [_code_evidence(keys.code, text),
             _title_speaker_evidence(talk, keys, text, named) if title_evidence else None]
    return [e for e in found if e]


def _code_evidence(code: Optional[str], text: _VideoText) -> Optional[_Evidence]:
    """The talk's code as the title's, or as the description's only code."""
    if code is None:
        return None
    if text.title_codes == {code}:
        return _Evidence("episode_code", CODE_IN_TITLE_WEIGHT, f"code {code} in video title")
    if not text.title_codes and text.description_codes == {code}:
        return _Evidence("episode_code", CODE_IN_DESCRIPTION_WEIGHT, f"code {code} in video description")
    return None


def _title_speaker_evidence(talk: TalkRecord, keys: "_TalkText", text: _VideoText, named: tuple) -> Optional[_Evidence]:
    """The talk's title in the video's title and a speaker named in title or description."""
    if not talk.title or not talk.date:
        return None  # undated: a recording cannot be told from an earlier talk of that title
    speaker, where = _named_speaker(talk.speakers, named)
    if speaker is None:
        return None
    similarity = _similarity(keys, text)
    if similarity < TITLE_MATCH_MIN:
        return None
    share = (similarity - TITLE_MATCH_MIN) / (100 - TITLE_MATCH_MIN)
    weight = TITLE_SPEAKER_MIN_WEIGHT + share * (TITLE_SPEAKER_MAX_WEIGHT - TITLE_SPEAKER_MIN_WEIGHT)
    note = f"title {similarity:.0f}%, speaker '{speaker.name}' in {where}"
    talk_date = keys.date
    if text.published and talk_date and text.published >= talk_date:
        weight += PUBLISHED_AFTER_BONUS
        note += f", published {text.published} after talk {talk_date}"
    return _Evidence("title_speaker", weight, note)


def _drop_ambiguous(content: dict[tuple, list[_Evidence]]) -> None:
    """Forget code/title evidence of videos it points to several talks with."""
    talks_per_video: dict[str, int] = {}
    for _, vid in content:
        talks_per_video[vid] = talks_per_video.get(vid, 0) + 1
    for pair in [p for p in content if talks_per_video[p[1]] > 1]:
        del content[pair]


def _contradicted(keys: "_TalkText", key: Hashable, text: _VideoText, named: set) -> bool:
    """The video's title says it is another talk: another code, or only others' speakers."""
    code = keys.code  # a talk with no code yet (upcoming) is not contradicted by one
    other_code = code is not None and bool(text.title_codes) and code not in text.title_codes
    other_speakers = bool(named) and key not in named
    return other_code or other_speakers


def _combine(talk_key: Hashable, video_id: str, evidence: list[_Evidence]) -> Match:
    """One provisional Match from a pair's evidence: independent signals, strongest method."""
    score = 1 - math.prod(1 - e.weight for e in evidence)
    method = max((e.method for e in evidence), key=METHOD_STRENGTH.__getitem__)
    return Match(talk_key, video_id, method, round(score, 4), "; ".join(e.text for e in evidence))


# --- speakers, titles, codes, dates ----------------------------------------------------


@dataclass(frozen=True)
class _TalkText:
    """A talk as matching reads it, folded once per run rather than once per video."""

    code: Optional[str]
    title_words: str
    name_words: frozenset[str]  # its speakers' name words and honorifics: not part of a title
    date: Optional[date]

    @classmethod
    def of(cls, talk: TalkRecord) -> "_TalkText":
        return cls(
            code=_talk_code(talk),
            title_words=_words(talk.title),
            name_words=frozenset(_HONORIFICS | {t for p in talk.speakers for t in _words(p.name).split()}),
            date=_iso_date(talk.date),
        )


@dataclass(frozen=True)
class _NameKey:
    """How folded words can name a person, worked out once per name (see _names)."""

    pairs: frozenset[tuple[str, str]]  # (given name, a surname part) up to two words apart
    phrase: Optional[str]  # the whole surname, or a lone name, when distinctive alone

    @classmethod
    def of(cls, name: str) -> "_NameKey":
        tokens = [t for t in _words(name).split() if len(t) > 1 and t not in _HONORIFICS]
        if not tokens:
            return cls(frozenset(), None)
        given, surname = tokens[0], tokens[1:]
        if not surname:
            return cls(frozenset(), given if len(given) >= SURNAME_ALONE_MIN_CHARS else None)
        whole = " ".join(surname)
        distinctive = len(whole.replace(" ", "")) >= SURNAME_ALONE_MIN_CHARS
        return cls(frozenset((given, part) for part in surname), whole if distinctive else None)


# A given name names a person when one of their surname parts follows within this many words.
_NAME_REACH = 3


class _NameIndex:
    """Which of many names some words name, in one pass over the words: dictionary
    look-ups of word pairs and phrases, never a scan of every name (nor a regex each)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._pairs: dict[tuple[str, str], set[str]] = {}
        self._phrases: dict[str, set[str]] = {}
        self._phrase_lengths: set[int] = set()
        for name in set(names):
            key = _NameKey.of(name)
            for pair in key.pairs:
                self._pairs.setdefault(pair, set()).add(name)
            if key.phrase:
                self._phrases.setdefault(key.phrase, set()).add(name)
                self._phrase_lengths.add(key.phrase.count(" ") + 1)
        self._starts = {given for given, _ in self._pairs} | {p.split(" ", 1)[0] for p in self._phrases}

    def names_in(self, words: str) -> set[str]:
        found: set[str] = set()
        seq = words.split()
        for i, word in enumerate(seq):
            if word not in self._starts:
                continue
            for later in seq[i + 1:i + 1 + _NAME_REACH]:
                found.update(self._pairs.get((word, later), ()))
            for length in self._phrase_lengths:
                found.update(self._phrases.get(" ".join(seq[i:i + length]), ()))
        return found


class _Speakers:
    """The talks' speakers, indexed by name (names_in) and back to talk keys (talks_of)."""

    def __init__(self, talks: Mapping) -> None:
        self._talks_by_name: dict[str, list] = {}
        for key, talk in talks.items():
            for person in talk.speakers:
                self._talks_by_name.setdefault(person.name, []).append(key)
        self.names_in = _NameIndex(self._talks_by_name).names_in

    def talks_of(self, names: Iterable[str]) -> set:
        return {key for name in names for key in self._talks_by_name[name]}



def _named_speaker(speakers: list[Person], named: tuple) -> tuple[Optional[Person], str]:
    """The first speaker the video names, and where: "title" or "description"."""
    for where, names in zip(("title", "description"), named):
        for person in speakers:
            if person.name in names:
                return person, where
    return None, ""


def _names(person: Person, words: str) -> bool:
    """Whether folded `words` name the person: given name then a surname part nearby
    ("Hubert Zajac" for Hubert Dariusz Zając), or the whole surname when distinctive
    ("Jimenez Sanchez", "Pacheco"; not "Lee")."""
    return bool(_NameIndex([person.name]).names_in(words))


def _title_similarity(talk: TalkRecord, text: _VideoText) -> float:
    """0..100: how well the video title holds the talk's title (see _similarity)."""
    return _similarity(_TalkText.of(talk), text)


def _similarity(talk: _TalkText, text: _VideoText) -> float:
    """0..100: how well the video title holds the talk's title, once codes, the speakers'
    names and honorifics are taken out. A truncated title is held against the same-length
    prefix of the talk's title."""
    title = talk.title_words
    drop = talk.name_words
    rest = " ".join(w for w in text.title_words.split() if w not in drop and not _CODE_WORD.fullmatch(w))
    if not rest or not title:
        return 0.0
    if text.truncated and len(rest) >= min(TRUNCATED_MIN_SHARE * len(title), TRUNCATED_MIN_CHARS):
        return fuzz.partial_ratio(title[: len(rest)], rest)
    if len(rest) >= len(title):
        return fuzz.partial_ratio(title, rest)  # the title among leftovers: affiliation, series name
    return fuzz.ratio(title, rest)  # shorter than the title: the missing part counts against


def _talk_code(talk: TalkRecord) -> Optional[str]:
    if talk.season is not None and talk.episode is not None:
        return f"S{talk.season:02d}E{talk.episode:02d}"
    codes = episode_codes(talk.code)
    return next(iter(codes)) if len(codes) == 1 else None


def _published_before(published: Optional[date], talk_date: Optional[date]) -> bool:
    return bool(published and talk_date and published < talk_date - PUBLISHED_BEFORE_GRACE)


def _iso_date(text: Optional[str]) -> Optional[date]:
    """The date of an ISO date or datetime string; None when missing or unparseable."""
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


