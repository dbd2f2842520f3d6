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


# Scripts written without spaces between words: Han, kana, CJK punctuation, fullwidth forms.
# Two pieces of these are joined with no space (Japanese automatic captions time each token).
_NO_SPACE = re.compile("[\u3000-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
                       "\U00020000-\U0002fa1f]")
# Letters a word index cannot split into words (Han, kana, Hangul with its particles): search
# reads them as overlapping pairs of characters (`cjk_bigrams`), so `大変な` finds `大変なことが`.
_CJK_RUN = re.compile("[\u3040-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                      "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\uff66-\uff9f\U00020000-\U0002fa1f]+")


def is_cjk(char: str) -> bool:
    """Whether `char` is of a script written without spaces between words."""
    return bool(char) and _NO_SPACE.match(char) is not None


def cjk_runs(text: Optional[str]) -> list[str]:
    return _CJK_RUN.findall(text or "")


def cjk_bigrams(text: Optional[str]) -> Optional[str]:
    """The CJK runs of `text` as overlapping character pairs and each run's last character,
    space-separated ("まあ昨日" -> "まあ あ昨 昨日 日"), or None when it has none.

    Indexed beside the words: the pairs of a typed run, as a phrase, match exactly where
    the run occurs; a single typed character matches as a prefix (`cjk_query`)."""
    tokens = []
    for run in cjk_runs(text):
        tokens += [run[i:i + 2] for i in range(len(run) - 1)] + [run[-1]]
    return " ".join(tokens) or None


def cjk_query(run: str) -> str:
    """The FTS5 expression for one typed CJK run against `cjk_bigrams` text."""
    if len(run) == 1:
        return f'"{run}" *'
    return '"' + " ".join(run[i:i + 2] for i in range(len(run) - 1)) + '"'


# A JSON string (escapes included, the closing quote optional so an unclosed one is read once
# to the end, not retried from every later quote) or one bracket: a "[" inside a string does
# not count. Every match succeeds where it starts, so one pass over the text.
_JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.S)


def json_nesting_depth(text: str, stop_above: int = 1_000_000) -> int:
    """How deeply `text`'s arrays and objects nest, in linear time, without parsing it;
    the count stops as soon as it passes `stop_above`.

    Checked before `json.loads`: how deep the parser goes before a RecursionError
    differs between Pythons (3.13 reads 5,000 levels that 3.12 refuses).
    """
    depth = deepest = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        elif token == "]" or token == "}":
            depth -= 1
    return deepest
