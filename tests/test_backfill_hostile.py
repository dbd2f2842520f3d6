"""`talks backfill` over hostile repositories (issue 21, items 1 and 9).

A repository's config, or the user's, must not run a program nor change what is read;
dates no calendar can show, paths with spaces and paths that are not UTF-8 are one
sentence each, never a traceback. The repositories are written with dulwich so that a
commit can carry what git itself would refuse to make (a +2500 offset, year 10000, a
signature header).
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit
from dulwich.repo import Repo

from sync.cli import cli

from .conftest import FIXTURES, rows
from .datasette_process import ROOT

PAGES = FIXTURES / "pages"
WEBINAR = [PAGES / "2023-09-06_2d5b8dba_webinar.md", PAGES / "2024-07-02_6d5ce722_webinar.md",
           PAGES / "2026-08-11_dd744744_webinar.md"]
DAY = 86_400
START = 1_694_000_000  # 2023-09-06
SIGNATURE = b"-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n"


def make_repo(path: Path, commits: list[dict]) -> list[str]:
    """Commits one after the other on main, each {files: {path: bytes}, time, offset, signed};
    returns their ids, oldest first."""
    repo = Repo.init(str(path), mkdir=True)
    parent, ids = None, []
    for spec in commits:
        entries = []
        for name, data in spec["files"].items():
            blob = Blob.from_string(data)
            repo.object_store.add_object(blob)
            entries.append((os.fsencode(name), blob.id, 0o100644))
        commit = Commit()
        commit.tree = commit_tree(repo.object_store, entries)
        commit.parents = [parent] if parent else []
        commit.author = commit.committer = b"Page Editor <editor@example.invalid>"
        commit.author_time = commit.commit_time = spec["time"]
        commit.author_timezone = commit.commit_timezone = spec.get("offset", 0)
        commit.message = b"update the pages\n"
        if spec.get("signed"):
            commit.gpgsig = SIGNATURE
        repo.object_store.add_object(commit)
        parent = commit.id
        ids.append(commit.id.decode())
    repo.refs[b"refs/heads/main"] = parent
    repo.refs.set_symbolic_ref(b"HEAD", b"refs/heads/main")
    repo.close()
    return ids


def page_history(path_name: str = "_pages/webinar.md", **last) -> list[dict]:
    """Three commits changing the webinar page, then one changing nothing of it."""
    commits = [{"files": {path_name: page.read_bytes()}, "time": START + n * 30 * DAY} for n, page in enumerate(WEBINAR)]
    commits.append({"files": {path_name: WEBINAR[-1].read_bytes(), "README.md": b"site\n"}, "time": START + 100 * DAY})
    commits[-2].update(last)
    return commits


def marker_script(folder: Path, marker: Path) -> Path:
    """A program that leaves `marker` behind and talks like gpg verifying a signature."""
    script = folder / "fake-gpg"
    script.write_text(
        "#!/bin/sh\n"
        f"echo ran >> '{marker}'\n"
        "echo '[GNUPG:] GOODSIG 0123456789ABCDEF Page Editor'\n"
        "echo 'gpg: Signature made Wed Sep  6 10:00:00 2023 UTC' >&2\n"
        "echo 'gpg: Good signature from \"Page Editor\"' >&2\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


RUNS_PROGRAMS = """
[log]
    showSignature = true
    follow = true
    date = relative
[gpg]
    program = {script}
[gpg "ssh"]
    program = {script}
[core]
    fsmonitor = {script}
    pager = {script}
[diff]
    external = {script}
[format]
    pretty = format:%an
[color]
    ui = always
