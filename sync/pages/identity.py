"""Talk identity: whether two records are one talk, and which stored row a record is.

The pages name a talk by its code once it is listed, and before that only by its
speakers, title and date; the same talk reappears across page versions with names
respelled, initials dropped, titles edited. Everything that decides "same talk" lives
here, so the parsers, storage and the history replay agree:

    same_speakers(a, b), similar_titles(a, b)   fuzzy, folded comparisons (pure)
    speaker_score(a, b), title_score(a, b)      the same as 0..100 scores
    same_talk(a, b)                             two TalkRecords are one talk (pure)
    attach_abstracts(talks, abstracts)          talks-page sections -> their talks (pure)
    stored_as_record(db, row)                   a stored talks row as a TalkRecord
    same_stored_talk(stored, record)            same_talk, lenient for untitled announcements
    find_talk(db, record, claimed, section)     the stored row a parsed record is, or None
    settle_duplicate_codes(db, listed)          one code on two lines: who keeps it, a warning
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from rapidfuzz import fuzz

from sync.core.records import AbstractRecord, Person, TalkRecord
from sync.core.text import words

NAME_SIMILARITY = 88  # rapidfuzz 0..100: "Malihe Alikhani" ~ "Malih Alikhani" (97), "Alice Jin" ~ "Alice Lin" (89)
TITLE_SIMILARITY = 85


def _name_key(name: str) -> str:
    # Initials come and go ("Maria A. Zuluaga", "Esther E. Bron"): compare without them.
    return " ".join(word for word in words(name).split() if len(word) > 1)


def _name_score(a: str, b: str) -> float:
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))


def speaker_score(a: list[Person], b: list[Person]) -> float:
    """How well the shorter list's people are all found in the longer one (0..100, the worst
    of their best matches), so "Spyridon Bakas & Ujjwal Baid" covers "Ujjwal Baid"."""
    keys_a = [k for k in (_name_key(p.name) for p in a) if k]
    keys_b = [k for k in (_name_key(p.name) for p in b) if k]
    if not keys_a or not keys_b:
        return 0.0
    fewer, more = sorted((keys_a, keys_b), key=len)
    return min(max(_name_score(x, y) for y in more) for x in fewer)


def same_speakers(a: list[Person], b: list[Person]) -> bool:
    """Whether two speaker lists name the same people (folded, fuzzy; one may list fewer)."""
    return speaker_score(a, b) >= NAME_SIMILARITY


def title_score(a: Optional[str], b: Optional[str]) -> float:
    words_a, words_b = words(a), words(b)
    if not words_a or not words_b:
        return 0.0
    return max(fuzz.ratio(words_a, words_b), fuzz.token_sort_ratio(words_a, words_b))


def similar_titles(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two titles are the same title up to case, accents, punctuation and small edits."""
    return title_score(a, b) >= TITLE_SIMILARITY


def same_talk(a: TalkRecord, b: TalkRecord) -> bool:
    """Whether two records are one talk, e.g. an announced talk and the coded line it became.

    Same speakers (folded, fuzzy), and a similar title or, when a title is missing or was
    changed, the same known date. Codes are not compared: pages have given one code to two
    talks and two codes to one talk.
    """
    if not same_speakers(a.speakers, b.speakers):
        return False
    return similar_titles(a.title, b.title) or bool(a.date and a.date == b.date)


def attach_abstracts(talks: list[TalkRecord], abstracts: list[AbstractRecord]) -> list[AbstractRecord]:
    """Give each talk its talks-page section: fills `abstract` and `bio` where the talk has
    none and `talks_page_video_id`, in place. Returns the abstracts attached to no talk.

    Precision first; one abstract per talk and one talk per abstract:
    1. by code, confirmed by speakers or title (a page once gave two talks one code);
    2. by speakers and title together, for sections without a (right) code.
    A section matching no talk (as "Cathrine Damgaard & Trine Naja Eriksen", never
    listed) stays unattached.
    """
    taken: set[int] = set()
    pending: list[AbstractRecord] = []
    for abstract in abstracts:
        by_code = [
            i for i, talk in enumerate(talks)
            if abstract.code and talk.code == abstract.code
            and (same_speakers(talk.speakers, abstract.speakers) or similar_titles(talk.title, abstract.title))
        ]
        if not _attach(abstract, by_code, talks, taken):
            pending.append(abstract)
    unattached = []
    for abstract in pending:
        by_content = [
            i for i, talk in enumerate(talks)
            if same_speakers(talk.speakers, abstract.speakers) and similar_titles(talk.title, abstract.title)
        ]
        if not _attach(abstract, by_content, talks, taken):
            unattached.append(abstract)
    return unattached


