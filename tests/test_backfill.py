"""`talks backfill` over the series' real page history (rebuilt as a git repository).

The repository is built once per session from tests/fixtures/corpus (every version
of the two pages with its real commit date); one backfill of it is shared by the
tests that only read what it left.
"""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from sync.pipeline.backfill import BackfillOptions, backfill
from sync.cli import cli

from .conftest import rows
from .history_repo import CORPUS, build_history_repo, rebuilt_commits, series_versions

NEWEST_WEBINAR = "2026-08-11_034514e8_webinar.md"
NEWEST_TALKS = "2026-08-11_dd744744_webinar_talks.md"


@pytest.fixture(scope="session")
def history_repo(tmp_path_factory):
    path = tmp_path_factory.mktemp("site") / "repo"
    build_history_repo(path)
    return path


@pytest.fixture(scope="session")
def page_commits(history_repo):
    """index.json's page commits, oldest first, as (original id, rebuilt id, committed)."""
    rebuilt = rebuilt_commits(history_repo)
    seen, out = set(), []
    for entry in series_versions():
        if entry["commit"] not in seen:
            seen.add(entry["commit"])
            out.append((entry["commit"], rebuilt[entry["commit"]], entry["committed"]))
    return out


@pytest.fixture(scope="session")
def backfilled(history_repo, tmp_path_factory):
    """A database one `talks backfill` of the whole history built, and its CLI output."""
    from click.testing import CliRunner

    db_path = str(tmp_path_factory.mktemp("backfilled") / "talks.db")
    result = CliRunner().invoke(cli, ["backfill", "--repo", str(history_repo), "--db", db_path])
    assert result.exit_code == 0, result.output
    return db_path, result


def talk(db_path, where, params=()):
    found = rows(db_path, f"SELECT * FROM talks WHERE {where}", params)
    assert len(found) == 1, found
    return found[0]


def talk_changes(db_path, talk_id, column):
    return rows(
        db_path,
        "SELECT old_value, new_value, run_id, commit_id, changed_at FROM talk_history"
        " WHERE talk_id = ? AND column_name = ? ORDER BY change_id",
        [talk_id, column],
    )


# ----------------------------------------------------------------------------- the replay


def test_every_page_commit_is_one_run_with_its_commit_and_date(backfilled, page_commits):
    db_path, result = backfilled
    runs = rows(db_path, "SELECT * FROM sync_runs ORDER BY id")
    assert [(r["commit_id"], r["commit_date"]) for r in runs] == [(new, when) for _, new, when in page_commits]
    assert all(r["status"] == "ok" and r["source"] == "none" for r in runs)
    # dated the commit's own day: the reports count "past" from there
    assert [r["today"] for r in runs] == [when[:10] for _, _, when in page_commits]
    assert runs[0]["pages"] == f"{page_commits[0][1][:12]}:_pages/webinar.md"
    # the talks page appears in March 2024 and is read with every later commit
    first_talks = next(i for i, (orig, _, _) in enumerate(page_commits) if orig.startswith("3d591e37"))
    assert "webinar_talks.md" not in runs[first_talks - 1]["pages"]
    assert runs[first_talks]["pages"].endswith(f"{page_commits[first_talks][1][:12]}:_pages/webinar_talks.md")
    # the commit touching neither page (README only) is not replayed
    assert len(runs) == len(page_commits) == 83
    assert "83 commits touch the pages, 83 replayed" in result.output
    assert result.stdout.count("\n") == 1  # one summary line


def test_talk_announced_and_never_listed_is_missing_as_never_listed(backfilled):
    db_path, _ = backfilled
    missing = rows(
        db_path, "SELECT * FROM missing_recordings WHERE speakers = 'Cathrine Damgaard and Trine Naja Eriksen'"
    )
    assert len(missing) == 1
    assert missing[0]["reason"] == "never_listed"
    assert missing[0]["date"] == "2023-09-18"
    assert missing[0]["code"] is None


