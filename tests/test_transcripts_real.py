"""Real caption files (tests/fixtures/captions/real, SOURCES.md) through the whole pipeline.

Checked against tests/caption_truth.py, an extraction written independently of sync/:
`talks transcripts import` stores every word exactly once, in order, at its own time
(a word said twice at one time twice); each segment starts at its first word; segments are
bounded; and for 30 random phrases of each file (seeded) the hit's link opens at most 2 s
before the words, in search_recordings, on /search and on the talk page. The files are
loaded under the snapshot's talks' video ids, so each one is a talk with a page.
"""
from __future__ import annotations

import html
import random
import re
import shutil
import sqlite3
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from sync.cli import cli
from sync.core.limits import MAX_SEGMENT_CHARS, MAX_SEGMENT_SECONDS
from sync.transcripts.captions import parse_caption, segment
from sync.transcripts.segments import TranscriptSegment, word_times
from tests.caption_truth import truth_words
from tests.test_caption_truth import _bom_crlf, _cr_only, _no_blank_before_timing, _numbered_with_note_and_style
from tests.datasette_process import serving

from .conftest import FIXTURES, search_recordings

REAL = FIXTURES / "captions" / "real"
LISTED = sorted(set(re.findall(r"^\| `([^`]+\.(?:vtt|json3))` \|", (REAL / "SOURCES.md").read_text("utf-8"), re.M)))
PHRASES = 30
SEED = 20261203
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Scripts written without spaces: a space between two of their characters is not a word boundary.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")


def tokens(words: list[str]) -> list[str]:
    """Words as a reader tells them apart: CJK written on without spaces is one run."""
    return _CJK_SPACE.sub("", " ".join(words)).split()


def test_every_listed_file_is_here():
    assert len(LISTED) >= 10
    missing = [name for name in LISTED if not (REAL / name).is_file()]
    assert not missing, f"missing (tests/fixtures/captions/real/SOURCES.md says where each comes from): {missing}"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The snapshot database with every real file imported as one talk's captions: (db, {file: video id})."""
    tmp = tmp_path_factory.mktemp("real_captions")
    db = tmp / "talks.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["sync", "--snapshot", "--db", str(db), "-q"]).exit_code == 0
    con = sqlite3.connect(db)
    videos = [r[0] for r in con.execute("select video_id from talks where video_id is not null order by code")]
    con.close()
    folder = tmp / "captions"
    folder.mkdir()
    ids = {}
    for name, video_id in zip([n for n in LISTED if (REAL / n).is_file()], videos):
        _, lang, fmt = name.rsplit(".", 2)
        shutil.copy(REAL / name, folder / f"{video_id}.{lang}.{fmt}")
        ids[name] = video_id
    result = runner.invoke(cli, ["transcripts", "import", str(folder), "--db", str(db)])
    assert result.exit_code == 0 and "Error" not in result.output, result.output
    return db, ids


def stored(db: Path, video_id: str) -> list[TranscriptSegment]:
    con = sqlite3.connect(db)
    try:
        return [TranscriptSegment(video_id, *row) for row in con.execute(
            "select start_seconds, end_seconds, text, url, word_times from transcript_segments"
            " where video_id = ? and removed_at is null order by seq", [video_id])]
    finally:
        con.close()


@pytest.mark.parametrize("name", LISTED)
def test_every_word_once_in_order_at_its_time(archive, name):
    db, ids = archive
    truth = truth_words(REAL / name)
    segments = stored(db, ids[name])
    pieces = [piece for s in segments for piece in word_times(s)]
    assert tokens([w for _, w in truth]) == tokens([text for _, text in pieces])
    # each timed piece (a word, or an uploaded cue) starts where the truth's words do
    timed = [(t, w) for t, text in pieces for w in text.split()]
    if tokens([w for _, w in truth]) == [w for _, w in truth]:  # no CJK run joined: word for word
        assert [round(t, 3) for t, _ in timed] == [round(t, 3) for t, _ in truth]
    for s in segments:
        assert s.start_seconds == word_times(s)[0][0]  # a segment starts at its first word
        assert len(s.text) <= MAX_SEGMENT_CHARS and s.end_seconds - s.start_seconds <= MAX_SEGMENT_SECONDS
        assert s.url.endswith(f"&t={max(0, int(s.start_seconds) - 1)}s")


