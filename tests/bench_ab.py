"""A/B of a full API sync between this checkout and another one, interleaved (A B B A ...).

    git worktree add ../base fffaeee
    python -m tests.bench_ab ../base 5000 6

Both run `python -m sync sync --source api` from their own tree (this venv's packages)
against one stand-in API with 20 ms an answer (tests/apiserver.py from this tree), each
into a fresh database; prints per side the median full sync, the quickest pages-only run,
and the API part against the page-chain bound, as `make bench` defines them. What it
answers: is a ratio missed on this machine missed by the older code too?
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.apiserver import TEST_KEY, running_api_server
from tests.bench import SNAPSHOT, SNAPSHOT_TODAY
from tests.bench_scale import LATENCY_S, PAGE_SIZE, playlist_entries

HERE = Path(__file__).resolve().parent.parent


def _sync(tree: Path, db: Path, args: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sync", "sync", "--db", str(db), *args],
                          cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{tree}: sync failed ({done.returncode}): {done.stderr[-500:]}")
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    other, n, reps = Path(argv[0]).resolve(), int(argv[1]), int(argv[2])
    trees = {"other": other, "this": HERE}
    real = [r for response in json.loads((SNAPSHOT / "snapshot.json").read_text())["youtube"]["videos"]
            for r in response["items"]]
    pages = ["--page", str(SNAPSHOT / "webinar.md"), "--talks-page", str(SNAPSHOT / "webinar_talks.md"),
             "--today", SNAPSHOT_TODAY]
    walls = {side: {"full": [], "pages": []} for side in trees}
    with tempfile.TemporaryDirectory(prefix="talks-ab-") as tmp, running_api_server() as server:
        server.latency = LATENCY_S
        server.add_playlist("PLab", playlist_entries(n, real))
        # byte code cached in each tree, as tests/bench.py's run_child has it
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
        env.update(YOUTUBE_API_KEY=TEST_KEY, YOUTUBE_API_ENDPOINT=server.endpoint)
        runs = 0
        for rep in range(reps):
            for side in (("other", "this") if rep % 2 == 0 else ("this", "other")):
                runs += 1
                walls[side]["pages"].append(_sync(trees[side], Path(tmp) / f"p{runs}.db", ["--source", "none", *pages], env))
                walls[side]["full"].append(_sync(trees[side], Path(tmp) / f"f{runs}.db",
                                                 ["--source", "api", "--playlist", "PLab", *pages], env))
    bound = (-(-n // PAGE_SIZE) + 1) * LATENCY_S
    for side, measured in walls.items():
        full, pages_only = statistics.median(measured["full"]), min(measured["pages"])
        print(f"{side} ({trees[side]}): N = {n:,}, full sync median {full:.2f} s "
              f"({', '.join(f'{w:.2f}' for w in measured['full'])}), pages-only {pages_only:.2f} s, "
              f"API part {full - pages_only:.2f} s / bound {bound:.2f} s = {(full - pages_only) / bound:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