def _attach(abstract: AbstractRecord, candidates: list[int], talks: list[TalkRecord], taken: set[int]) -> bool:
    free = [i for i in candidates if i not in taken]
    if not free:
        return False
    best = max(free, key=lambda i: speaker_score(talks[i].speakers, abstract.speakers)
               + title_score(talks[i].title, abstract.title))
    talk = talks[best]
    if talk.abstract is None:
        talk.abstract = abstract.abstract
    if talk.bio is None:
        talk.bio = abstract.bio
    if abstract.video_id:
        talk.talks_page_video_id = abstract.video_id
    taken.add(best)
    return True


def stored_as_record(db, row: dict) -> TalkRecord:
    people = db.execute(
        "SELECT s.name FROM talk_speakers ts JOIN speakers s ON s.id = ts.speaker_id"
        " WHERE ts.talk_id = ? AND ts.removed_at IS NULL ORDER BY ts.position",
        [row["id"]],
    ).fetchall()
    return TalkRecord(
        status=row["status"],
        code=row["code"],
        title=row["title"],
        date=row["date"],
        affiliation=row["affiliation"],
        speakers=[Person(name) for (name,) in people],
    )


def same_stored_talk(stored: TalkRecord, record: TalkRecord) -> bool:
    """same_talk, plus: an announcement stored without a title is the same speakers' talk.

    Announcements sometimes name the speakers weeks before the title; the talks
    page then gives the title with no date, so neither title nor date can agree.
    """
    if same_talk(stored, record):
        return True
    return not (stored.title and record.title) and same_speakers(stored.speakers, record.speakers)


def find_talk(db, record: TalkRecord, claimed: set[int], section: bool = False) -> Optional[dict]:
    """The stored row this record is, or None for a new talk.

    A talks-page `section` may describe a talk this page version already saved
    (an announcement without a title), so rows claimed in this run count too.
    """
    if record.code:
        rows = list(db["talks"].rows_where("code = ?", [record.code], limit=1))
        if rows:
            return rows[0]
    # An uncoded row (announced, or known from the talks page) with the same
    # speakers and title is this talk before it was listed.
    for row in db["talks"].rows_where("code IS NULL ORDER BY id"):
        if (section or row["id"] not in claimed) and same_stored_talk(stored_as_record(db, row), record):
            return row
    if not record.code:
        # An announcement still shown after the talk was listed (even on the
        # same page version, so claimed rows count): keep the coded row.
        for row in db["talks"].rows_where("code IS NOT NULL ORDER BY id"):
            if same_stored_talk(stored_as_record(db, row), record):
                return row
    return None


def describe_talk(record: TalkRecord) -> str:
    """One talk for a warning: speakers, date and the title's start."""
    names = " and ".join(p.name for p in record.speakers) or "no speaker"
    title = record.title or "untitled"
    title = title if len(title) <= 80 else title[:79] + "…"
    return f"{names} ({record.date or record.date_text or 'no date'}, \"{title}\")"


def settle_duplicate_codes(db, listed: list[TalkRecord]) -> tuple[list[TalkRecord], list[str]]:
    """A page version that gives one code to several talks (November 2025 listed S07E01-03
    twice, the second three being October's talks, later S08E01-03).

    Each stays its own talk: the one the code's stored row already is keeps the code (else
    the first line); the others are saved without it, found by identity, so the same rows
    take their own codes once the page is corrected. Returns the records to save, in order,
    and one warning per code naming its talks.
    """
    lines: dict[str, list[int]] = {}
    for index, record in enumerate(listed):
        if record.code:
            lines.setdefault(record.code, []).append(index)
    settled, warnings = list(listed), []
    for code, indexes in lines.items():
        if len(indexes) < 2:
            continue
        # With no stored talk to decide, a line writing the code as it is spelt ("S01E01")
        # wins over a variant ("S1E1") above it.
        keeper = next((i for i in indexes if (listed[i].code_text or "").upper() == code), indexes[0])
        holder = next(iter(db["talks"].rows_where("code = ?", [code], limit=1)), None)
        if holder is not None:
            stored = stored_as_record(db, holder)
            keeper = next((i for i in indexes if same_stored_talk(stored, listed[i])), keeper)
        others = [i for i in indexes if i != keeper]
        for index in others:
            settled[index] = replace(listed[index], code=None, season=None, episode=None)
        if all(same_talk(listed[keeper], listed[i]) for i in others):
            warnings.append(f"the webinar page lists {code} {len(indexes)} times: {describe_talk(listed[keeper])}")
            continue
        warnings.append(
            f"the webinar page gives {code} to {len(indexes)} talks: {describe_talk(listed[keeper])} keeps it;"
            f" {'; '.join(describe_talk(listed[i]) for i in others)} is kept as its own talk without a code"
            " until the page gives it one"
        )
    return settled, warnings