def test_a_speaker_who_dropped_out_is_one_talk_with_the_change_recorded(backfilled):
    db_path, _ = backfilled
    s02e03 = talk(db_path, "code = 'S02E03'")
    assert s02e03["speakers"] == "Ujjwal Baid"
    assert rows(db_path, "SELECT count(*) AS n FROM talks WHERE speakers LIKE '%Baid%'") == [{"n": 1}]
    speakers = talk_changes(db_path, s02e03["id"], "speakers")
    assert [(c["old_value"], c["new_value"]) for c in speakers] == [
        (None, "Spyridon Bakas and Ujjwal Baid"),
        ("Spyridon Bakas and Ujjwal Baid", "Ujjwal Baid"),
    ]
    # the drop-out is dated by its commit, and Bakas no longer speaks at it
    assert speakers[1]["changed_at"] == "2023-06-15T13:41:40+02:00"
    assert rows(
        db_path,
        "SELECT s.name, ts.removed_at IS NOT NULL AS gone FROM talk_speakers ts JOIN speakers s ON s.id = ts.speaker_id"
        " WHERE ts.talk_id = ? ORDER BY s.name",
        [s02e03["id"]],
    ) == [{"name": "Spyridon Bakas", "gone": 1}, {"name": "Ujjwal Baid", "gone": 0}]


def test_a_replaced_video_link_is_a_change_of_page_video_id(backfilled, page_commits):
    db_path, _ = backfilled
    s01e01 = talk(db_path, "code = 'S01E01'")
    links = talk_changes(db_path, s01e01["id"], "page_video_id")
    assert [(c["old_value"], c["new_value"]) for c in links] == [(None, "zLxYUtToXGg"), ("zLxYUtToXGg", "hDKuw28ATe4")]
    rebuilt = {orig[:8]: new for orig, new, _ in page_commits}
    assert links[1]["commit_id"] == rebuilt["4fa1f4a3"]
    assert s01e01["page_video_id"] == "hDKuw28ATe4"


def test_the_playlist_the_page_links_is_recorded_per_run(backfilled):
    db_path, _ = backfilled
    linked = [r["page_playlists"] for r in rows(db_path, "SELECT page_playlists FROM sync_runs ORDER BY id")]
    distinct = [p for i, p in enumerate(linked) if p and (i == 0 or p != linked[i - 1])]
    assert distinct == ["PL_BSB_M_evSmfj9zSvqYVgTcJFtVdJc3y", "PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy"]
    moved = rows(
        db_path,
        "SELECT commit_date FROM sync_runs WHERE page_playlists = 'PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy'"
        " ORDER BY id LIMIT 1",
    )
    assert moved == [{"commit_date": "2025-11-18T08:52:52+01:00"}]


def test_end_state_equals_a_plain_sync_of_the_newest_pages(backfilled, runner, tmp_path):
    db_path, _ = backfilled
    plain = str(tmp_path / "plain.db")
    result = runner.invoke(cli, [
        "sync", "--db", plain, "--source", "none", "--page", str(CORPUS / NEWEST_WEBINAR),
        "--talks-page", str(CORPUS / NEWEST_TALKS), "--today", "2026-08-11",
    ])
    assert result.exit_code == 0, result.output
    sql = (
        "SELECT code, status, date, title, speakers, page_video_id, abstract IS NOT NULL AS has_abstract"
        " FROM talks WHERE removed_at IS NULL AND {} ORDER BY code, speakers"
    )
    given = "status != 'unlisted'"
    assert rows(db_path, sql.format(given)) == rows(plain, sql.format(given))
    assert len(rows(plain, sql.format(given))) == 29
    # The talk never given is on today's talks page too (an abstract, no date); only
    # the history knows the day it was announced for.
    never = "status = 'unlisted'"
    assert [{**r, "date": None} for r in rows(db_path, sql.format(never))] == rows(plain, sql.format(never))
    assert [r["date"] for r in rows(db_path, sql.format(never))] == ["2023-09-18"]


