"""The independent word extraction (tests/caption_truth.py) checked against facts read off the
real caption files by hand, so that the truth other tests compare with is itself right."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.caption_truth import SHORTEST_CUE, json3_words, plain, truth_words, vtt_cues, vtt_words

REAL = Path(__file__).parent / "fixtures" / "captions" / "real"

# file: (words, first five, last five), times in seconds. Read off the files: the first and last
# cues/events, an inline <hh:mm:ss.mmm> or tStartMs + tOffsetMs per word. For the uploaded VTT
# files the count is also that of `awk` over the cue text lines piped to `wc -w`.
FACTS = {
    "G2LVjJqVwiI.es.vtt": (
        191,
        [(0.0, "No"), (0.0, "podemos"), (0.0, "seguir"), (0.0, "embarcados"), (0.0, "en")],
        [(66.5, "los"), (66.5, "cinco"), (66.5, "continentes."), (70.01, "Podemos"), (70.01, "hacerlo.")],
    ),
    "3JG3dL4TsH0.zh.vtt": (
        24,
        [(0.0, "世界上真实的最有权势人物今天在达沃斯市场聚会着。"), (5.12, "谁都会难以想象到接下来的信息:"),
         (5.12, "属于他们，有八个人拥有相当半世界的人的财富。"), (15.62, "谁都会难以想象到接下来的信息:"),
         (15.62, "属于他们，有八个人拥有相当半世界的人的财富。")],
        [(77.98, "!...什么要有靈活性竞争性等等...》"), (86.7, "这些人只会如傀儡地四处宣告说《我们没办法啊"),
         (86.7, "!...什么要有靈活性竞争性等等...》"), (90.08, "...可悲的傀儡。这种做法会领世界崩溃。"), (94.52, "(掌声)")],
    ),
    "j6TL7ufqoLc.ru.vtt": (
        259,
        [(6.87, "В"), (6.87, "изюме"), (6.87, "больше"), (6.87, "полезных"), (6.87, "свойств,")],
        [(135.64, "который"), (135.64, "улучшает"), (135.64, "выработку"), (135.64, "грудного"), (135.64, "молока.")],
    ),
    "unknownId02.en.vtt": (
        8,
        [(286.07, "yeah"), (286.47, "what"), (304.08, "this"), (304.199, "will"), (304.379, "happen")],
        [(304.199, "will"), (304.379, "happen"), (304.62, "is"), (304.86, "I'm"), (305.069, "telling")],
    ),
    "unknownId01.ru.vtt": (
        521,
        [(11.179, "чтобы"), (12.179, "приготовить"), (12.48, "дома"), (12.96, "пастилу"), (13.65, "из")],
        [(380.22, "успехом"), (381.22, "вам"), (381.46, "приготовление"), (382.45, "здорового"), (383.02, "питания")],
    ),
    "unknownId03.en.json3": (
        1711,
        [(0.16, "Dashboards"), (0.719, "are"), (0.88, "a"), (1.04, "staple"), (1.36, "of")],
        [(497.039, "in"), (497.199, "the"), (497.36, "next"), (497.52, "one."), (498.98, "[Music]")],
    ),
    "wsGkA4TXqyw.es-419.vtt": (
        1901,
        [(0.0, "Buenas"), (0.0, "tardes,"), (0.0, "Jean"), (0.0, "Luc"), (0.0, "Mélénchon")],
        [(540.74, "de"), (540.74, "haber"), (540.74, "aceptado"), (540.74, "nuestra"), (540.74, "invitación")],
    ),
    "Q8wVMdwhlh4.en.vtt": (
        4713,
        [(0.24, "Welcome"), (0.8, "to"), (1.12, "another"), (1.52, "episode"), (2.0, "of")],
        [(1387.52, "see"), (1387.679, "you"), (1387.76, "guys"), (1387.919, "next"), (1388.159, "time.")],
    ),
    "2tcCWM-sRBw.ja.json3": (  # one seg, one word: Japanese segs hold no spaces
        3384,
        [(0.46, "[音楽]"), (6.229, "悪い"), (7.229, "ん"), (7.75, "て"), (7.78, "い")],
        [(1456.32, "は"), (1456.59, "ござい"), (1456.83, "ませ"), (1456.95, "ん"), (1460.89, "ん")],
    ),
    "bKwbFuqt528.en.vtt": (
        4839,
        [(0.014, "(upbeat"), (0.014, "music)"), (7.726, "-"), (7.726, "Hi,"), (7.726, "everyone.")],
        [(1591.21, "we"), (1591.21, "discuss"), (1591.21, "the"), (1591.21, "fine"), (1591.21, "print")],
    ),
    "gB0s8oBCjeQ.ru.vtt": (
        11468,
        [(26.68, "Здравствуйте,"), (26.68, "дорогие"), (26.68, "все,"), (26.68, "я"), (26.68, "уже")],
        [(5784.72, "очень"), (5784.72, "ограниченного"), (5784.72, "количества"), (5784.72, "заболеваний."), (5784.72, "Посмотрим.")],
    ),
    "boAJ1tTpW0s.en.vtt": (
        15121,
        [(10.84, "Hi"), (10.84, "kids"), (22.28, "Does"), (22.28, "it"), (22.28, "work")],
        [(6475.42, "better"), (6475.42, "than"), (6475.42, "that,"), (6475.42, "even"), (6475.42, "me.")],
    ),
}
REAL_VTT = [name for name in FACTS if name.endswith(".vtt")]
ROLLING = ["Q8wVMdwhlh4.en.vtt"]


def same(words, expected):
    assert [w for _, w in words] == [w for _, w in expected]
    assert [t for t, _ in words] == pytest.approx([t for t, _ in expected], abs=1e-9)


def test_every_listed_file_is_here_and_nothing_else():
    on_disk = {p.name for p in REAL.iterdir() if p.suffix in (".vtt", ".json3")}
    assert not set(FACTS) - on_disk, f"missing (SOURCES.md says where each comes from): {sorted(set(FACTS) - on_disk)}"
    assert on_disk == set(FACTS)
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    for name in FACTS:
        assert f"`{name}`" in sources


def test_sources_name_the_blob_of_each_file():
    """SOURCES.md's blob id is git's hash of the bytes: the file is the one in that repository."""
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    for name in FACTS:
        data = (REAL / name).read_bytes()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        row = next(line for line in sources.splitlines() if line.startswith(f"| `{name}`"))
        assert blob in row, name


@pytest.mark.parametrize("name", list(FACTS))
def test_count_first_and_last_words(name):
    count, first, last = FACTS[name]
    words = truth_words(REAL / name)
    assert len(words) == count
    same(words[:5], first)
    same(words[-5:], last)


@pytest.mark.parametrize("name", list(FACTS))
def test_words_are_in_time_order(name):
    times = [t for t, _ in truth_words(REAL / name)]
    assert times == sorted(times)


def test_a_word_said_twice_at_one_timestamp_is_kept_twice():
    words = truth_words(REAL / "Q8wVMdwhlh4.en.vtt")
    assert [w for t, w in words if t == pytest.approx(253.28)] == ["a", "a"]
    assert [w for t, w in words if t == pytest.approx(731.6)] == ["set", "set"]


def test_japanese_segs_are_kept_whole():
    """A Japanese json3 seg is one token without spaces: each is one word, a leading space
    (`" だけ"`) is dropped, `\\u0026` is `&`, and a seg without tOffsetMs is at its event's start."""
    doc = json.loads((REAL / "2tcCWM-sRBw.ja.json3").read_text(encoding="utf-8"))
    segs = [seg["utf8"] for event in doc["events"] if "segs" in event and not event.get("aAppend")
            for seg in event["segs"] if seg["utf8"].strip()]
    words = truth_words(REAL / "2tcCWM-sRBw.ja.json3")
    assert [w for _, w in words] == [seg.strip() for seg in segs]
    assert not any(" " in seg.strip() for seg in segs)
    assert sum(seg.startswith(" ") for seg in segs) == 43
    assert (1455.87, "だけ") in words and (408.629, "&") in words and (1448.25, "7") in words


