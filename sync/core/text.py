"""Text from outside made fit: folded for comparison and search (the parsers, the matcher),
and cleaned to store (`clean_text`)."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Letters NFKD does not decompose into ASCII + accents, and typographic punctuation.
_ASCII_LETTERS = str.maketrans({
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
    "þ": "th", "Þ": "Th", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ß": "ss",
    "ı": "i", "ħ": "h", "Ħ": "H",
    "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
})


def fold(text: Optional[str]) -> str:
    """Case- and accent-free text for comparing and searching names and titles.

    NFKD with the accents dropped, casefolded, zero-width characters removed, letters
    such as ø/ł/æ/ß mapped to ASCII, curly quotes and dashes made plain, and runs of
    whitespace collapsed: "Hubert Dariusz Zając\u200b" -> "hubert dariusz zajac".
    """
    if not text:
        return ""
    if text.isascii():  # nothing to translate or decompose: the common case, kept cheap
        return " ".join(text.casefold().split())
    text = text.translate(ZERO_WIDTH).translate(_ASCII_LETTERS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def words(text: Optional[str]) -> str:
    """Folded text as single-space separated words: "PAD-UFES-20: the" -> "pad ufes 20 the"."""
    return " ".join(re.findall(r"[^\W_]+", fold(text)))


_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(value: object, limit: int) -> tuple[Optional[str], bool]:
    """(text fit to store, whether it was truncated): lone surrogates (which no UTF-8
    database can hold) become U+FFFD, NULs go, and the text is cut at `limit` chars.
    Anything not a string is None."""
    if not isinstance(value, str):
        return None, False
    truncated = len(value) > limit
    text = value[:limit]
    if not text.isascii():  # the common case needs neither pass
        text = _SURROGATES.sub("\ufffd", text)
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text, truncated
