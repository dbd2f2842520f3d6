"""Reading pages' history from a local git repository through the `git` command.

Only plumbing commands with fixed output formats are used (`rev-parse`, `log
--format`, `cat-file --batch`), always against the repository's git directory,
so a bare clone or a mirror works as well as a checkout, and paths are read
literally (no pathspec magic from a configured path).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Optional

from sync.core.errors import RepositoryError
from sync.core.limits import MAX_PAGE_BYTES

# Local git is fast; these only stop a wedged process from hanging the command.
LOG_TIMEOUT = 600.0
RESOLVE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Commit:
    commit_id: str  # full hex id
    committed: str  # committer date, ISO 8601 in the committer's own offset

    @property
    def date(self) -> dt.date:
        """The day of the commit where it was made (what the page said that day)."""
        return dt.date.fromisoformat(self.committed[:10])

    @property
    def utc(self) -> str:
        """The commit's moment in UTC, as removed_at stamps are written."""
        return dt.datetime.fromisoformat(self.committed).astimezone(dt.timezone.utc).isoformat()

    @property
    def short(self) -> str:
        return self.commit_id[:12]


def _git_env() -> dict:
    env = dict(os.environ)
    # Never ask for credentials or open an editor or pager; read nothing from the
    # system config; stable English messages for the errors shown.
    env.update(GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        env.pop(name, None)
    return env


def _run_git(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, timeout=timeout, env=_git_env(), stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise RepositoryError("the git command is not installed; talks backfill needs it") from None
    except subprocess.TimeoutExpired:
        raise RepositoryError(f"git did not answer within {timeout:.0f} s; gave up") from None


def _first_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[0][:200] if lines else ""


class GitRepository:
    """A local git repository (checkout, bare clone or mirror), read-only."""

    def __init__(self, path: str):
        self.path = path
        if not Path(path).is_dir():
            raise RepositoryError(f"{path} is not a git repository (no such directory)")
        done = _run_git(["-C", path, "rev-parse", "--absolute-git-dir"], RESOLVE_TIMEOUT)
        if done.returncode != 0:
            reason = _first_line(done.stderr)
            raise RepositoryError(f"{path} is not a git repository" + (f" (git: {reason})" if reason else ""))
        self.git_dir = done.stdout.decode("utf-8", "surrogateescape").strip()

    def _git(self, *args: str) -> list[str]:
        return ["--git-dir", self.git_dir, "--literal-pathspecs", *args]

    def commits(self, paths: list[str], since: Optional[dt.date] = None) -> list[Commit]:
        """Commits of HEAD's first-parent line (what the site published) that changed any
        of `paths`, oldest first; with `since`, those made on or after that day."""
        done = _run_git(
            self._git("log", "--first-parent", "--topo-order", "--reverse", "--format=%H %cI", "HEAD", "--", *paths),
            LOG_TIMEOUT,
        )
        if done.returncode != 0:
            reason = _first_line(done.stderr)
            if "does not have any commits" in reason or "bad revision" in reason or "unknown revision" in reason:
                return []  # an empty repository has no page history
            raise RepositoryError(f"{self.path}: git log failed ({reason})")
        commits = []
        for line in done.stdout.decode("ascii", "replace").splitlines():
            commit_id, _, committed = line.partition(" ")
            commit = Commit(commit_id, committed)
            if since is None or commit.date >= since:
                commits.append(commit)
        return commits

    @contextlib.contextmanager
    def blobs(self) -> Iterator["BlobReader"]:
        """One `git cat-file --batch` process answering every read of the replay."""
        try:
            proc = subprocess.Popen(
                ["git", *self._git("cat-file", "--batch")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_git_env(),
            )
        except FileNotFoundError:
            raise RepositoryError("the git command is not installed; talks backfill needs it") from None
        try:
            yield BlobReader(proc.stdin, proc.stdout)
        finally:
            # Closing both ends first: a git still writing an unread answer gets EPIPE and ends.
            proc.stdin.close()
            proc.stdout.close()
            try:
                proc.wait(timeout=RESOLVE_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class BlobReader:
    def __init__(self, requests: IO[bytes], answers: IO[bytes]):
        self._requests, self._answers = requests, answers

    def read(self, commit: Commit, path: str) -> Optional[bytes]:
        """The file at `path` in `commit`, or None when the commit has no such file.

        Of a file larger than any page only MAX_PAGE_BYTES + 1 bytes are read.
        """
        if "\n" in path:
            raise RepositoryError(f"{path!r}: a page path cannot contain a line break")
        self._requests.write(f"{commit.commit_id}:{path}\n".encode("utf-8", "surrogateescape"))
        self._requests.flush()
        header = self._answers.readline(1024)
        if not header.endswith(b"\n"):
            raise RepositoryError(f"git cat-file ended early reading {commit.short}:{path}")
        fields = header.split()
        if len(fields) != 3:
            return None  # "<name> missing" (no such file then) or "ambiguous"
        kind, size = fields[1], int(fields[2])
        if kind != b"blob":
            self._skip(size + 1)  # the object and its trailing newline
            return None  # a directory by that name is no page
        # Past the limit only its first bytes are kept: enough for the page's own
        # size check (sync.pages.decode_page) to refuse it, and no more in memory.
        keep = min(size, MAX_PAGE_BYTES + 1)
        data = self._read_exactly(keep)
        self._skip(size - keep + 1)
        return data

    def _read_exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self._answers.read(left)
            if not chunk:
                raise RepositoryError("git cat-file ended in the middle of a file")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _skip(self, n: int) -> None:
        while n:
            chunk = self._answers.read(min(n, 1 << 16))
            if not chunk:
                raise RepositoryError("git cat-file ended in the middle of a file")
            n -= len(chunk)
