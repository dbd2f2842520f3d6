"""Caption files -> words -> segments, on the fixtures in tests/fixtures/captions.

Exact segments are asserted; automatic captions roll (every VTT cue repeats the
line before, 10 ms cues repeat it again), so every fixture is also checked for
words said twice.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from sync.transcripts.captions import (
    MAX_CAPTION_BYTES,
    TranscriptSegment,
    content_hash,
    parse_caption,
    parse_json3,
    parse_vtt,
    segment,
    watch_url_at,
)
from sync.core.errors import CaptionError
from tests.conftest import FIXTURES

CAPTIONS = FIXTURES / "captions"


def seg(video_id, start, end, text, word_times):
    return TranscriptSegment(video_id, start, end, text, watch_url_at(video_id, start), word_times)


def load(name):
    video_id, _, fmt = name.split(".")
    captions = parse_caption((CAPTIONS / name).read_bytes(), fmt, name)
    return captions, segment(captions.words, video_id)


def test_uploaded_vtt_cues_kept_whole_and_grouped_into_sentences():
    captions, segments = load("Z_wULE3_exE.en.vtt")
    assert captions.kind == "uploaded"
    assert segments == [
        # a sentence end once 4 s long: "everyone." at 4 s does not close (3 s), "AI." at 10 s does;
        # each cue's text is timed as a whole: [offset, ms after the start] per cue
        seg("Z_wULE3_exE", 1.0, 10.0,
            "Welcome, everyone. Today I'll talk about shortcut learning & how to detect it in medical AI.",
            "[0,0,19,3500,59,6500]"),
        # a 3 s pause (13 -> 16) closes it before the sentence is 4 s long
        seg("Z_wULE3_exE", 10.0, 13.0, ">> A shortcut is a spurious correlation, as Jiménez showed.", "[0,0]"),
        # 15 s at most (MAX_SEGMENT_SECONDS): the cue that would end at 36 s starts a new segment
        seg("Z_wULE3_exE", 16.0, 31.0, "We trained on chest X-rays from three hospitals and the model learned",
            "[0,0,27,5000,48,10000]"),
        seg("Z_wULE3_exE", 31.0, 46.0, "to recognise the hospital rather than the disease in the image.",
            "[0,0,26,5000,50,10000]"),
    ]
    assert [s.url for s in segments] == [
        "https://www.youtube.com/watch?v=Z_wULE3_exE&t=0s",
        "https://www.youtube.com/watch?v=Z_wULE3_exE&t=9s",
        "https://www.youtube.com/watch?v=Z_wULE3_exE&t=15s",
        "https://www.youtube.com/watch?v=Z_wULE3_exE&t=30s",
    ]


def test_rolling_automatic_vtt_reads_each_word_once_at_its_own_time():
    captions, segments = load("VlHRsMC96y0.en-orig.vtt")
    assert captions.kind == "automatic"
    assert [(w.start, w.text) for w in captions.words] == [
        (60.0, "so"), (60.48, "annotation"), (61.12, "cost"), (61.6, "is"),
        (62.32, "the"), (62.56, "main"), (62.88, "problem"), (63.52, "with"), (63.8, "label"),
        (66.5, "noise"), (66.9, "in"), (67.2, "radiology"), (67.8, "reports"),
    ]
    assert segments == [
        # "label" ends at 64.8 (a word lasts 1 s at most); "noise" at 66.5 is after a 1.7 s pause
        seg("VlHRsMC96y0", 60.0, 64.8, "so annotation cost is the main problem with label",
            "[0,0,3,480,14,1120,19,1600,22,2320,26,2560,31,2880,39,3520,44,3800]"),
        seg("VlHRsMC96y0", 66.5, 68.8, "noise in radiology reports", "[0,0,6,400,9,700,19,1300]"),
    ]
    assert segments[1].url == "https://www.youtube.com/watch?v=VlHRsMC96y0&t=65s"


def test_automatic_json3_skips_window_append_and_blank_events():
    captions, segments = load("hDKuw28ATe4.en-orig.json3")
    assert captions.kind == "automatic"
    assert [w.text for w in captions.words] == (
        "today we talk about fair models and the datasets behind them "
        "equipoise means genuine uncertainty among clinicians".split()
    )
    assert captions.words[1].start == 1.6  # tStartMs 1200 + tOffsetMs 400
    assert segments == [
        seg("hDKuw28ATe4", 1.2, 6.0, "today we talk about fair models and the datasets behind them",
            "[0,0,6,400,9,700,14,1000,20,1400,25,1900,32,2200,36,2500,40,2700,49,3300,56,3800]"),
        seg("hDKuw28ATe4", 8.5, 12.4, "equipoise means genuine uncertainty among clinicians",
            "[0,0,10,700,16,1100,24,1600,36,2500,42,2900]"),
    ]
    assert segments[1].url == "https://www.youtube.com/watch?v=hDKuw28ATe4&t=7s"


@pytest.mark.parametrize("name", sorted(p.name for p in CAPTIONS.iterdir() if p.is_file()))
def test_no_word_is_said_twice(name):
    captions, segments = load(name)
    timed = Counter((w.start, w.text) for w in captions.words)
    assert max(timed.values()) == 1
    # every word of the file is in exactly one segment, in order
    assert " ".join(s.text for s in segments) == " ".join(w.text for w in captions.words)
    assert all(a.end_seconds <= b.start_seconds for a, b in zip(segments, segments[1:]))


def test_rolling_vtt_with_a_repeated_cue_still_gives_each_word_once():
    text = (CAPTIONS / "VlHRsMC96y0.en-orig.vtt").read_text()
    cues = text.split("\n\n")
    doubled = "\n\n".join(cues[:4] + cues[3:])  # a timed cue served twice
    captions = parse_vtt(doubled.encode())
    assert Counter((w.start, w.text) for w in captions.words).most_common(1)[0][1] == 1


def test_uploaded_json3_events_are_cues():
    doc = {"events": [
        {"tStartMs": 0, "dDurationMs": 2000, "segs": [{"utf8": "Hello "}, {"utf8": "<b>world</b>."}]},
        {"tStartMs": 2500, "dDurationMs": 7000, "segs": [{"utf8": "Data &amp; models."}]},
    ]}
    captions = parse_json3(json.dumps(doc).encode())
    assert captions.kind == "uploaded"
    assert segment(captions.words, "abcdefghijk") == [
        seg("abcdefghijk", 0.0, 9.5, "Hello world. Data & models.", "[0,0,13,2500]")]


@pytest.mark.parametrize("data, fmt, message", [
    (b"", "vtt", "no WEBVTT header"),
    (b"<html>not captions</html>", "vtt", "no WEBVTT header"),
    (b"[1, 2]", "json3", "no events list"),
    (b"{not json", "json3", "not a json3 caption file"),
    (b"\xff\xfe\x00", "json3", "not a json3 caption file"),
    (b"WEBVTT\n", "srt", "not a caption format"),
])
def test_not_a_caption_file(data, fmt, message):
    with pytest.raises(CaptionError, match=message):
        parse_caption(data, fmt, "x.en." + fmt)


def test_size_is_bounded():
    with pytest.raises(CaptionError, match="larger than"):
        parse_vtt(b"WEBVTT\n" + b" " * MAX_CAPTION_BYTES)


def test_hostile_values_are_skipped_not_trusted():
    doc = {"events": [
        {"tStartMs": "soon", "segs": [{"utf8": "bad start"}]},
        {"tStartMs": -5, "segs": [{"utf8": "negative"}]},
        {"tStartMs": 1000, "segs": [{"utf8": 7}, {"utf8": "kept", "tOffsetMs": True}, "junk"]},
        {"tStartMs": 2000, "segs": [{"utf8": "ok", "tOffsetMs": 10}]},
    ]}
    assert [w.text for w in parse_json3(json.dumps(doc).encode()).words] == ["ok"]
    with pytest.raises(CaptionError, match="not a YouTube video id"):
        segment([], 'x"><img src=x>')


def test_parsing_is_linear_on_adversarial_input():
    # Many unclosed tags and timestamps on one line: a backtracking pattern would hang here.
    line = "<" * 200_000 + "<00:00:01.000" * 20_000
    captions = parse_vtt(f"WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n{line}\n".encode())
    assert captions.kind == "uploaded"
    many = "WEBVTT\n\n" + "".join(
        f"00:{i // 60 % 60:02d}:{i % 60:02d}.000 --> 00:{i // 60 % 60:02d}:{i % 60:02d}.500\nw{i}\n\n" for i in range(20_000)
    )
    segments = segment(parse_vtt(many.encode()).words, "abcdefghijk")
    assert sum(len(s.text.split()) for s in segments) == 20_000


def test_link_is_one_second_early_and_never_negative():
    assert watch_url_at("abcdefghijk", 0.4) == "https://www.youtube.com/watch?v=abcdefghijk&t=0s"
    assert watch_url_at("abcdefghijk", 1.9) == "https://www.youtube.com/watch?v=abcdefghijk&t=0s"
    assert watch_url_at("abcdefghijk", 125.2) == "https://www.youtube.com/watch?v=abcdefghijk&t=124s"


def test_content_hash_follows_the_words_not_the_bytes():
    _, segments = load("hDKuw28ATe4.en-orig.json3")
    again = parse_json3(json.dumps(json.loads((CAPTIONS / "hDKuw28ATe4.en-orig.json3").read_text())).encode())
    assert content_hash(segment(again.words, "hDKuw28ATe4")) == content_hash(segments)
    changed = segments[:1] + [seg("hDKuw28ATe4", 8.5, 12.4, "equipoise means real uncertainty among clinicians",
                                  segments[1].word_times)]
    assert content_hash(changed) != content_hash(segments)
