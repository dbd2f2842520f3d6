"""`talks copy-db SOURCE TARGET`: the one file the nightly job uploads and publishes
holds every committed row, also those still only in SOURCE's WAL, and needs no -wal or -shm."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasette_process import ROOT, talks_command

pytestmark = pytest.mark.slow  # a sync and the copy as processes


def dbcopy(source: Path, target: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sync", "copy-db", str(source), str(target)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def live(tmp_path) -> Path:
    path = tmp_path / "talks.db"
    done = subprocess.run(talks_command("sync", "--snapshot", "--db", str(path), "-q"), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return path


def test_the_copy_holds_what_only_the_wal_has_and_is_one_file(live, tmp_path):
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the commit stays in the WAL while this is open
    writer.execute("UPDATE talks SET title = 'only in the WAL' WHERE code = 'S07E01'")
    writer.commit()
    try:
        main_file = sqlite3.connect(f"file:{live}?immutable=1", uri=True)  # reads the main file only
        assert main_file.execute("SELECT count(*) FROM talks WHERE title = 'only in the WAL'").fetchone() == (0,)
        main_file.close()
        done = dbcopy(live, tmp_path / "copy.db")
    finally:
        writer.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"dbcopy: {tmp_path / 'copy.db'} holds {live} (")
    copy = sqlite3.connect(f"file:{tmp_path / 'copy.db'}?immutable=1", uri=True)
    assert copy.execute("SELECT count(*) FROM talks WHERE title = 'only in the WAL'").fetchone() == (1,)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    copy.close()
    assert sorted(p.name for p in tmp_path.glob("copy.db*")) == ["copy.db"]


def test_an_existing_target_or_a_damaged_source_is_one_sentence(live, tmp_path):
    target = tmp_path / "there.db"
    target.write_bytes(b"keep me")
    done = dbcopy(live, target)
    assert done.returncode == 1 and done.stderr == f"dbcopy: {target} exists already; the copy goes to a new file\n"
    assert target.read_bytes() == b"keep me"
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"\0" * 4096)
    done = dbcopy(damaged, tmp_path / "new.db")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and str(damaged) in done.stderr
    assert not (tmp_path / "new.db").exists()
