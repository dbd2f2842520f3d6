"""Hostile caption files (issue #21, items 2, 6, 8 and the caption tracebacks of 9).

A caption file may hold anything: one cue of 7.9 MB, control characters the site uses as
highlight markers, NUL bytes, nesting 5,000 deep, times of 300 or 5,000 digits or infinite.
Each is bounded or refused as it is parsed, one bad file never costs the good ones of the
same import, and nothing ends in a traceback.
"""
from __future__ import annotations

import json
import shutil

import pytest

from sync.cli import cli
from sync.core.errors import CaptionError
from sync.core.limits import MAX_CAPTION_BYTES, MAX_JSON_DEPTH, MAX_SEGMENT_CHARS, MAX_SEGMENT_SECONDS
from sync.core.text import json_nesting_depth
from sync.site.render import highlight
from sync.transcripts.captions import parse_caption, parse_json3, parse_vtt, segment

from .conftest import FIXTURES, rows

CAPTIONS = FIXTURES / "captions"
VIDEO = "abcdefghijk"


def vtt(*cues: str) -> bytes:
    return ("WEBVTT\n\n" + "\n\n".join(cues) + "\n").encode("utf-8")


def test_one_huge_cue_becomes_bounded_segments_keeping_every_word():
    # 7.9 MB of one repeated word in one uploaded cue was one segment: FTS5's highlight() over it
    # held the site for minutes (#21 item 2).
    words = 1_580_000
    data = vtt("00:00:01.000 --> 00:00:09.000\n" + "data " * words)
    assert len(data) < MAX_CAPTION_BYTES
    segments = segment(parse_vtt(data).words, VIDEO)
    assert all(len(s.text) <= MAX_SEGMENT_CHARS for s in segments)
    assert all(s.end_seconds - s.start_seconds <= MAX_SEGMENT_SECONDS for s in segments)
    assert sum(len(s.text.split()) for s in segments) == words
    assert [s.start_seconds for s in segments] == sorted(s.start_seconds for s in segments)


def test_a_cue_shown_for_hours_spans_no_more_than_a_segment_may():
    segments = segment(parse_vtt(vtt("00:00:01.000 --> 40:00:00.000\nsilence")).words, VIDEO)
    assert [(s.start_seconds, s.end_seconds, s.text) for s in segments] == [(1.0, 1.0 + MAX_SEGMENT_SECONDS, "silence")]


def test_control_characters_never_reach_the_text():
    # \x02 and \x03 are the site's highlight markers (#21 item 6); NUL and ESC are stored nowhere.
    data = vtt("00:00:01.000 --> 00:00:03.000\n\x02<b>bold</b>\x03 x\x00y \x1b]0;title\x07 z\x85w")
    assert [w.text for w in parse_vtt(data).words] == ["bold xy ]0;title zw"]
    doc = {"events": [{"tStartMs": 0, "segs": [{"utf8": "a\u0002b\u0003c\ud83dd"}]}]}
    assert [w.text for w in parse_json3(json.dumps(doc).encode()).words] == ["abcd"]


def test_highlight_markers_out_of_turn_leave_no_tag_open():
    assert str(highlight("\x02hit\x03 and \x02open")) == "<mark>hit</mark> and <mark>open</mark>"
    assert str(highlight("\x03<script>\x02\x02x\x03\x03")) == "&lt;script&gt;<mark>x</mark>"


@pytest.mark.parametrize("data, fmt, message", [
    (b"[" * 5_000 + b"]" * 5_000, "json3", "nested too deep"),
    (b'{"events": [{"tStartMs": ' + b"9" * 5_000 + b', "segs": [{"utf8": "x"}]}]}', "json3", "not a json3"),
    (vtt("0" * 400 + ":00:01.000 --> 00:00:02.000\nx"), "vtt", "line 3: not a cue timing"),
    (vtt("00:00:01.000 --> " + "9" * 5_000 + ":00:02.000\nx"), "vtt", "line 3: not a cue timing"),
    (vtt("999999999999:00:01.000 --> 999999999999:00:02.000\nx"), "vtt", "line 3: a time past 48 hours"),
    (vtt("00:00:01.000 --> 00:00:02.000\nword<999999999999:00:01.500><c> next</c>"), "vtt", "a time past 48 hours"),
    # a timing line with no blank line before it, unreadable: not stored as cue text
    (vtt("00:00:01.000 --> 00:00:02.000\nx\n" + "1" * 300 + ":00:03.000 --> 00:00:04.000\ny"), "vtt", "line 5"),
])
def test_unreadable_nesting_and_times_are_one_error_naming_the_file(data, fmt, message):
    with pytest.raises(CaptionError, match=message) as error:
        parse_caption(data, fmt, f"{VIDEO}.en.{fmt}")
    assert str(error.value).startswith(f"{VIDEO}.en.{fmt}: ")