def test_a_second_backfill_changes_nothing_and_a_later_sync_continues(backfilled, history_repo, runner, tmp_path):
    db_path, _ = backfilled
    copy = str(tmp_path / "talks.db")
    shutil.copy(db_path, copy)
    before = {t: rows(copy, f"SELECT * FROM {t}") for t in ("talks", "talk_speakers", "speakers", "changes", "sync_runs")}
    again = runner.invoke(cli, ["backfill", "--repo", str(history_repo), "--db", copy])
    assert again.exit_code == 0, again.output
    assert "0 replayed, 83 already replayed" in again.output and "0 rows changed" in again.output
    assert {t: rows(copy, f"SELECT * FROM {t}") for t in before} == before
    # the scheduled sync of today's pages finds nothing new
    later = runner.invoke(cli, [
        "sync", "--db", copy, "--source", "none", "--page", str(CORPUS / NEWEST_WEBINAR),
        "--talks-page", str(CORPUS / NEWEST_TALKS), "--today", "2026-08-12",
    ])
    assert later.exit_code == 0, later.output
    assert " 0 rows changed" in later.output
    assert rows(copy, "SELECT count(*) AS n FROM changes") == [{"n": len(before["changes"])}]


def test_a_sync_with_youtube_continues_from_the_backfill(backfilled, runner, tmp_path):
    """The bundled snapshot (pages of 2026-08-11 and their playlist) after the backfill: the
    same talk rows get their recordings, and only the talk never given stays missing."""
    db_path, _ = backfilled
    copy = str(tmp_path / "talks.db")
    shutil.copy(db_path, copy)
    ids = rows(copy, "SELECT id, code, speakers FROM talks ORDER BY id")
    result = runner.invoke(cli, ["sync", "--snapshot", "--db", copy])
    assert result.exit_code == 0, result.output
    assert rows(copy, "SELECT id, code, speakers FROM talks ORDER BY id") == ids
    assert rows(copy, "SELECT count(*) AS n FROM talks WHERE video_id IS NOT NULL") == [{"n": 26}]
    assert [(m["speakers"], m["reason"]) for m in rows(copy, "SELECT * FROM missing_recordings")] == [
        ("Cathrine Damgaard and Trine Naja Eriksen", "never_listed")
    ]


def test_talk_history_tells_a_talks_story_with_commit_and_run(backfilled):
    db_path, _ = backfilled
    kooi = talk(db_path, "code = 'S03E01'")
    history = rows(db_path, "SELECT * FROM talk_history WHERE talk_id = ?", [kooi["id"]])
    assert list(history[0]) == [
        "talk_id", "code", "changed_at", "table_name", "column_name", "old_value", "new_value",
        "run_id", "commit_id", "change_id",
    ]
    assert {h["code"] for h in history} == {"S03E01"} and {h["table_name"] for h in history} == {"talks"}
    columns = [h["column_name"] for h in history]
    assert "status" in columns and "code" in columns and "title" in columns
    assert "speakers_ascii" not in columns  # a derived copy, not news
    # oldest first, each with the commit that made it
    assert [h["run_id"] for h in history] == sorted(h["run_id"] for h in history)
    assert all(h["commit_id"] and h["changed_at"][:4] in ("2023", "2024", "2025", "2026") for h in history)
    coded = next(h for h in history if h["column_name"] == "code")
    assert (coded["old_value"], coded["new_value"]) == (None, "S03E01")


# ----------------------------------------------------------------------------- resuming, --since


