"""Every language searchable as people type it (issue #20 item 3).

Japanese automatic captions time every token of text written without spaces: stored as read
(no space between the tokens), found by words typed without spaces, linked to the first
typed character's time; Korean particles glued to a word do not hide it; English stemming
and accent folding keep working beside them.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

from sync.cli import cli
from sync.site.transcript_search import register_functions, search_recordings_query
from sync.transcripts.captions import parse_json3, segment

from .conftest import rows

JA = "ja0000000ja"
KO = "ko0000000ko"
EN = "en0000000en"


def json3(*events: tuple[int, list[tuple[int, str]]]) -> str:
    """Automatic json3 as YouTube writes it: one event per line, tokens with their offsets."""
    return json.dumps({"events": [{"tStartMs": 0, "dDurationMs": 60_000, "id": 1}] + [
        {"tStartMs": start, "dDurationMs": 4000, "segs": [{"utf8": text, "tOffsetMs": offset, "acAsrConf": 0}
                                                            for offset, text in tokens]}
        for start, tokens in events]}, ensure_ascii=False)


JAPANESE = json3(
    (1000, [(0, "まあ"), (400, "昨日"), (800, "は"), (1000, "ね")]),
    (12_000, [(0, "本当に"), (600, "大変"), (1100, "な"), (1300, "こと"), (1700, "が"), (1900, "ありました。")]),
)
KOREAN = json3((2000, [(0, "학교에서"), (700, " 데이터를"), (1500, " 모았습니다")]))
ENGLISH = json3((3000, [(0, "algorithmic"), (500, " fairness"), (1000, " as"), (1200, " Jiménez"), (1700, " said")]))


def test_japanese_is_stored_as_read():
    segments = segment(parse_json3(JAPANESE.encode()).words, JA)
    assert [s.text for s in segments] == ["まあ昨日はね", "本当に大変なことがありました。"]
    assert segments[1].word_times == "[0,0,3,600,5,1100,6,1300,8,1700,9,1900]"


@pytest.fixture
def archive(runner, db_path, tmp_path):
    folder = tmp_path / "captions"
    folder.mkdir()
    for video_id, text in ((JA, JAPANESE), (KO, KOREAN), (EN, ENGLISH)):
        (folder / f"{video_id}.xx-orig.json3").write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["transcripts", "import", str(folder), "--db", db_path])
    assert result.exit_code == 0, result.output
    return db_path


def search(db_path, q: str) -> list[tuple[str, str, str]]:
    con = sqlite3.connect(db_path)
    register_functions(con)
    try:
        return [(r[6], r[3], r[4].rsplit("?t=", 1)[1]) for r in con.execute(search_recordings_query()["sql"], {"q": q})]
    finally:
        con.close()


@pytest.mark.parametrize("q, second", [
    ("大変な", "11"),  # "大変" at 12.6 s
    ("まあ昨日はね", "0"),  # at 1.0 s
    ("昨日", "0"),  # two characters: the pairs index finds what a trigram index cannot
    ("変", "11"),  # one character
    ("ありました", "12"),  # at 13.9 s, glued to its full stop
])
def test_japanese_typed_without_spaces_finds_its_segment_and_second(archive, q, second):
    hits = search(archive, q)
    assert [(video, link) for video, _, link in hits] == [(JA, second)]


def test_korean_word_is_found_inside_its_particles(archive):
    assert [(v, link) for v, _, link in search(archive, "학교")] == [(KO, "1")]
    assert [(v, link) for v, _, link in search(archive, "데이터")] == [(KO, "1")]  # at 2.7 s


def test_no_cjk_match_across_unrelated_text(archive):
    assert search(archive, "昨日大変") == []  # both said, but not in a row
    assert search(archive, "大変 昨日") == []  # every typed run must be in one segment


def test_english_stemming_and_accents_keep_working(archive):
    assert [(v, t) for v, t, _ in search(archive, "fair")] == [(EN, "algorithmic **fairness** as Jiménez said")]
    hits = search(archive, "jimenez")
    assert [(v, link) for v, _, link in hits] == [(EN, "3")]  # "Jiménez" at 4.2 s
    assert rows(archive, "select text_cjk from transcript_segments where video_id = ?", [EN]) == [{"text_cjk": None}]
