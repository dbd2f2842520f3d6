"""The pure parts behind browsing (issue #22): season words, facets, hit groups, names, a talk's story."""
from __future__ import annotations

import pytest

from sync.site.narrow import HITS_OPEN, facets, group_hits, is_name_query
from sync.site.render import duration
from sync.site.seasons import read_query, season_number
from sync.site.story import talk_story


@pytest.mark.parametrize("q, words, code, season", [
    ("S05", "", None, 5),
    ("season 5", "", None, 5),
    ("Season 05 metrics", "metrics", None, 5),
    ("s5 fairness", "fairness", None, 5),
    ("s5e1", "", "S05E01", 5),
    ("S0501", "", "S05E01", 5),
    ("[S05E01]", "", "S05E01", 5),
    ("label noise s3e1", "label noise", "S03E01", 3),
    ("fairness", "fairness", None, None),
    ("S05E01x", "S05E01x", None, None),  # not a whole token
    ("S00E00", "S00E00", None, None),  # no episode code (as the CLI says)
    ("season 0", "season 0", None, None),
    ("S100", "S100", None, None),
])
def test_season_words_and_codes_come_out_of_a_query(q, words, code, season):
    parts = read_query(q)
    assert (parts.words, parts.code, parts.season) == (words, code, season)


def test_a_long_hostile_query_is_read_in_linear_time():
    parts = read_query("s" * 100_000 + "[" * 100_000 + " S05")
    assert parts.season == 5


@pytest.mark.parametrize("key, number", [("5", 5), ("05", 5), ("S05", 5), ("s5", 5), ("season5", 5),
                                         ("0", None), ("100", None), ("S05E01", None), ("x", None), ("", None)])
def test_season_addresses(key, number):
    assert season_number(key) == number


def test_facets_count_talks_by_season_and_year_each_under_the_others_filter():
    talks = [
        {"id": 1, "season": 5, "date": "2024-03-25"},
        {"id": 2, "season": 5, "date": "2024-03-25"},
        {"id": 3, "season": 6, "date": "2025-02-24"},
        {"id": 4, "season": None, "date": None},  # announced: in neither count
        {"id": 1, "season": 5, "date": "2024-03-25"},  # found twice (a talk hit and a transcript hit): once
    ]
    found = facets(talks, None, None)
    assert [(f.value, f.count, f.active) for f in found["season"]] == [("6", 1, False), ("5", 2, False)]
    assert [(f.value, f.count) for f in found["year"]] == [("2025", 1), ("2024", 2)]
    narrowed = facets(talks, 5, None)
    assert [(f.value, f.count, f.active) for f in narrowed["season"]] == [("6", 1, False), ("5", 2, True)]
    assert [(f.value, f.count) for f in narrowed["year"]] == [("2024", 2)]  # years within season 5


def test_transcript_hits_group_by_talk_in_the_order_of_their_best_hit():
    hits = [{"talk_id": 7, "video_id": "a", "start_seconds": s} for s in (50, 10, 90, 30, 70)]
    hits.insert(1, {"talk_id": None, "video_id": "orphan", "start_seconds": 5})
    hits.insert(2, {"talk_id": 3, "video_id": "b", "start_seconds": 1})
    groups = group_hits(hits)
    assert [(g.first["talk_id"], g.first["video_id"]) for g in groups] == [(7, "a"), (None, "orphan"), (3, "b")]
    assert [h["start_seconds"] for h in groups[0].shown] == [50, 10, 90][:HITS_OPEN]  # best first
    assert [h["start_seconds"] for h in groups[0].more] == [30, 70]


@pytest.mark.parametrize("q, is_name", [("jimenez", True), ("Jiménez", True), ("amelia j", True),
                                        ("sanchez amelia", True), ("fair", False), ("ame fairness", False)])
def test_a_query_is_a_name_when_each_word_begins_a_word_of_a_speakers_name(q, is_name):
    speakers = [{"name": "Amelia Jiménez-Sánchez"}, {"name": "Fairchild Zed"}]
    assert is_name_query(q, speakers if q != "fair" else []) is is_name


HISTORY = [  # talk_history rows as the backfill of the series' pages wrote them for S01E01
    ("2023-01-05T15:14:35+01:00", "status", None, "upcoming", 3, "34f2d004"),
    ("2023-01-05T15:14:35+01:00", "date", None, "2023-02-27", 3, "34f2d004"),
    ("2023-01-05T15:14:35+01:00", "topic", None, "Characteristics of skin lesions", 3, "34f2d004"),
    ("2023-01-05T16:04:08+01:00", "topic", "Characteristics of skin lesions", "Characteristics of skin lesions datasets",
     7, "ecf115ee"),
    ("2023-03-14T13:41:07+01:00", "status", "upcoming", "listed", 18, "00d50832"),
    ("2023-03-14T13:41:07+01:00", "code", None, "S01E01", 18, "00d50832"),
    ("2023-03-14T13:41:07+01:00", "page_code", None, "S01E01", 18, "00d50832"),
    ("2023-03-14T13:41:07+01:00", "title", None, "Challenges with equipoise", 18, "00d50832"),
    ("2023-03-16T13:22:30+01:00", "page_video_id", None, "zLxYUtToXGg", 20, "ba8cf9eb"),
    ("2024-03-08T15:27:44+01:00", "abstract", None, "Clinical AI ...", 44, "81e8b4ab"),
    ("2026-08-12T06:00:00+00:00", "video_id", None, "hDKuw28ATe4", 90, None),
    ("2026-08-13T06:00:00+00:00", "date", "2023-02-27", "2023-02-28", 91, None),
]


def test_a_talks_history_in_words_leaves_out_what_only_organizers_need():
    rows = [dict(zip(("changed_at", "column_name", "old_value", "new_value", "run_id", "commit_id"), r))
            for r in reversed(HISTORY)]
    story = [(e.day, e.from_pages, e.sentences) for e in talk_story(rows)]
    assert story == [
        ("2023-01-05", True, ["Announced for 2023-02-27: “Characteristics of skin lesions”",
                              "Topic changed to “Characteristics of skin lesions datasets”"]),
        ("2023-03-14", True, ["Listed as S01E01", "Titled “Challenges with equipoise”"]),
        ("2024-03-08", True, ["Abstract added"]),
        ("2026-08-12", False, ["Recording added"]),
        ("2026-08-13", False, ["Moved from 2023-02-27 to 2023-02-28"]),
    ]  # page_video_id (2023-03-16) and page_code: the ledger's, not the readers'
    assert talk_story([]) == [] and talk_story(None) == []


@pytest.mark.parametrize("seconds, text", [(3725, "1 h 02 min"), (3599, "1 h 00 min"), (59, "1 min"),
                                           (2880, "48 min"), (0, ""), (None, ""), ("x", ""), (-5, "")])
def test_recording_lengths_for_readers(seconds, text):
    assert duration(seconds) == text