def test_a_backfill_resumes_where_the_last_one_stopped(backfilled, tmp_path):
    """The first 40 page commits, then the whole history: the same commits (fast-import is
    deterministic) are skipped, and the end state is a whole backfill's."""
    db_path, _ = backfilled
    versions = series_versions()
    first = sorted({e["commit"] for e in versions}, key=lambda c: next(e["committed"] for e in versions if e["commit"] == c))[:40]
    early = build_and_backfill(tmp_path / "early", [e for e in versions if e["commit"] in first], tmp_path / "t.db")
    assert early.replayed == 40
    report = build_and_backfill(tmp_path / "whole", None, tmp_path / "t.db")
    assert (report.already, report.replayed, report.commits) == (40, 43, 83)
    sql = "SELECT id, code, status, date, title, speakers, page_video_id, removed_at IS NULL AS live FROM talks ORDER BY id"
    assert rows(str(tmp_path / "t.db"), sql) == rows(db_path, sql)
    sql = "SELECT table_name, row_key, column_name, old_value, new_value FROM changes ORDER BY id"
    assert [{k: v for k, v in r.items()} for r in rows(str(tmp_path / "t.db"), sql)] == rows(db_path, sql)


def build_and_backfill(repo, versions, db, **options):
    build_history_repo(repo, versions)
    return backfill(BackfillOptions(repo=str(repo), db_path=str(db), **options))


def test_since_replays_only_commits_of_that_day_or_later(history_repo, tmp_path):
    calls = []
    report = backfill(
        BackfillOptions(repo=str(history_repo), db_path=str(tmp_path / "t.db"), since=dt.date(2025, 11, 18)),
        progress=lambda done, total, commit: calls.append((done, total)),
    )
    assert (report.commits, report.replayed) == (10, 10)
    dates = [r["commit_date"][:10] for r in rows(str(tmp_path / "t.db"), "SELECT commit_date FROM sync_runs")]
    assert min(dates) == "2025-11-18" and len(dates) == 10
    # progress: commits done of the total, from 0 to all
    assert calls[0] == (0, 10) and calls[-1] == (10, 10)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# ----------------------------------------------------------------------------- a code typed twice

OCTOBER = {"Mamunur Rahaman": "S08E01", "David Restrepo": "S08E02", "Yuki Arase": "S08E03"}
MAY = {"Amelia Jiménez-Sánchez": "S07E01", "Tiarna Lee": "S07E02", "Dewinda J. Rumala": "S07E03"}


def test_duplicate_codes_warn_and_keep_six_talks_that_end_renumbered(backfilled, page_commits):
    db_path, result = backfilled
    rebuilt = {orig[:8]: new for orig, new, _ in page_commits}
    # a warning per code, naming both talks, at each of the three commits that typed them twice
    for orig in ("85843fba", "4fa1f4a3", "1189dd5a"):
        for code, (may, october) in zip(("S07E01", "S07E02", "S07E03"), zip(MAY, OCTOBER)):
            warning = next(
                line for line in result.stderr.splitlines()
                if line.startswith(f"warning: {rebuilt[orig][:12]} ") and f"gives {code} to 2 talks" in line
            )
            assert may in warning and october in warning
    assert "ef69b18b" not in " ".join(l for l in result.stderr.splitlines() if "gives S07" in l)
    assert sum("gives S07" in line for line in result.stderr.splitlines()) == 9
    # six distinct talks, each its own row from announcement to today
    for name, code in {**MAY, **OCTOBER}.items():
        row = talk(db_path, "speakers = ?", [name])
        assert (row["code"], row["page_code"], row["status"]) == (code, code, "listed")
        assert [c["new_value"] for c in talk_changes(db_path, row["id"], "speakers")] == [name]
    # the October talks were listed as S07E0x, then took their own codes: both changes recorded
    fixed = rebuilt["ef69b18b"]
    for name, code in OCTOBER.items():
        row = talk(db_path, "speakers = ?", [name])
        typed = [(c["old_value"], c["new_value"], c["commit_id"]) for c in talk_changes(db_path, row["id"], "page_code")]
        assert typed == [(None, "S07" + code[3:], rebuilt["85843fba"]), ("S07" + code[3:], code, fixed)]
        assert [(c["old_value"], c["new_value"], c["commit_id"]) for c in talk_changes(db_path, row["id"], "code")] == [
            (None, code, fixed)
        ]
    # the May talks kept their codes throughout
    for name, code in MAY.items():
        row = talk(db_path, "speakers = ?", [name])
        assert [c["new_value"] for c in talk_changes(db_path, row["id"], "code")] == [code]


