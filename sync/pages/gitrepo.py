"""Reading pages' history from a local git repository, in pure Python (dulwich).

No `git` program runs: a repository's own config, or the user's, cannot make the
backfill execute anything (`gpg.program` behind `log.showSignature`,
`core.fsmonitor`, a promisor remote's fetch through `core.sshCommand`, ...) nor
change what is read (signature lines among the commits, `log.follow`, a date
format). dulwich reads objects, packs and refs only; it consults no config for
that. A checkout, a bare clone, a mirror or a worktree all work, and paths are
read literally, as bytes.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from typing import Iterator, Optional

from sync.core.errors import RepositoryError
from sync.core.limits import MAX_HISTORY_COMMITS

_KIND, _TREE, _FILE = 0o170000, 0o040000, 0o100000  # a tree entry's mode: what it is


@dataclass(frozen=True)
class Commit:
    commit_id: str  # full hex id
    committed: str  # committer date, ISO 8601 in the committer's own offset ("" when unusable)
    date_error: Optional[str] = None  # why the committer date cannot be used (the commit is not replayed)

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

    @property
    def day_text(self) -> str:
        """The commit's day for messages: YYYY-MM-DD, or "date unknown"."""
        return self.committed[:10] if self.committed else "date unknown"


def committer_date(seconds: int, offset_seconds: int) -> tuple[str, Optional[str]]:
    """(ISO 8601 in the committer's offset, None), or ("", why not) for a date git can
    store but no calendar can show: a year past 9999, an offset of a day or more."""
    if abs(offset_seconds) >= 24 * 3600:
        sign = "-" if offset_seconds < 0 else "+"
        minutes = abs(offset_seconds) // 60
        return "", f"its committer time zone {sign}{minutes // 60:02d}{minutes % 60:02d} is not a real offset"
    try:
        zone = dt.timezone(dt.timedelta(seconds=offset_seconds))
        return dt.datetime.fromtimestamp(seconds, zone).isoformat(), None
    except (OverflowError, OSError, ValueError):
        return "", f"its committer time ({seconds} s after 1970) is outside years 1-9999"


def _open(path: str):
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    if not os.path.isdir(path):
        raise RepositoryError(f"{path} is not a git repository (no such directory)")
    try:
        return Repo.discover(path)
    except NotGitRepository:
        raise RepositoryError(f"{path} is not a git repository") from None
    except Exception as exc:  # a damaged .git: unreadable config, bad HEAD, unknown format
        raise RepositoryError(f"{path}: cannot read the git repository ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class GitRepository:
    """A local git repository (checkout, bare clone, mirror or worktree), read-only."""

    def __init__(self, path: str):
        self.path = path
        self._repo = _open(path)

    def close(self) -> None:
        self._repo.close()

    def _head(self):
        """HEAD's commit, or None in a repository with no commit yet."""
        try:
            head = self._repo.refs[b"HEAD"]
        except KeyError:
            return None
        return self._object(head)

    def _object(self, object_id: bytes):
        try:
            return self._repo.object_store[object_id]
        except KeyError:
            raise RepositoryError(
                f"{self.path}: object {object_id.decode('ascii', 'replace')[:40]} is missing"
                " (a shallow or partial clone? clone the whole history)"
            ) from None
        except Exception as exc:
            raise RepositoryError(f"{self.path}: cannot read the git repository ({_reason(exc)})") from None

    def _entry(self, tree_id: bytes, path: bytes) -> Optional[tuple[int, bytes]]:
        """(mode, object id) of `path` in the tree, or None when the tree has no such path."""
        mode = _TREE
        for part in path.split(b"/"):
            if mode & _KIND != _TREE:  # a file, link or submodule where a folder was wanted
                return None
            try:
                mode, tree_id = self._object(tree_id)[part]
            except KeyError:
                return None
        return mode, tree_id

    def _first_parent_line(self) -> list[tuple[str, bytes, int, int]]:
        """(id, tree, committer time, offset) of HEAD's first-parent line, newest first."""
        line = []
        commit = self._head()
        while commit is not None:
            if commit.type_name != b"commit":
                raise RepositoryError(f"{self.path}: HEAD does not lead to a commit")
            line.append((commit.id.decode("ascii"), commit.tree, commit.commit_time, commit.commit_timezone))
            if len(line) > MAX_HISTORY_COMMITS:
                raise RepositoryError(
                    f"{self.path}: HEAD's first-parent line is longer than {MAX_HISTORY_COMMITS:,} commits")
            commit = self._object(commit.parents[0]) if commit.parents else None
        return line

    def commits(self, paths: list[str], since: Optional[dt.date] = None) -> list[Commit]:
        """Commits of HEAD's first-parent line (what the site published) that changed any
        of `paths`, oldest first; with `since`, those made on or after that day (and those
        whose date cannot be read, so that they are reported)."""
        wanted = [os.fsencode(p).strip(b"/") for p in paths]
        line = self._first_parent_line()
        found = []
        here = [self._entry(line[0][1], p) for p in wanted] if line else []
        for index, (commit_id, _tree, seconds, offset) in enumerate(line):
            parent_tree = line[index + 1][1] if index + 1 < len(line) else None
            before = [self._entry(parent_tree, p) if parent_tree else None for p in wanted]
            if here != before:
                committed, error = committer_date(seconds, offset)
                commit = Commit(commit_id, committed, error)
                if since is None or error or commit.date >= since:
                    found.append(commit)
            here = before
        return list(reversed(found))

    @contextlib.contextmanager
    def blobs(self) -> Iterator["BlobReader"]:
        yield BlobReader(self)


class BlobReader:
    def __init__(self, repo: GitRepository):
        self._repo = repo

    def read(self, commit: Commit, path: str) -> Optional[bytes]:
        """The file at `path` in `commit`, or None when the commit has no such file (or a
        directory, a symbolic link or a submodule by that name)."""
        tree = self._repo._object(commit.commit_id.encode("ascii")).tree
        entry = self._repo._entry(tree, os.fsencode(path).strip(b"/"))
        if entry is None or entry[0] & _KIND != _FILE:
            return None
        blob = self._repo._object(entry[1])
        return blob.as_raw_string() if blob.type_name == b"blob" else None