@pytest.mark.parametrize("name", ROLLING)
def test_rolling_captions_agree_with_their_redisplay_cues(name):
    """Counted another way: once a line is finished, a ~10 ms cue shows it again as plain text
    (its first line). Those words, in order, are all among the truth's words, in the same order;
    the few left over are lines never redisplayed (the last one, lines cleared by a pause)."""
    cues = vtt_cues((REAL / name).read_text(encoding="utf-8"))
    redisplayed = [w for s, e, lines in cues if e - s < SHORTEST_CUE and lines for w in plain(lines[0]).split()]
    words = iter(w for _, w in truth_words(REAL / name))
    assert all(any(w == r for w in words) for r in redisplayed)  # an in-order subsequence
    left_over = len(truth_words(REAL / name)) - len(redisplayed)
    assert left_over == {"Q8wVMdwhlh4.en.vtt": 12}[name]
    assert len(redisplayed) > 4000


# Layouts no real file here has: added to copies of the real files, nothing read may change.

def _bom_crlf(text):
    return "\ufeff" + text.replace("\n", "\r\n")


def _cr_only(text):
    return text.replace("\n", "\r")


def _no_blank_before_timing(text):
    """youtube-dl's layout: the timing line right after the previous cue's text."""
    return re.sub(r"\n\n+(?=\d[\d:.]* --> )", "\n", text)


