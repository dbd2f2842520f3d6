"""Lines the pages get wrong are read with a warning, never silently (issue #13.9).

A code variant ("S1E1") does not take over the talk its code belongs to, an impossible
date keeps its text, and a line with no valid code is named; every warning reaches the
sync's output (SyncReport.warnings, printed as `warning: ...`). Codes on the command
line are read as people write them, and video ids may start with "-".
"""
from __future__ import annotations

import pytest

from sync.cli import cli
from sync.pages import parse_webinar_page

from .conftest import FIXTURES, rows

WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
REAL_S01E01 = "* S01E01 - **[Dr. Roxana Daneshjou]"
VARIANT = "* S1E1 - **Mallory Mole** (Nowhere Institute). 6th March 2023. **A talk that is not S01E01**\n"


def page_with(tmp_path, before_s01e01: str = "", replace: tuple[str, str] = ("", "")):
    text = WEBINAR.read_text("utf-8")
    assert REAL_S01E01 in text
    text = text.replace(REAL_S01E01, before_s01e01 + REAL_S01E01)
    if replace[0]:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / f"webinar-{len(list(tmp_path.glob('webinar-*')))}.md"
    path.write_text(text, "utf-8")
    return path


def sync(runner, db_path, page):
    result = runner.invoke(cli, ["sync", "--db", db_path, "--page", str(page), "--no-talks-page",
                                 "--today", "2026-08-11", "--source", "none"])
    assert result.exit_code == 0, (result.output, result.exc_info)
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def talk_rows(db_path, where):
    return rows(db_path, f"SELECT code, speakers, title, date, date_text FROM talks WHERE {where} ORDER BY id")


S01E01_ROW = {"code": "S01E01", "speakers": "Roxana Daneshjou",
              "title": "Challenges with equipoise and fairness in AI/ML datasets in dermatology",
              "date": "2023-02-27", "date_text": "27th Feb 2023"}
MALLORY_ROW = {"code": None, "speakers": "Mallory Mole", "title": "A talk that is not S01E01",
               "date": "2023-03-06", "date_text": "6th March 2023"}


def test_a_code_variant_above_the_real_line_does_not_take_over_its_talk(runner, db_path, tmp_path):
    assert sync(runner, db_path, WEBINAR) == []
    [s01e01_id] = [r["id"] for r in rows(db_path, "SELECT id FROM talks WHERE code = 'S01E01'")]
    warnings = sync(runner, db_path, page_with(tmp_path, VARIANT))
    assert talk_rows(db_path, "code = 'S01E01'") == [S01E01_ROW]
    assert rows(db_path, "SELECT id FROM talks WHERE code = 'S01E01'") == [{"id": s01e01_id}]
    assert talk_rows(db_path, "speakers = 'Mallory Mole'") == [MALLORY_ROW]  # both kept
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: the webinar page gives S01E01 to 2 talks: Roxana Daneshjou")
    assert "Mallory Mole" in warnings[0]
    # nothing of the variant was written over the real talk
    assert rows(db_path, "SELECT count(*) n FROM changes WHERE run_id = 2 AND row_key = ?", [str(s01e01_id)]) \
        == [{"n": 0}]


def test_on_a_fresh_database_the_code_as_spelt_wins_over_a_variant_above_it(runner, db_path, tmp_path):
    warnings = sync(runner, db_path, page_with(tmp_path, VARIANT))
    assert talk_rows(db_path, "code = 'S01E01'") == [S01E01_ROW]
    assert talk_rows(db_path, "speakers = 'Mallory Mole'") == [MALLORY_ROW]
    assert len(warnings) == 1 and "S01E01" in warnings[0]


def test_an_impossible_date_keeps_its_text_and_warns(runner, db_path, tmp_path):
    page = page_with(tmp_path, replace=("27th Feb 2023. **Challenges", "31st February 2023. **Challenges"))
    warnings = sync(runner, db_path, page)
    assert talk_rows(db_path, "code = 'S01E01'") == [{**S01E01_ROW, "date": None, "date_text": "31st February 2023"}]
    assert warnings == [f'warning: {page}: S01E01\'s date "31st February 2023" is not a calendar date;'
                        " kept as written (date_text), with no date"]


@pytest.mark.parametrize("line", [
    "* S00E00 - **Zero Person** (Nowhere). 1st March 2023. **Episode zero**\n",
    "* S100E1 - **Hundred Person** (Nowhere). 1st March 2023. **Season one hundred**\n",
    "* S01E00 - **Nil Person** (Nowhere). 1st March 2023. **Episode nil**\n",
])
def test_a_line_with_no_valid_code_is_named_in_a_warning(runner, db_path, tmp_path, line):
    page = page_with(tmp_path, line)
    warnings = sync(runner, db_path, page)
    shown = line.strip() if len(line.strip()) <= 80 else line.strip()[:79] + "…"  # bounded
    assert warnings == [f'warning: {page}: the line "{shown}" has no valid episode code'
                        " (SxxEyy, from S01E01): not read as a talk"]
    assert rows(db_path, "SELECT count(*) n FROM talks WHERE status = 'listed'") == [{"n": 26}]


def test_parse_warnings_are_in_the_page_record():
    text = WEBINAR.read_text("utf-8").replace(REAL_S01E01, VARIANT + "* S00E00 - **Z** (Y). **T**\n" + REAL_S01E01)
    page = parse_webinar_page(text, "w.md")
    assert page.warnings == ['w.md: the line "* S00E00 - **Z** (Y). **T**" has no valid episode code (SxxEyy, from'
                             " S01E01): not read as a talk"]
    assert [t.code for t in page.listed[:2]] == ["S01E01", "S01E01"]  # the variant too: storage decides
    assert [t.code_text for t in page.listed[:2]] == ["S1E1", "S01E01"]


@pytest.mark.parametrize("video_id", ["-----------", "-hDKuw28ATe", "--db4567890"])
def test_match_pin_takes_an_id_that_starts_with_a_dash(runner, db_path, video_id):
    sync(runner, db_path, WEBINAR)
    result = runner.invoke(cli, ["match", "pin", "--db", db_path, "S01E01", video_id])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"pinned {video_id} for S01E01")
    result = runner.invoke(cli, ["match", "reject", "--db", db_path, "s1e1", "--", video_id])
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT code, video_id, action FROM match_decisions") == [
        {"code": "S01E01", "video_id": video_id, "action": "reject"}]
