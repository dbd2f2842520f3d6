"""A git repository rebuilt from the corpus: the series' page versions with their real dates.

The public repository (medical-datasets/medical-datasets.github.io) is not reachable
from the tests, so `build_history_repo` commits every version of `_pages/webinar.md`
and `_pages/webinar_talks.md` in tests/fixtures/corpus, oldest first, with the
author and committer dates of index.json and one fixed identity (the same bytes
give the same commit ids on every run). A commit touching neither page is added
in the middle, as the real repository has many. `git fast-import` writes it all
in one process.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from itertools import groupby
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
SERIES_REPO = "medical-datasets/medical-datasets.github.io"
IDENTITY = "Corpus Replay <corpus@example.invalid>"


def series_versions() -> list[dict]:
    """index.json entries of the series' repository, in commit order."""
    index = json.loads((CORPUS / "index.json").read_text())
    entries = [e for e in index if e["repository"] == SERIES_REPO]
    return sorted(entries, key=lambda e: (e["committed"], e["commit"]))


def git_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    return env


def _git_time(iso: str) -> str:
    when = dt.datetime.fromisoformat(iso)
    offset = when.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def build_history_repo(path: Path, versions: list[dict] | None = None) -> list[str]:
    """Create a git repository at `path` holding the page versions (index.json entries;
    an entry may carry `content` bytes instead of a `file`, or `delete`: True); returns
    the original commit ids, oldest first, one per page commit made."""
    versions = series_versions() if versions is None else versions
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=git_env())
    stream, originals, mark = [], [], 0
    for commit_id, group in groupby(versions, key=lambda e: e["commit"]):
        group = list(group)
        mark += 1
        when = _git_time(group[0]["committed"])
        stream.append(f"commit refs/heads/main\nmark :{mark}\n".encode())
        stream.append(f"author {IDENTITY} {when}\ncommitter {IDENTITY} {when}\n".encode())
        stream.append(_data(f"pages as of {commit_id}".encode()))
        if mark > 1:
            stream.append(f"from :{mark - 1}\n".encode())
        for entry in group:
            if entry.get("delete"):
                stream.append(f"D {entry['path']}\n".encode())
                continue
            payload = entry["content"] if "content" in entry else (CORPUS / entry["file"]).read_bytes()
            stream.append(f"M 100644 inline {entry['path']}\n".encode() + _data(payload))
        originals.append(commit_id)
        if len(originals) == 20:
            # A commit that leaves both pages alone: the replay must not count it.
            mark += 1
            stream.append(f"commit refs/heads/main\nmark :{mark}\n".encode())
            stream.append(f"author {IDENTITY} {when}\ncommitter {IDENTITY} {when}\n".encode())
            stream.append(_data(b"README only") + f"from :{mark - 1}\n".encode())
            stream.append(b"M 100644 inline README.md\n" + _data(b"# the site\n"))
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet", "--done"],
        input=b"".join(stream) + b"done\n", check=True, env=git_env(),
    )
    return originals


def rebuilt_commits(path: Path) -> dict[str, str]:
    """{original commit id: the rebuilt repository's commit id} for every page commit."""
    out = subprocess.run(
        ["git", "-C", str(path), "log", "--format=%H %s"], check=True, capture_output=True, env=git_env()
    ).stdout.decode()
    found = {}
    for line in out.splitlines():
        commit_id, _, subject = line.partition(" ")
        if subject.startswith("pages as of "):
            found[subject.removeprefix("pages as of ")] = commit_id
    return found
