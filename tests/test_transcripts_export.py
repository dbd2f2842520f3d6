"""Transcripts to take away: the writers, and `talks transcripts export DIR`."""
from __future__ import annotations

from sync.cli import cli
from sync.transcripts.export import Cue, file_stem, to_srt, to_text, to_vtt

from .conftest import FIXTURES

CUES = [Cue(1.0, 4.5, "Tom & Jerry <said> --> this"), Cue(3725.25, 3726.0, "  two\x20 words  "), Cue(9.0, 8.0, "  ")]


def test_vtt_escapes_what_webvtt_needs_and_times_hours():
    assert to_vtt(CUES) == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.500\nTom &amp; Jerry &lt;said&gt; --&gt; this\n"
        "\n01:02:05.250 --> 01:02:06.000\ntwo words\n")


def test_srt_numbers_its_cues_and_text_is_one_line_each():
    assert to_srt(CUES) == ("1\n00:00:01,000 --> 00:00:04,500\nTom & Jerry <said> --> this\n\n"
                            "2\n01:02:05,250 --> 01:02:06,000\ntwo words\n\n")
    assert to_text(CUES) == "Tom & Jerry <said> --> this\ntwo words\n"


def test_file_names_are_safe():
    assert (file_stem("S03E01", 4), file_stem(None, 12), file_stem("../../x", 3), file_stem("..", 5)) == (
        "S03E01", "talk-12", "______x", "talk-5")


def test_export_writes_every_talk_with_a_transcript(runner, db_path, tmp_path):
    assert runner.invoke(cli, ["sync", "--snapshot", "--db", db_path, "-q"]).exit_code == 0
    assert runner.invoke(cli, ["transcripts", "import", str(FIXTURES / "captions"), "--db", db_path]).exit_code == 0
    out = tmp_path / "out"
    result = runner.invoke(cli, ["transcripts", "export", str(out), "--db", db_path])
    assert result.exit_code == 0, result.output
    assert result.output == f"3 transcripts written to {out} (.vtt, .srt, .txt)\n"
    assert sorted(p.name for p in out.iterdir()) == [f"{code}.{ext}" for code in ("S01E01", "S03E01", "S04E01")
                                                      for ext in ("srt", "txt", "vtt")]
    assert (out / "S03E01.vtt").read_text() == (
        "WEBVTT\n\n00:01:00.000 --> 00:01:04.800\nso annotation cost is the main problem with label\n"
        "\n00:01:06.500 --> 00:01:08.800\nnoise in radiology reports\n")
    assert (out / "S03E01.txt").read_text() == "so annotation cost is the main problem with label\nnoise in radiology reports\n"