def duplicate_page_syncs(runner, db_path, *pages):
    results = []
    for page, today in pages:
        result = runner.invoke(cli, [
            "sync", "--db", db_path, "--source", "none", "--no-talks-page", "--page", str(CORPUS / page),
            "--today", today, "--allow-shrink",
        ])
        assert result.exit_code == 0, result.output
        results.append(result)
    return results


def test_every_sync_warns_of_a_code_given_to_two_talks(runner, db_path):
    [typed_twice] = duplicate_page_syncs(runner, db_path, ("2025-11-18_85843fba_webinar.md", "2025-11-18"))
    lines = [l for l in typed_twice.stderr.splitlines() if l.startswith("warning:")]
    assert len(lines) == 3
    assert "S07E01 to 2 talks: Amelia Jiménez-Sánchez (2025-05-12" in lines[0] and "Mamunur Rahaman (2025-10-20" in lines[0]
    before = {r["speakers"]: r for r in rows(db_path, "SELECT * FROM talks")}
    # both talks kept as themselves: the October ones listed, without the code the May ones hold
    assert before["Mamunur Rahaman"]["code"] is None and before["Mamunur Rahaman"]["page_code"] == "S07E01"
    assert before["Mamunur Rahaman"]["status"] == "listed"
    assert before["Amelia Jiménez-Sánchez"]["code"] == "S07E01"
    [again] = duplicate_page_syncs(runner, db_path, ("2025-11-18_85843fba_webinar.md", "2025-11-18"))
    assert [l for l in again.stderr.splitlines() if l.startswith("warning:")] == lines  # every sync says so
    assert " 0 rows changed" in again.stdout
    [corrected] = duplicate_page_syncs(runner, db_path, ("2025-11-18_ef69b18b_webinar.md", "2025-11-18"))
    assert "warning" not in corrected.stderr
    after = {r["speakers"]: r for r in rows(db_path, "SELECT * FROM talks")}
    assert set(after) == set(before)  # no talk added, none merged
    for name, code in OCTOBER.items():
        assert after[name]["id"] == before[name]["id"] and after[name]["code"] == code


def test_a_line_repeated_is_one_talk_and_a_warning(runner, db_path, tmp_path):
    page = (CORPUS / NEWEST_WEBINAR).read_text()
    line = next(l for l in page.splitlines(keepends=True) if l.startswith("* S05E01"))
    (tmp_path / "twice.md").write_text(page.replace(line, line + line))
    result = runner.invoke(cli, [
        "sync", "--db", db_path, "--source", "none", "--no-talks-page", "--page", str(tmp_path / "twice.md"),
        "--today", "2026-08-11",
    ])
    assert result.exit_code == 0, result.output
    [warning] = [l for l in result.stderr.splitlines() if l.startswith("warning:")]
    assert warning.startswith("warning: the webinar page lists S05E01 2 times: Hubert Dariusz Zając")
    assert rows(db_path, "SELECT count(*) AS n FROM talks WHERE speakers LIKE 'Hubert%'") == [{"n": 1}]
    assert rows(db_path, "SELECT count(*) AS n FROM talks") == [{"n": 29}]