def _numbered_with_note_and_style(text):
    """A number before each cue that follows a blank line (not before a timing line straight
    after text: there a number would be text), then STYLE, NOTE and REGION blocks."""
    head, sep, body = text.partition("\n\n")
    numbers = iter(range(1, 10**7))
    body = re.sub(r"(?<=\n\n)(?=\d[\d:.]* --> )", lambda m: f"{next(numbers)}\n", "\n\n" + body)[2:]
    blocks = "STYLE\n::cue {\n  color: yellow;\n}\n\nNOTE a note\nover two lines\n\nREGION\nid:fred\n\n"
    return head + sep + blocks + body.replace("\n\n", "\n\nNOTE between cues\n\n", 3)


@pytest.mark.parametrize("layout", [_bom_crlf, _cr_only, _no_blank_before_timing, _numbered_with_note_and_style])
@pytest.mark.parametrize("name", REAL_VTT)
def test_vtt_layouts_change_no_word(name, layout, tmp_path):
    original = (REAL / name).read_text(encoding="utf-8")
    variant = layout(original)
    assert variant != original
    copy = tmp_path / name
    copy.write_bytes(variant.encode("utf-8"))
    same(truth_words(copy), truth_words(REAL / name))


@pytest.mark.parametrize("name", [name for name in FACTS if name.endswith(".json3")])
def test_json3_with_bom_and_crlf_changes_no_word(name, tmp_path):
    copy = tmp_path / name
    copy.write_bytes(_bom_crlf((REAL / name).read_text(encoding="utf-8")).encode("utf-8"))
    same(truth_words(copy), truth_words(REAL / name))


def test_no_blank_line_before_timing_is_the_real_youtube_dl_layout():
    text = (REAL / "unknownId02.en.vtt").read_text(encoding="utf-8")
    assert "<c.colorCCCCCC>what</c>\n00:05:04.080 --> " in text
    words = truth_words(REAL / "unknownId02.en.vtt")
    assert words[1] == (286.47, "what") and words[2] == (304.08, "this")


# The rules on small documents written here, one rule each.

def test_json3_rules():
    doc = {"events": [
        {"tStartMs": 0, "dDurationMs": 9000, "id": 1},  # window definition: no segs
        {"tStartMs": 1000, "segs": [{"utf8": "so"}, {"utf8": " i", "tOffsetMs": 200}, {"utf8": " i", "tOffsetMs": 200}]},
        {"tStartMs": 1900, "aAppend": 1, "segs": [{"utf8": "\n"}]},
        {"tStartMs": 2000, "segs": [{"utf8": "\n"}, {"utf8": "  "}, {"utf8": ">> two words", "tOffsetMs": 50}]},
        {"tStartMs": 3000, "segs": [{"utf8": "まあ昨日はね"}, {"utf8": "大変な", "tOffsetMs": 400}]},
        {"tStartMs": 4000, "aAppend": 1, "segs": [{"utf8": "appended"}]},
    ]}
    assert json3_words(doc) == [(1.0, "so"), (1.2, "i"), (1.2, "i"), (2.05, ">>"), (2.05, "two"), (2.05, "words"),
                                (3.0, "まあ昨日はね"), (3.4, "大変な")]


def test_rolling_vtt_rules():
    text = (
        "WEBVTT\nKind: captions\nLanguage: en\n\n"
        "00:00:01.000 --> 00:00:02.990 align:start position:0%\n \n"
        "so<00:00:01.500><c> i</c><00:00:01.500><c> i</c><00:00:02.000><c> said</c>\n\n"
        "00:00:02.990 --> 00:00:03.000 align:start position:0%\nso i i said\n \n\n"
        "00:00:03.000 --> 00:00:04.000 align:start position:0%\nso i i said\nokay\n\n"
        "00:00:04.000 --> 00:00:04.010 align:start position:0%\nokay\n \n"
    )
    assert vtt_words(text) == [(1.0, "so"), (1.5, "i"), (1.5, "i"), (2.0, "said"), (3.0, "okay")]


def test_uploaded_vtt_rules():
    text = (
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<v Roger>Tom &amp; Jerry</v>\n&lt;3 fish&nbsp;chips\n\n"
        "2\n01:00:00.500 --> 01:00:01.000 line:0\n<i>1990</i>\n"
        "00:02.000 --> 00:03.000\nno hour\n"
    )
    assert vtt_words(text) == [(1.0, "Tom"), (1.0, "&"), (1.0, "Jerry"), (1.0, "<3"), (1.0, "fish"), (1.0, "chips"),
                               (3600.5, "1990"), (2.0, "no"), (2.0, "hour")]
