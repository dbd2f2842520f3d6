"""`talks check-continuity OLD NEW`, as the nightly job runs it before an upload:
exit 0 when NEW keeps every run, decision, change and talk of OLD; exit 1 with one
sentence per loss, or one sentence for a file that cannot be compared."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasette_process import ROOT, talks_command

pytestmark = pytest.mark.slow  # real syncs and the check as processes


def talks(*args: str) -> None:
    done = subprocess.run(talks_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def continuity(old: Path, new: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sync", "check-continuity", str(old), str(new)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def fold_wal(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def copy_db(source: Path, target: Path) -> Path:
    fold_wal(source)
    shutil.copyfile(source, target)
    return target


def execute(path: Path, *statements: str) -> None:
    con = sqlite3.connect(path)
    for sql in statements:
        con.execute(sql)
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def kept(tmp_path_factory) -> Path:
    """The kept archive after two nights and an organizer's pin: 3 runs, 1 decision."""
    path = tmp_path_factory.mktemp("kept") / "talks.db"
    talks("sync", "--snapshot", "--db", str(path), "-q")
    talks("match", "pin", "--db", str(path), "S01E01", "abcdefghijk")
    talks("sync", "--snapshot", "--db", str(path), "-q")
    fold_wal(path)
    return path


def count(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
    finally:
        con.close()


def test_a_night_that_added_a_run_may_replace_the_kept_file(kept, tmp_path):
    night = copy_db(kept, tmp_path / "night.db")
    talks("sync", "--snapshot", "--db", str(night), "-q")
    done = continuity(kept, night)
    changes = count(kept, "changes")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (f"continuity ok: {night} keeps everything {kept} had (runs 3 -> 4, decisions 1 -> 1, "
                           f"changes {changes} -> {count(night, 'changes')}, talks 30 -> 30)\n")


@pytest.mark.parametrize("table, where, sentence", [
    ("sync_runs", "id = 2", "lacks 1 run that {old} has (id 2)."),
    ("match_decisions", "video_id = 'abcdefghijk'", "lacks 1 decision that {old} has (talk_id 1 video_id 'abcdefghijk')."),
    ("changes", "id IN (5, 7)", "lacks 2 changes that {old} has (ids 5, 7)."),
    ("talks", "code = 'S07E01'", "lacks 1 talk that {old} has (id {talk})."),
])
def test_each_kind_of_loss_is_one_sentence_and_exit_1(kept, tmp_path, table, where, sentence):
    new = copy_db(kept, tmp_path / "new.db")
    [[talk]] = sqlite3.connect(kept).execute("SELECT id FROM talks WHERE code = 'S07E01'").fetchall()
    execute(new, f"DELETE FROM [{table}] WHERE {where}")
    done = continuity(kept, new)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [f"continuity: {new} " + sentence.format(old=kept, talk=talk)]


def test_a_database_built_from_nothing_is_refused_though_its_ids_overlap(kept, tmp_path):
    """What a failed restore taken for a first night would upload: its run 1 is not the kept run 1."""
    fresh = tmp_path / "fresh.db"
    talks("sync", "--snapshot", "--db", str(fresh), "-q")
    done = continuity(kept, fresh)
    assert done.returncode == 1
    assert done.stderr.splitlines()[:3] == [
        f"continuity: {fresh} lacks 2 runs that {kept} has (ids 2, 3).",
        f"continuity: {fresh} has rewritten 1 run of {kept} (id 1: started_at differs).",
        f"continuity: {fresh} lacks 1 decision that {kept} has (talk_id 1 video_id 'abcdefghijk').",
    ]


def test_a_rewritten_ledger_entry_is_a_loss(kept, tmp_path):
    new = copy_db(kept, tmp_path / "new.db")
    execute(new, "UPDATE changes SET new_value = 'something else' WHERE id = 3")
    done = continuity(kept, new)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"continuity: {new} has rewritten 1 change of {kept} "
        "(id 3: run_id, table_name, row_key, column_name, old_value, new_value differ)."]


def test_a_table_missing_from_the_new_file_loses_all_its_rows(kept, tmp_path):
    new = copy_db(kept, tmp_path / "new.db")
    execute(new, "DROP TABLE match_decisions")
    done = continuity(kept, new)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"continuity: {new} lacks 1 decision that {kept} has (talk_id 1 video_id 'abcdefghijk')."]


def test_a_table_the_kept_file_never_had_is_nothing_to_lose(kept, tmp_path):
    old = copy_db(kept, tmp_path / "old.db")
    execute(old, "DROP TABLE match_decisions")
    done = continuity(old, kept)
    assert done.returncode == 0 and "decisions" not in done.stdout and "runs 3 -> 3" in done.stdout


@pytest.mark.parametrize("damage", ["missing", "garbage", "not a talks database"])
def test_a_new_file_that_cannot_be_read_is_refused_with_one_sentence(kept, tmp_path, damage):
    new = tmp_path / "new.db"
    if damage == "garbage":
        new.write_bytes(b"<html>502 Bad Gateway</html>" * 100)
    elif damage == "not a talks database":
        execute(new, "CREATE TABLE t (x)")
    done = continuity(kept, new)
    [line] = done.stderr.splitlines()
    assert done.returncode == 1 and done.stdout == ""
    assert line.startswith(f"continuity: {new} ") and "Traceback" not in done.stderr
    assert {"missing": "does not exist", "garbage": "is not a SQLite database",
            "not a talks database": "is not a talks database"}[damage] in line


def test_usage_errors_exit_2(kept):
    done = subprocess.run([sys.executable, "-m", "sync", "check-continuity", str(kept)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "OLD NEW" in done.stderr