def test_the_talk_already_holding_a_code_keeps_it_whichever_line_comes_first(runner, db_path, tmp_path):
    """If the page lists the October talk first under a code the database gives the May
    talk, the May talk still keeps it: no row is overwritten with another talk's facts."""
    page = (CORPUS / "2025-11-18_85843fba_webinar.md").read_text()
    lines = page.splitlines(keepends=True)
    may = [i for i, l in enumerate(lines) if l.startswith("* S07E0") and "May 2025" in l]
    october = [i for i, l in enumerate(lines) if l.startswith("* S07E0") and "October 2025" in l]
    swapped = list(lines)
    for m, o in zip(may, october):
        swapped[m], swapped[o] = lines[o], lines[m]
    (tmp_path / "swapped.md").write_text("".join(swapped))
    duplicate_page_syncs(runner, db_path, ("2025-11-18_ef69b18b_webinar.md", "2025-11-18"))
    before = {r["speakers"]: (r["id"], r["code"], r["title"]) for r in rows(db_path, "SELECT * FROM talks")}
    result = runner.invoke(cli, [
        "sync", "--db", db_path, "--source", "none", "--no-talks-page", "--page", str(tmp_path / "swapped.md"),
        "--today", "2025-11-19",
    ])
    assert result.exit_code == 0, result.output
    assert "Amelia Jiménez-Sánchez (2025-05-12" in result.stderr.split("keeps it")[0].splitlines()[-1]
    after = {r["speakers"]: (r["id"], r["code"], r["title"]) for r in rows(db_path, "SELECT * FROM talks")}
    for name in MAY:
        assert after[name] == before[name]
    for name in OCTOBER:
        assert after[name][0] == before[name][0] and after[name][2] == before[name][2]


# ----------------------------------------------------------------------------- bad input


def test_a_path_that_is_not_a_git_repository_is_one_sentence(runner, tmp_path):
    plain_dir = tmp_path / "not-a-repo"
    plain_dir.mkdir()
    db = tmp_path / "talks.db"
    for path in (plain_dir, tmp_path / "nowhere"):
        result = runner.invoke(cli, ["backfill", "--repo", str(path), "--db", str(db)])
        assert result.exit_code == 1
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith(f"Error: {path} is not a git repository")
    assert not db.exists()  # nothing written


