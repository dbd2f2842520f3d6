"""A stand-in `talks` for the workflow's Sync step: the real `talks`, fed the bundled
snapshot instead of the network (`sync --source api` becomes `sync --snapshot`).

Faults ("talks sync" in faults.json): `fresh` deletes the database first (a night that
starts from nothing, as a restore mistaken for a first night would); `fail` runs a sync
whose page cannot be read (a real failed run, recorded in sync_runs). Other commands
(`talks status`) run as they are. Calls are recorded in calls.jsonl."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["STAND_IN_STATE"])


def sync_arguments(argv: list[str]) -> list[str]:
    args, it = [], iter(argv)
    for arg in it:
        if arg == "--source":
            next(it)
        else:
            args.append(arg)
    db = args[args.index("--db") + 1]
    faults = STATE / "faults.json"
    kind = json.loads(faults.read_text()).get("talks sync") if faults.exists() else None
    if kind == "fresh":
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    if kind == "fail":
        return [*args, "--source", "none", "--page", str(STATE / "no-such-page.md"), "--no-talks-page"]
    return [*args, "--snapshot"]


if __name__ == "__main__":
    argv = sys.argv[1:]
    with open(STATE / "calls.jsonl", "a") as calls:
        calls.write(json.dumps({"tool": "talks", "argv": argv}) + "\n")
    if argv[:1] == ["sync"]:
        argv = ["sync", *sync_arguments(argv[1:])]
    os.execv(sys.executable, [sys.executable, "-m", "sync", *argv])
