"""An unusable database file is one sentence and exit 1, never a traceback, for every
command that opens it: corrupt files, read-only files and folders, a full disk.

Real processes (a traceback would show on stderr as it does for a user). As root,
permissions do not stop writes, so a read-only file or folder is made with
`chattr +i` there, and a full disk is a small tmpfs in a private mount namespace.
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import signal
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SNAPSHOT, TODAY
from tests.datasette_process import ROOT, free_port, serving, talks_command

ROOTED = os.geteuid() == 0
PAGES = ["--source", "none", "--page", str(SNAPSHOT / "webinar.md"), "--talks-page", str(SNAPSHOT / "webinar_talks.md"),
         "--today", TODAY]
COMMANDS = {
    "sync": lambda db: ["sync", "--db", db, *PAGES, "-q"],
    "missing": lambda db: ["missing", "--db", db],
    "match pin": lambda db: ["match", "pin", "--db", db, "S01E01", "hDKuw28ATe4"],
    "serve": lambda db: ["serve", "--db", db, "--port", str(free_port())],
    "status": lambda db: ["status", "--db", db],
}


def talks(*args, preexec_fn=None, prefix=()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, *talks_command(*args)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=preexec_fn)


def assert_one_sentence(done: subprocess.CompletedProcess, *needles: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert done.stderr.rstrip().endswith(line), done.stderr
    for needle in needles:
        assert needle in line, line
    return line


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "talks.db"
    done = talks("sync", "--snapshot", "--db", str(path), "-q")
    assert done.returncode == 0, done.stderr
    assert not Path(f"{path}-wal").exists()
    return path


def _corrupt(good: bytes, kind: str) -> bytes:
    page = int.from_bytes(good[16:18], "big")
    pages = len(good) // page
    data = bytearray(good)
    if kind == "truncated":
        return bytes(data[: page * (pages // 2)])
    if kind == "truncated mid-page":
        return bytes(data[: page * (pages // 2) + 1000])
    if kind == "garbage header":
        data[:100] = bytes(range(100))
        return bytes(data)
    if kind == "zeroed pages":
        data[page * 2: page * (pages - 2)] = bytes(page * (pages - 4))
        return bytes(data)
    if kind == "garbage pages":
        data[page: page * 3] = bytes((i * 37 + 11) % 256 for i in range(page * 2))
        return bytes(data)
    if kind == "not a database":
        return b"# webinar\n\n* S01E01 - not a database at all\n" * 200
    if kind == "zeroed header page":
        data[:page] = bytes(page)
        return bytes(data)
    raise AssertionError(kind)


CORRUPTIONS = ["truncated", "truncated mid-page", "garbage header", "zeroed pages", "garbage pages",
               "not a database", "zeroed header page"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupt_database_is_one_sentence_and_left_as_it_was(good_db, tmp_path, kind, command):
    path = tmp_path / "talks.db"
    bad = _corrupt(good_db.read_bytes(), kind)
    path.write_bytes(bad)
    done = talks(*COMMANDS[command](str(path)))
    if kind == "zeroed header page" and command in ("sync", "match pin"):
        # SQLite reads a zeroed first page as an empty database: nothing to report yet, and
        # nothing may be lost either (see the next test)
        return
    assert_one_sentence(done, str(path))
    assert path.read_bytes() == bad


def test_a_database_whose_first_page_is_zeroed_is_refused_by_readers(good_db, tmp_path):
    path = tmp_path / "talks.db"
    path.write_bytes(_corrupt(good_db.read_bytes(), "zeroed header page"))
    for command in ("serve", "status"):
        assert_one_sentence(talks(*COMMANDS[command](str(path))), str(path))


@contextlib.contextmanager
def read_only(path: Path):
    """Make a file or folder read-only even for root (chattr +i); undone afterwards."""
    if ROOTED:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        if ROOTED:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(mode)


@pytest.mark.parametrize("command", ["sync", "match pin"])
def test_a_read_only_database_file_is_one_sentence(good_db, tmp_path, command):
    path = tmp_path / "talks.db"
    shutil.copyfile(good_db, path)
    before = path.read_bytes()
    with read_only(path):
        line = assert_one_sentence(talks(*COMMANDS[command](str(path))), str(path))
    assert "cannot be written" in line and "read-only" in line
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_in_a_read_only_folder_is_one_sentence(good_db, tmp_path, command):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "talks.db"
    shutil.copyfile(good_db, path)
    before = path.read_bytes()
    with read_only(folder):
        line = assert_one_sentence(talks(*COMMANDS[command](str(path))), str(path))
    assert "folder" in line or "read-only" in line, line
    assert path.read_bytes() == before


def test_a_missing_database_in_a_read_only_folder_is_one_sentence(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "talks.db"
    with read_only(folder):
        assert_one_sentence(talks(*COMMANDS["sync"](str(path))), str(path))
        for command in ("missing", "status", "serve"):
            assert_one_sentence(talks(*COMMANDS[command](str(path))), str(path), "does not exist")
    assert list(folder.iterdir()) == []


def _runs(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT id, status FROM sync_runs ORDER BY id").fetchall()
    finally:
        con.close()


def _limit_file_size(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_file_size_limit_during_a_sync_is_one_sentence_and_no_ok_run(tmp_path):
    """`ulimit -f`: the database (schema and one failed run) may grow by two pages, so a
    fresh sync cannot write its data; it says so, and the ledger says the same, not `ok`."""
    path = tmp_path / "talks.db"
    made = talks("sync", "--db", str(path), "--source", "none", "--page", str(tmp_path / "none.md"),
                 "--no-talks-page", "-q")
    assert made.returncode == 1 and path.stat().st_size > 0
    limit = path.stat().st_size + 8192
    done = talks("sync", "--snapshot", "--db", str(path), "-q", preexec_fn=_limit_file_size(limit))
    line = assert_one_sentence(done, str(path), "rolled back")
    runs = _runs(path)
    assert all(status != "ok" for _, status in runs), runs
    con = sqlite3.connect(path)
    assert con.execute("SELECT error FROM sync_runs ORDER BY id DESC").fetchone()[0] == line.removeprefix("Error: ")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM talks").fetchone()[0] == 0
    con.close()
    # with room again the next sync completes
    assert talks("sync", "--snapshot", "--db", str(path), "-q").returncode == 0
    assert _runs(path)[-1][1] == "ok"


@pytest.mark.skipif(not ROOTED or not shutil.which("unshare"), reason="mounting a tmpfs needs root (the "
                    "file size limit test above covers the same failure without it)")
def test_a_full_disk_during_a_sync_is_one_sentence_and_the_data_is_kept(good_db, tmp_path):
    """A real ENOSPC: the database on a tmpfs just big enough to hold it, in a private
    mount namespace; a sync that changes every talk's row cannot commit."""
    mount = tmp_path / "full"
    mount.mkdir()
    inspect = (f"import sqlite3, json; c = sqlite3.connect('{mount}/talks.db'); print(json.dumps(["
               "c.execute('select group_concat(status) from sync_runs').fetchone()[0],"
               "c.execute('pragma integrity_check').fetchone()[0],"
               "c.execute('select count(*) from talks').fetchone()[0]]))")
    script = (
        f"mount -t tmpfs -o size={good_db.stat().st_size + 48 * 1024} tmpfs {mount} && "
        f"cp {good_db} {mount}/talks.db && \"$@\"; rc=$?; {sys.executable} -c \"{inspect}\"; exit $rc"
    )
    old_page = ROOT / "tests" / "fixtures" / "pages" / "2023-03-16_ada8a876_webinar.md"
    done = talks("sync", "--db", str(mount / "talks.db"), "--source", "none", "--page", str(old_page),
                 "--no-talks-page", "--allow-shrink", "--today", TODAY, "-q",
                 prefix=["unshare", "-m", "sh", "-c", script, "sh"])
    line = assert_one_sentence(done, "talks.db", "disk is full")
    assert "rolled back" in line
    statuses, integrity, talks_count = json.loads(done.stdout.splitlines()[-1])
    assert statuses.startswith("ok,") and "ok" not in statuses.split(",")[1:], statuses
    assert integrity == "ok" and talks_count == 30  # the snapshot's talks, untouched