"""


def test_no_config_runs_a_program_or_changes_what_is_read(runner, tmp_path, monkeypatch):
    """Item 1: a signed HEAD, the repository's .git/config and the user's ~/.gitconfig all
    name a program to verify signatures (and more): none runs, and the counts are right."""
    marker = tmp_path / "ran"
    script = marker_script(tmp_path, marker)
    repo = tmp_path / "site"
    make_repo(repo, [dict(c, signed=True) for c in page_history()])
    with open(repo / ".git" / "config", "a") as config:
        config.write(RUNS_PROGRAMS.format(script=script))
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(RUNS_PROGRAMS.format(script=script))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "GIT_DIR"):
        monkeypatch.delenv(name, raising=False)
    db = str(tmp_path / "talks.db")
    result = runner.invoke(cli, ["backfill", "--repo", str(repo), "--db", db])
    assert result.exit_code == 0, result.output
    assert "3 commits touch the pages, 3 replayed" in result.stdout
    since = runner.invoke(cli, ["backfill", "--repo", str(repo), "--db", str(tmp_path / "s.db"), "--since", "2023-10-01"])
    assert since.exit_code == 0, since.output
    assert "2 commits touch the pages, 2 replayed" in since.stdout
    assert not marker.exists()
    dates = [r["commit_date"] for r in rows(db, "SELECT commit_date FROM sync_runs ORDER BY id")]
    assert [d[:10] for d in dates] == ["2023-09-06", "2023-10-06", "2023-11-05"]


def test_a_date_no_calendar_can_show_fails_that_commit_alone(runner, tmp_path):
    """Item 9: a +2500 offset and a year past 9999 (git stores both) are one line each; the
    other commits are replayed and the exit code says something was not."""
    commits = page_history()
    commits[1]["offset"] = 25 * 3600
    commits.insert(3, {"files": {"_pages/webinar.md": WEBINAR[0].read_bytes()}, "time": 253_402_300_800 + DAY})
    repo = tmp_path / "site"
    make_repo(repo, commits)
    db = str(tmp_path / "talks.db")
    for since in ([], ["--since", "2020-01-01"]):
        result = runner.invoke(cli, ["backfill", "--repo", str(repo), "--db", db, *since])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
        not_replayed = [line for line in result.stderr.splitlines() if line.startswith("not replayed:")]
        assert len(not_replayed) == 2, result.stderr
        assert "(date unknown): its committer time zone +2500 is not a real offset" in not_replayed[0]
        assert "outside years 1-9999" in not_replayed[1]
        assert result.stderr.endswith("Error: 2 of 5 commits could not be replayed; see sync_runs\n")
    assert len(rows(db, "SELECT id FROM sync_runs WHERE status = 'ok'")) == 3


def test_page_paths_with_a_space_missing_at_some_commits(runner, tmp_path):
    """Item 9: `git cat-file` answered `<id>:_pages/web inar.md missing`, which split into
    three words like a found object's header: a traceback."""
    commits = page_history("_pages/web inar.md")
    commits.insert(0, {"files": {"_pages/talks page.md": b"# Talks\n"}, "time": START - DAY})
    repo = tmp_path / "site"
    make_repo(repo, commits)
    result = runner.invoke(cli, ["backfill", "--repo", str(repo), "--db", str(tmp_path / "talks.db"),
                                 "--webinar-path", "_pages/web inar.md", "--talks-path", "_pages/talks page.md"])
    assert result.exit_code == 0, result.output
    assert "4 commits touch the pages, 3 replayed, 0 already replayed, 1 without the webinar page" in result.stdout


def test_a_page_path_that_is_not_utf8(tmp_path):
    """Item 9: a path given as bytes that are not UTF-8 is read as those bytes, and stored as text."""
    raw = b"_pages/\xffwebinar.md"
    repo = tmp_path / "site"
    make_repo(repo, page_history(os.fsdecode(raw)))
    db = tmp_path / "talks.db"
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())", "backfill",
         "--repo", str(repo), "--db", str(db), b"--webinar-path", raw],
        cwd=ROOT, capture_output=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    assert b"3 commits touch the pages, 3 replayed" in done.stdout
    labels = [r["pages"] for r in rows(str(db), "SELECT pages FROM sync_runs")]
    assert len(labels) == 3 and all(":_pages/\ufffdwebinar.md" in label for label in labels)
