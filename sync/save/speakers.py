"""save_* for speakers: one row per person, whatever name variant a page version uses.

A talk's speakers are saved in order; each name is looked up, first that finds someone:

    1. a name this speaker was written as before (`speaker_aliases`)
    2. a speaker this very talk had (its talk_speakers, live or not) whose name is a
       variant of this one (sync.pages.people.variant_of): "Malih Alikhani" on the line
       that said "Malihe Alikhani" is the same speaker, respelled
    3. a speaker whose name is this one up to accents, titles and initials (name_key):
       "Maria A. Zuluaga" anywhere is "Maria Zuluaga"
    4. a speaker stored under exactly this name (a database from before aliases)

and else a new speaker. One talk never gives two of its speakers the same row. The
speaker's `name` is the fullest variant seen (`people.fuller`); every variant is a row
of `speaker_aliases`. Different people who share a surname stay apart: step 2 needs the
talk's own history and alike given names, step 3 the whole name.
"""
from __future__ import annotations

from typing import Optional

from db.store import RunContext, mark_removed, row_key, save_row
from sync.core.records import Person
from sync.core.text import fold
from sync.pages.people import fuller, name_key, variant_of


class SpeakerBook:
    """The stored speakers, read once per save of a page version, kept up to date by `learn`."""

    def __init__(self, db):
        self.canonical: dict[int, str] = dict(db.execute("SELECT id, name FROM speakers").fetchall())
        self.by_alias: dict[str, int] = {}
        self.names: dict[int, set[str]] = {i: {name} for i, name in self.canonical.items()}
        for speaker_id, name in db.execute("SELECT speaker_id, name FROM speaker_aliases ORDER BY speaker_id").fetchall():
            self.by_alias.setdefault(name, speaker_id)
            self.names.setdefault(speaker_id, set()).add(name)
        self.by_key: dict[str, set[int]] = {}
        for speaker_id, names in self.names.items():
            for name in names:
                self.by_key.setdefault(name_key(name), set()).add(speaker_id)
        self.by_name = {name: i for i, name in self.canonical.items()}
        self.of_talk: dict[int, set[int]] = {}
        for talk_id, speaker_id in db.execute("SELECT talk_id, speaker_id FROM talk_speakers").fetchall():
            self.of_talk.setdefault(talk_id, set()).add(speaker_id)
        self.aliases_seen: list[str] = []

    def find(self, talk_id: int, name: str, taken: set[int]) -> Optional[int]:
        """The stored speaker `name` is on this talk (steps 1-4 above), or None."""
        found = self.by_alias.get(name)
        if found is not None and found not in taken:
            return found
        alike = [i for i in self.of_talk.get(talk_id, ()) if i not in taken
                 and any(variant_of(name, known) for known in self.names.get(i, ()))]
        if alike:
            return min(alike)  # the longest-known speaker: a database from before aliases may hold two
        key = name_key(name)
        same = sorted(i for i in self.by_key.get(key, ()) if i not in taken) if key else []
        if same:
            return same[0]
        found = self.by_name.get(name)
        return found if found is not None and found not in taken else None

    def learn(self, speaker_id: int, talk_id: int, name: str, canonical: str) -> None:
        old = self.canonical.get(speaker_id)
        if old is not None and self.by_name.get(old) == speaker_id and old != canonical:
            del self.by_name[old]
        self.canonical[speaker_id] = canonical
        self.by_name[canonical] = speaker_id
        self.by_alias.setdefault(name, speaker_id)
        self.names.setdefault(speaker_id, set()).add(name)
        self.by_key.setdefault(name_key(name), set()).add(speaker_id)
        self.of_talk.setdefault(talk_id, set()).add(speaker_id)


def save_speakers(db, run: RunContext, talk_id: int, speakers: list[Person], book: SpeakerBook) -> None:
    """Save a talk's speakers in order (people, not names: see the module's docstring)."""
    seen, taken = [], set()
    for position, person in enumerate(speakers):
        speaker_id = book.find(talk_id, person.name, taken)
        if speaker_id is None:
            values = {"name": person.name, "name_ascii": fold(person.name)}
        else:
            name = fuller(book.canonical[speaker_id], person.name)
            if book.by_name.get(name, speaker_id) != speaker_id:
                name = book.canonical[speaker_id]  # another (older) row holds that name: keep this one's
            values = {"id": speaker_id, "name": name, "name_ascii": fold(name)}
        if person.honorific:
            values["honorific"] = person.honorific
        if person.url:
            values["url"] = person.url
        speaker = save_row(db, run, "speakers", values)
        speaker_id = speaker["id"]
        taken.add(speaker_id)
        alias = {"speaker_id": speaker_id, "name": person.name, "name_ascii": fold(person.name)}
        save_row(db, run, "speaker_aliases", alias)
        book.aliases_seen.append(row_key("speaker_aliases", alias))
        book.learn(speaker_id, talk_id, person.name, speaker["name"])
        link = {"talk_id": talk_id, "speaker_id": speaker_id, "position": position}
        save_row(db, run, "talk_speakers", link)
        seen.append(row_key("talk_speakers", link))
    mark_removed(db, run, "talk_speakers", seen, "talk_id = ?", [talk_id])


def retire_speakers(db, run: RunContext, book: SpeakerBook) -> None:
    """Speakers of no live talk any more get removed_at (kept, like every sourced row);
    one who speaks again is seen again by save_speakers. So do name variants this page
    version wrote nowhere."""
    live = [str(r[0]) for r in db.execute(
        "SELECT DISTINCT ts.speaker_id FROM talk_speakers ts JOIN talks t ON t.id = ts.talk_id"
        " WHERE ts.removed_at IS NULL AND t.removed_at IS NULL"
    ).fetchall()]
    mark_removed(db, run, "speakers", live)
    mark_removed(db, run, "speaker_aliases", book.aliases_seen)