KILL_TRIALS = 8


def _reader_view(path: Path) -> tuple:
    """What a reader that opens the file as Datasette does (read-only, WAL honoured) sees:
    integrity, and the data (not the run ledger) in short."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (con.execute("PRAGMA integrity_check").fetchone()[0],
                con.execute("SELECT count(*) FROM changes").fetchone()[0],
                con.execute("SELECT group_concat(coalesce(code, '') || status || (removed_at IS NULL), ',') "
                            "FROM (SELECT * FROM talks ORDER BY id)").fetchone()[0])
    finally:
        con.close()


def test_a_sync_killed_during_its_checkpoint_leaves_a_file_every_reader_can_read(good_db, tmp_path):
    """SIGKILL or SIGTERM the moment the main file starts changing (in WAL mode only a
    checkpoint writes it), or a few milliseconds later. Every time: a read-only reader
    sees all the talks or none of the run's, `talks status` reads it, and the next
    sync completes."""
    old_page = ROOT / "tests" / "fixtures" / "pages" / "2023-03-16_ada8a876_webinar.md"
    command = talks_command("sync", "--db", str(tmp_path / "talks.db"), "--source", "none", "--page", str(old_page),
                            "--no-talks-page", "--allow-shrink", "--today", TODAY, "-q")
    path = tmp_path / "talks.db"
    shutil.copyfile(good_db, path)
    before = _reader_view(path)
    assert subprocess.run(command, cwd=ROOT, capture_output=True, timeout=120).returncode == 0
    after = _reader_view(path)
    assert after != before and before[0] == after[0] == "ok"
    outcomes, served = [], []
    for trial in range(KILL_TRIALS):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(good_db, path)
        before = path.stat()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            now = path.stat()
            if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                break
        delay = (trial % 4) * 0.002
        if delay:
            time.sleep(delay)
        killed = process.poll() is None
        process.send_signal(signal.SIGKILL if trial % 2 else signal.SIGTERM)
        process.wait(timeout=30)
        wal = Path(f"{path}-wal")
        outcomes.append((killed, wal.exists() and wal.stat().st_size > 0))

        assert _reader_view(path) in (before, after), trial
        if outcomes[-1][1] and not served:  # a WAL left to replay: `talks serve` starts and serves it
            with serving(path, tmp_path / "serve.log") as base:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                        f"{base}/talks/talks.json?_shape=array&_col=code&_size=max", timeout=30) as response:
                    served = [r["code"] for r in json.load(response)]
            assert len(served) == 30 and "Traceback" not in (tmp_path / "serve.log").read_text()
        state = talks("status", "--db", str(path), "--max-age", "100d")
        assert state.returncode in (0, 5) and "Traceback" not in state.stderr, state.stderr
        again = talks(*command[3:])  # the same sync again, not killed
        assert again.returncode == 0, again.stderr
        assert _reader_view(path) == after
    print(f"\nkilled while running: {sum(k for k, _ in outcomes)} of {KILL_TRIALS}; "
          f"a WAL left to replay: {sum(w for _, w in outcomes)}")
    assert sum(k for k, _ in outcomes) >= KILL_TRIALS // 2, outcomes



def test_talks_serve_starts_on_a_wal_a_killed_writer_left_and_serves_its_commit(good_db, tmp_path):
    """The state a kill between commit and checkpoint leaves, made on purpose: a process
    commits into the WAL with checkpoints off and dies (os._exit) holding it."""
    path = tmp_path / "talks.db"
    shutil.copyfile(good_db, path)
    writer = (
        "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA wal_autocheckpoint=0');"
        "c.execute(\"UPDATE talks SET title = 'committed, never checkpointed' WHERE code = 'S01E01'\");"
        "c.commit(); os._exit(9)"
    )
    assert subprocess.run([sys.executable, "-c", writer, str(path)], timeout=60).returncode == 9
    assert Path(f"{path}-wal").stat().st_size > 0
    with serving(path, tmp_path / "serve.log") as base:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                f"{base}/talks/talks.json?code=S01E01&_shape=array&_col=title", timeout=30) as response:
            assert [r["title"] for r in json.load(response)] == ["committed, never checkpointed"]
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def test_readers_still_read_a_read_only_database_file(good_db, tmp_path):
    path = tmp_path / "talks.db"
    shutil.copyfile(good_db, path)
    with read_only(path):
        state = talks("status", "--db", str(path), "--format", "json")
        missing = talks("missing", "--db", str(path), "--format", "json")
    assert state.returncode == 0, state.stderr
    assert json.loads(state.stdout)["counts"]["talks"] == 30
    assert missing.returncode == 0 and isinstance(json.loads(missing.stdout), list), missing.stderr


def test_a_write_lock_held_by_another_program_is_one_sentence(good_db, tmp_path):
    """Our writers take the sync lock file first; a program that does not (sqlite3 on the
    file) and holds SQLite's write lock gets a command one sentence, and nothing changes."""
    db = tmp_path / "talks.db"
    shutil.copy(good_db, db)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        done = talks(*COMMANDS["match pin"](str(db)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_sentence(done, str(db), "locked by another program", "run the command again")
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM match_decisions").fetchone() == (0,)
    con.close()