def test_nesting_is_counted_the_same_on_every_python_and_brackets_in_words_do_not_count():
    # 3.13's json reads 5,000 levels that 3.12 refuses: the limit is ours, not the parser's
    caption = json.dumps({"events": [{"tStartMs": 0, "segs": [{"utf8": "[[{ x"}]}]})
    assert json_nesting_depth(caption) == 5  # object, events, event, segs, seg: "[[{" is a word
    assert json_nesting_depth('"\\"[' + '"\\"' * 1000 + '"[') == 1  # escapes end no string early
    assert json_nesting_depth('"unclosed \\" [ [') == 0
    assert json_nesting_depth("[" * 10_000, stop_above=64) == 65
    deep_ok = "[" * (MAX_JSON_DEPTH - 5) + caption + "]" * (MAX_JSON_DEPTH - 5)
    with pytest.raises(CaptionError, match="no events list"):  # read, then refused for its shape
        parse_json3(deep_ok.encode(), "x.json3")
    with pytest.raises(CaptionError, match="nested too deep"):
        parse_json3(("[" + deep_ok + "]").encode(), "x.json3")


def test_json3_events_with_impossible_times_are_skipped():
    events = [{"tStartMs": 1e308, "segs": [{"utf8": "huge"}]},
              {"tStartMs": 1000, "dDurationMs": 1e308, "segs": [{"utf8": "endless"}]},
              {"tStartMs": 10 ** 300, "segs": [{"utf8": "digits"}]},
              {"tStartMs": 2000, "segs": [{"utf8": "kept"}, {"utf8": " far", "tOffsetMs": 1e308}]}]
    data = json.dumps({"events": events}).replace("1e+308", "Infinity", 1).encode()
    assert [(w.start, w.text) for w in parse_json3(data).words] == [(2.0, "kept")]


def test_a_word_said_twice_at_one_time_is_kept_twice():
    data = vtt("00:00:01.000 --> 00:00:03.000 align:start position:0%\n"
               "i<00:00:01.500><c> i</c><00:00:01.500><c> i</c><00:00:02.000><c> think</c>")
    assert [(w.start, w.text) for w in parse_vtt(data).words] == [(1.0, "i"), (1.5, "i"), (1.5, "i"), (2.0, "think")]


def import_dir(runner, db_path, directory):
    return runner.invoke(cli, ["transcripts", "import", str(directory), "--db", str(db_path)])


def test_bad_files_are_named_and_every_good_one_loads(runner, db_path, tmp_path):
    assert runner.invoke(cli, ["sync", "--snapshot", "--db", db_path, "-q"]).exit_code == 0
    folder = tmp_path / "mixed"
    shutil.copytree(CAPTIONS, folder)
    (folder / "Z_wULE3_exE.en.vtt").rename(folder / "Z_wULE3_exE.en.VTT")  # copied from Windows: read all the same
    bad = {
        "aaaaaaaaaaa.en.json3": b"[" * 5_000 + b"]" * 5_000,
        "bbbbbbbbbbb.en.vtt": vtt("0" * 400 + ":00:01.000 --> 00:00:02.000\nx"),
        "ccccccccccc.en.json3": json.dumps({"events": [{"tStartMs": 1e308, "segs": [{"utf8": "x"}]}]}).encode(),
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    (folder / "ddddddddddd.en.vtt").write_bytes(vtt("00:00:01.000 --> 00:00:02.000\nnul\x00led \x02marked\x03"))
    (folder / "eeeeeeeeeee.en.json3").write_text('{"events": [{"tStartMs": 0, "segs": [{"utf8": "lone \\ud800"}]}]}')
    result = import_dir(runner, db_path, folder)
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output  # good files loaded: the bad ones are named, not fatal
    errors = sorted(line for line in result.output.splitlines() if line.startswith("Error:"))
    assert [e.split(": ", 2)[1] for e in errors] == [str(folder / name) for name in sorted(bad)]
    assert "nested too deep" in errors[0] and "not a cue timing" in errors[1] and "no caption text" in errors[2]
    stored = {r["video_id"]: r["state"] for r in rows(db_path, "select video_id, state from captions")}
    assert stored == {"VlHRsMC96y0": "automatic", "Z_wULE3_exE": "uploaded", "hDKuw28ATe4": "automatic",
                      "ddddddddddd": "uploaded", "eeeeeeeeeee": "uploaded"}
    texts = [r["text"] for r in rows(db_path, "select text from transcript_segments where video_id in ('ddddddddddd', 'eeeeeeeeeee') order by video_id")]
    assert texts == ["nulled marked", "lone"]
    # nothing loadable: exit 1, and the database keeps what it had
    only = tmp_path / "only"
    only.mkdir()
    for name, data in bad.items():
        (only / name).write_bytes(data)
    result = import_dir(runner, db_path, only)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert rows(db_path, "select count(*) n from captions") == [{"n": 5}]


def test_a_track_key_that_is_no_language_is_not_a_track():
    from sync.transcripts.fetch import choose_track

    formats = [{"ext": "json3", "url": "https://www.youtube.com/api/timedtext?v=x&fmt=json3"}]
    info = {"subtitles": {"../../x": formats, "en\x00": formats}, "automatic_captions": {"../../y-orig": formats}}
    assert choose_track(info) is None
    info["automatic_captions"]["de-orig"] = formats
    assert choose_track(info).key == "de-orig"
