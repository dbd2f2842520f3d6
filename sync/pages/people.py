"""Which names are one person (pure).

Over the years the pages write one speaker's name several ways: with and without a
middle initial ("Maria A. Zuluaga", "Maria (A.) Zuluaga", "Maria Zuluaga"), with and
without accents, a title in front ("Dr. Esther E. Bron"), a shortened or misspelt first
name ("Malih" for "Malihe Alikhani"), a middle name dropped ("Natalia-Rozalia Avlona").
Different people share surnames, so two levels of sameness, and storage
(`sync.save.speakers`) decides which evidence each needs:

    name_key(a) == name_key(b)   the same name up to case, accents, punctuation, titles
                                 and initials: one person wherever the pages write it
    variant_of(a, b)             could be one person's name: same surname, given names
                                 alike, middle names dropped; only where the pages'
                                 history already ties the two (the same talk's speaker)
"""
from __future__ import annotations

from sync.core.text import words

# Titles a name may still carry (the parsers take "Dr." and "Prof." off already).
HONORIFICS = frozenset({"dr", "prof", "professor", "mr", "mrs", "ms", "miss", "sir", "phd"})
# A given name that is the start of the other ("Malih", "Malihe") is the same only when
# this long: "Jun" is not "Juniper".
GIVEN_PREFIX_MIN = 4


def name_parts(name: str | None) -> list[str]:
    """Folded name words without titles and initials: "Dr. María (A.) Zuluaga" -> ["maria", "zuluaga"]."""
    return [w for w in words(name).split() if len(w) > 1 and w not in HONORIFICS]


def name_key(name: str | None) -> str:
    """The name up to case, accents, punctuation, titles and initials (see name_parts)."""
    return " ".join(name_parts(name))


def _given_alike(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) >= GIVEN_PREFIX_MIN and long.startswith(short))


def variant_of(a: str | None, b: str | None) -> bool:
    """Whether two names can be one person's: the same surname (last word), given names
    equal or one the start of the other ("Malih" / "Malihe"), and the middle names of
    the shorter among the longer's (a middle name dropped). Not evidence alone: many
    people share a surname and a first name's start."""
    pa, pb = name_parts(a), name_parts(b)
    if len(pa) < 2 or len(pb) < 2 or pa[-1] != pb[-1] or not _given_alike(pa[0], pb[0]):
        return False
    fewer, more = sorted((pa[1:-1], pb[1:-1]), key=len)
    return set(fewer) <= set(more)


def fuller(current: str, other: str) -> str:
    """The name to show of two variants: the one with more words (initials count), then
    the longer, then the one with more letters beyond ASCII (accents kept); `current`
    on a tie, so the choice never flips back and forth."""
    def weight(name: str) -> tuple[int, int, int]:
        return len(words(name).split()), len(name), sum(1 for c in name if not c.isascii())

    return other if weight(other) > weight(current) else current