def test_a_repository_without_either_page_is_one_sentence(runner, tmp_path):
    repo = tmp_path / "other-site"
    build_history_repo(repo, [{"commit": "c1", "committed": "2024-01-02T10:00:00+01:00", "path": "index.md", "content": b"# hi\n"}])
    result = runner.invoke(cli, ["backfill", "--repo", str(repo), "--db", str(tmp_path / "talks.db")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {repo} has no commit touching _pages/webinar.md or _pages/webinar_talks.md\n"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    import subprocess

    from .history_repo import git_env

    subprocess.run(["git", "init", "-q", str(empty)], check=True, env=git_env())
    result = runner.invoke(cli, ["backfill", "--repo", str(empty), "--db", str(tmp_path / "talks.db")])
    assert result.exit_code == 1 and "has no commit touching" in result.stderr
    since = runner.invoke(cli, ["backfill", "--repo", str(repo), "--since", "2030-01-01", "--db", str(tmp_path / "t.db")])
    assert since.exit_code == 1 and "has no commit since 2030-01-01 touching" in since.stderr


def test_bad_options_are_usage_errors(runner, history_repo, tmp_path):
    result = runner.invoke(cli, ["backfill", "--repo", str(history_repo), "--since", "yesterday"])
    assert result.exit_code == 2
    assert runner.invoke(cli, ["backfill", "--db", str(tmp_path / "t.db")]).exit_code == 2  # --repo is required
    helped = runner.invoke(cli, ["backfill", "--help"])
    assert helped.exit_code == 0 and "talks backfill --repo site" in helped.output


def test_pages_elsewhere_in_the_repository_with_path_options(runner, tmp_path):
    entries = [e for e in series_versions() if e["commit"].startswith(("dd744744", "034514e8"))]
    moved = [{**e, "path": "site/" + e["path"].rsplit("/", 1)[-1]} for e in entries]
    build_history_repo(tmp_path / "repo", moved)
    db = str(tmp_path / "talks.db")
    result = runner.invoke(cli, [
        "backfill", "--repo", str(tmp_path / "repo"), "--db", db,
        "--webinar-path", "site/webinar.md", "--talks-path", "site/webinar_talks.md",
    ])
    assert result.exit_code == 0, result.output
    assert "2 commits touch the pages, 2 replayed" in result.stdout
    assert rows(db, "SELECT count(*) AS n FROM talks WHERE code IS NOT NULL") == [{"n": 26}]


def test_a_commit_whose_page_is_unusable_fails_alone(runner, tmp_path):
    """A broken version is a failed run naming its commit; the replay goes on, the exit code
    says something failed, and the next backfill tries that commit again."""
    entries = [e for e in series_versions() if e["commit"].startswith(("2d5b8dba", "7d6ef43c", "aa1a914b"))]
    broken = [dict(e) for e in entries]
    broken[1]["content"] = b"\x00\x01binary"
    build_history_repo(tmp_path / "repo", broken)
    db = str(tmp_path / "talks.db")
    result = runner.invoke(cli, ["backfill", "--repo", str(tmp_path / "repo"), "--db", db])
    assert result.exit_code == 1
    assert "3 commits touch the pages, 2 replayed" in result.stdout and "1 failed" in result.stdout
    assert "binary" in result.stderr and result.stderr.endswith(
        "Error: 1 of 3 commits could not be replayed; see sync_runs\n"
    )
    runs = rows(db, "SELECT status, commit_date, error FROM sync_runs ORDER BY id")
    assert [r["status"] for r in runs] == ["ok", "failed", "ok"]
    assert "binary" in runs[1]["error"]
    again = runner.invoke(cli, ["backfill", "--repo", str(tmp_path / "repo"), "--db", db])
    assert again.exit_code == 1 and "1 replayed" not in again.stdout and "2 already replayed" in again.stdout


def test_a_commit_that_deleted_the_webinar_page_is_skipped(tmp_path):
    entries = [e for e in series_versions() if e["commit"].startswith(("2d5b8dba", "7d6ef43c"))]
    gone = {"commit": "gone", "committed": "2023-09-07T10:00:00+02:00", "path": "_pages/webinar.md", "delete": True}
    report = build_and_backfill(tmp_path / "repo", [entries[0], gone, entries[1]], tmp_path / "t.db")
    assert (report.commits, report.replayed, report.without_page, report.failed) == (3, 2, 1, [])


def test_progress_on_a_terminal_then_one_summary_line(history_repo, tmp_path):
    """Run under a pseudo-terminal: a live `commits done/total` line on stderr that the
    summary replaces; stdout gets the summary alone."""
    import os
    import subprocess
    import sys

    primary, secondary = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync", "backfill", "--repo", str(history_repo), "--db", str(tmp_path / "t.db"),
         "--since", "2026-01-01"],
        stdout=subprocess.PIPE, stderr=secondary, stdin=subprocess.DEVNULL, cwd=CORPUS.parent.parent.parent,
    )
    os.close(secondary)
    terminal = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        terminal += chunk
    os.close(primary)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, terminal
    shown = terminal.decode()
    for done in range(5):
        assert f"\r\x1b[K… backfill: {done}/4 commits (" in shown
    assert shown.endswith("\r\x1b[K")  # the live line is cleared before the summary
    assert stdout.decode().count("\n") == 1 and "4 commits touch the pages, 4 replayed" in stdout.decode()