def phrases(name: str) -> list[tuple[str, list[float]]]:
    """PHRASES random phrases of the file as a person would type them, each with every time it is said.

    Three words in a row (one of them of five letters or more, so the hits fit a page); in
    Chinese or Japanese, three to five characters of a line, typed without spaces."""
    truth = truth_words(REAL / name)
    rng = random.Random(f"{SEED}:{name}")
    words = [w for _, w in truth]
    out = []
    cjk = [(t, w) for t, w in truth if re.search(f"[{_CJK}]{{4}}", w)]
    for _ in range(PHRASES * 20):
        if len(out) == PHRASES:
            break
        if cjk:
            t, w = rng.choice(cjk)
            runs = re.findall(f"[{_CJK}]{{4,}}", w)
            run = rng.choice(runs)
            n = rng.randint(3, min(5, len(run)))
            at = rng.randrange(len(run) - n + 1)
            phrase = run[at:at + n]
            times = [t for t, w in truth if phrase in w]
        else:
            i = rng.randrange(len(words) - 2)
            three = words[i:i + 3]
            if not any(len(re.sub(r"\W", "", w)) >= 5 for w in three):
                continue
            phrase = " ".join(three)
            key = [re.findall(r"\w+", w.lower()) for w in three]
            times = [truth[j][0] for j in range(len(words) - 2)
                     if [re.findall(r"\w+", w.lower()) for w in words[j:j + 3]] == key]
        if re.search(r"\w", phrase):
            out.append((phrase, times))
    assert len(out) == PHRASES
    return out


def within(second: int, times: list[float]) -> bool:
    """The link opens at most 2 s before the words, and not after they start."""
    return any(0 <= t - second <= 2 for t in times)


@pytest.mark.parametrize("name", LISTED)
def test_search_recordings_links_at_most_2_s_before_the_words(archive, name):
    db, ids = archive
    misses = []
    for phrase, times in phrases(name):
        hits = [h for h in search_recordings(db, phrase) if h["video_id"] == ids[name]]
        seconds = [int(h["link"].rsplit("?t=", 1)[1]) for h in hits]
        if not any(within(s, times) for s in seconds):
            misses.append((phrase, times[:3], seconds[:5]))
    assert misses == []


@pytest.fixture(scope="module")
def site(archive, tmp_path_factory):
    db, ids = archive
    with serving(db, tmp_path_factory.mktemp("real_site") / "datasette.log") as url:
        yield url


def get(url: str) -> str:
    with _NO_PROXY.open(url, timeout=30) as response:
        return response.read().decode("utf-8")


@pytest.mark.parametrize("name", LISTED)
def test_search_page_and_talk_page_link_at_most_2_s_before_the_words(archive, site, name):
    db, ids = archive
    con = sqlite3.connect(db)
    code = con.execute("select code from talks where video_id = ?", [ids[name]]).fetchone()[0]
    con.close()
    misses = []
    for phrase, times in phrases(name):
        page = get(f"{site}/search?{urlencode({'q': phrase})}")
        section = page.split('<section class="hits transcripts">', 1)[-1].split("</section>", 1)[0]
        found = [int(s) for s in re.findall(rf'href="/talk/{code}\?t=(\d+)#player"', section)]
        talk = get(f"{site}/talk/{code}?{urlencode({'q': phrase})}")
        on_talk = [int(s) for s in re.findall(r'<a class="ts" href="[^"?]*\?t=(\d+)#player"', talk)]
        if not any(within(s, times) for s in found) or not any(within(s, times) for s in on_talk):
            misses.append((phrase, times[:3], found[:5], on_talk[:5]))
        # /search and the canned query agree: the same seconds for this talk, in the same order
        canned_seconds = [int(h["link"].rsplit("?t=", 1)[1]) for h in search_recordings(db, phrase) if h["video_id"] == ids[name]]
        assert found == canned_seconds[:len(found)], html.unescape(phrase)
    assert misses == []


@pytest.mark.parametrize("layout", [_bom_crlf, _cr_only, _no_blank_before_timing, _numbered_with_note_and_style])
@pytest.mark.parametrize("name", [n for n in LISTED if n.endswith(".vtt")])
def test_malformed_but_common_vtt_layouts_store_the_same_segments(name, layout):
    """BOM and CRLF, CR alone, no blank line before a timing line (youtube-dl), numbered cues with
    STYLE/NOTE/REGION blocks: the same segments, word times included, as the file as found."""
    video_id = "abcdefghijk"
    original = segment(parse_caption((REAL / name).read_bytes(), "vtt", name).words, video_id)
    changed = layout((REAL / name).read_text(encoding="utf-8")).encode("utf-8")
    assert segment(parse_caption(changed, "vtt", name).words, video_id) == original
