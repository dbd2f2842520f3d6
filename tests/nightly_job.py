"""The nightly workflow's job, run here: .github/workflows/sync.yml's steps (tests/workflow_runner.py)
in a copy of the parts of the checkout it uses, with stand-in `gh`, `gcloud` and `talks`
(tests/stand_ins/) first on PATH. The release "database" is a folder; every call of a
stand-in is recorded."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.workflow_runner import JobRun, run_job

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "sync.yml"
STAND_INS = Path(__file__).resolve().parent / "stand_ins"
# What the job's steps read of the checkout (the Install step is the tests' own environment).
CHECKOUT = (".github", "contrib", "sync", "db", "pyproject.toml", "README.md", "metadata.yml")
INSTALLED = ("Install talks",)


class NightlyJob:
    def __init__(self, folder: Path):
        self.workspace, self.state, self.bin = folder / "checkout", folder / "state", folder / "bin"
        for path in (self.state, self.bin):
            path.mkdir(parents=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.db-*", "*.lock")
        for name in CHECKOUT:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.workspace / name, symlinks=True, ignore=ignore)
            else:
                (self.workspace / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, self.workspace / name, follow_symlinks=False)
        for tool in ("gh", "gcloud", "talks"):
            stand_in = self.bin / tool
            stand_in.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STAND_INS / (tool + ".py")}" "$@"\n')
            stand_in.chmod(0o755)

    # -- the release and the calls

    @property
    def release(self) -> Path:
        return self.state / "release"

    def assets(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.release.iterdir())} if self.release.is_dir() else {}

    def calls(self, tool: str | None = None) -> list[list[str]]:
        log = self.state / "calls.jsonl"
        entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return [[e["tool"], *e["argv"]] for e in entries if tool in (None, e["tool"])]

    def clear_calls(self) -> None:
        (self.state / "calls.jsonl").unlink(missing_ok=True)

    def faults(self, faults: dict[str, str]) -> None:
        """Make the stand-ins fail: {"gh release view": "502", "talks sync": "fresh", ...}."""
        (self.state / "faults.json").write_text(json.dumps(faults))

    @property
    def deployed(self) -> Path:
        return self.state / "deployed"

    # -- running it

    def env(self) -> dict[str, str]:
        """The runner's environment: the stand-ins first, then this interpreter's scripts (python)."""
        path = os.pathsep.join([str(self.bin), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        return {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
                "STAND_IN_STATE": str(self.state), "PYTHONDONTWRITEBYTECODE": "1"}

    def run(self, night: str, *, gcp: bool = True, keep_nights: str | None = None,
            more_secrets: dict[str, str] | None = None) -> JobRun:
        """One night's job, its dated copy named after `night` (20261201T031700Z)."""
        db = self.workspace / "db" / "talks.db"
        for leftover in db.parent.glob("talks.db*"):  # each night runs in a fresh checkout
            leftover.unlink()
        base = {**self.env(), "TALKS_NIGHT": night}
        secrets = {"YOUTUBE_API_KEY": "stand-in-key", **({"GCP_CREDENTIALS": "{}"} if gcp else {}),
                   **(more_secrets or {})}
        variables = {"GCP_PROJECT": "talks-project", **({"KEEP_NIGHTS": keep_nights} if keep_nights else {})}
        return run_job(WORKFLOW, "sync", self.workspace, base_env=base, secrets=secrets, variables=variables,
                       skip=INSTALLED)

    def shell(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=self.workspace, env=self.env(),
                              capture_output=True, text=True, timeout=120)


def db_counts(data: bytes, folder: Path) -> dict[str, int]:
    """Rows of the kept tables in a database file's bytes."""
    path = folder / "inspect.db"
    path.write_bytes(data)
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0]
                for t in ("sync_runs", "match_decisions", "changes", "talks")}
    finally:
        con.close()
        path.unlink()