def test_first_parent_history_of_a_mirror_clone(tmp_path):
    """What the site published: a merged branch counts as its merge commit, not as the
    branch's own commits; a bare mirror clone reads like a checkout."""
    import subprocess

    from .history_repo import git_env

    versions = [e for e in series_versions() if e["path"] == "_pages/webinar.md"][:3]
    repo = tmp_path / "repo"
    build_history_repo(repo, versions[:1])

    def git(*args, when=versions[0]["committed"]):
        env = {**git_env(), "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
               "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.invalid",
               "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.invalid"}
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)

    git("checkout", "-q", "-f", "main")
    git("checkout", "-q", "-b", "draft")
    for entry in versions[1:]:
        (repo / "_pages" / "webinar.md").write_bytes((CORPUS / entry["file"]).read_bytes())
        git("commit", "-q", "-am", f"draft {entry['commit'][:8]}", when=entry["committed"])
    git("checkout", "-q", "main")
    git("merge", "-q", "--no-ff", "-m", "publish the draft", "draft", when=versions[2]["committed"])
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo), str(mirror)], check=True, env=git_env())
    for source in (repo, mirror):
        db = tmp_path / f"{source.name}.db"
        report = backfill(BackfillOptions(repo=str(source), db_path=str(db)))
        assert (report.commits, report.replayed) == (2, 2)
        subjects = subprocess.run(
            ["git", "--git-dir", str(mirror), "log", "--format=%H %s"], check=True, capture_output=True, env=git_env()
        ).stdout.decode()
        replayed = [r["commit_id"] for r in rows(str(db), "SELECT commit_id FROM sync_runs ORDER BY id")]
        by_subject = {line.split(" ", 1)[1]: line.split(" ", 1)[0] for line in subjects.splitlines()}
        assert replayed == [by_subject[f"pages as of {versions[0]['commit']}"], by_subject["publish the draft"]]


def test_a_page_larger_than_any_page_fails_its_commit(tmp_path):
    from sync.pages.sources import MAX_PAGE_BYTES

    entries = [e for e in series_versions() if e["commit"].startswith(("2d5b8dba", "7d6ef43c"))]
    huge = {"commit": "huge", "committed": "2023-09-06T12:07:00+02:00", "path": "_pages/webinar.md",
            "content": b"* " + b"a" * MAX_PAGE_BYTES}
    report = build_and_backfill(tmp_path / "repo", [entries[0], huge, entries[1]], tmp_path / "t.db")
    assert (report.commits, report.replayed, len(report.failed)) == (3, 2, 1)
    assert "too large to be a page" in report.failed[0]
    runs = rows(str(tmp_path / "t.db"), "SELECT status, error FROM sync_runs ORDER BY id")
    assert [r["status"] for r in runs] == ["ok", "failed", "ok"] and "too large" in runs[1]["error"]


def test_a_backfill_while_a_sync_holds_the_lock_does_nothing(runner, history_repo, tmp_path):
    from sync.core.lock import sync_lock

    db = tmp_path / "talks.db"
    with sync_lock(str(db)):
        result = runner.invoke(cli, ["backfill", "--repo", str(history_repo), "--db", str(db)])
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: another sync holds the lock on")
    assert not db.exists()


def test_a_sync_during_a_backfill_is_refused(history_repo, tmp_path):
    """The lock is held across commits: a sync between two replayed commits fails at once."""
    from sync.core.errors import LockHeld
    from sync.pipeline import SyncOptions, run_sync

    db = str(tmp_path / "talks.db")
    refused = []

    def sync_meanwhile(done, total, commit):
        if done == 2:
            try:
                run_sync(SyncOptions(db_path=db, webinar_page=str(CORPUS / NEWEST_WEBINAR), talks_page=None,
                                     source="none", today=dt.date(2026, 11, 27)), progress=lambda m: None)
            except LockHeld as exc:
                refused.append(exc)

    report = backfill(BackfillOptions(repo=str(history_repo), db_path=db, since=dt.date(2026, 1, 1)), sync_meanwhile)
    assert len(refused) == 1 and report.replayed == 4
    assert [r["commit_id"] is not None for r in rows(db, "SELECT commit_id FROM sync_runs")] == [True] * 4
