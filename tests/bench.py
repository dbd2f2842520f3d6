"""Benchmarks: `make bench` (python -m tests.bench). Offline; loopback only.

Measures, and prints as a markdown table to paste into the README:

  (a) parsing all corpus pages (tests/fixtures/corpus) with sync.pages
  (b) `talks sync --snapshot` into a fresh database: wall time and peak RSS
  (c) re-syncing that database (idempotent: 0 rows changed)
  (d) replaying the whole page history (every webinar version in commit order,
      --source none, allow_shrink), as tests/test_cli.py does
  (e) `talks sync --source api` of a synthetic 1,000-video playlist against the
      tests' stand-in Data API (tests/apiserver.py): wall time, requests, quota
      units, peak RSS; then the same sync again (the playlist answers 304)
  (f) `talks serve` (Datasette over the live file, loopback): time from start to
      the first answer, and p50/p95 latency of 200 requests each to
      /talks/talks.json?_search=jimenez, /talks/talks and /talks (the index, which
      counts every table on each request now that the file is not immutable)
  (t) transcripts (tests/bench_transcripts.py): 1,000,000 segments loaded
      through save_transcript, then p95 of 200 queries for each search the site
      offers (/search, search_recordings, search_talks, table search on
      transcript_segments and talks with Datasette's defaults)
  backfill: `talks backfill` of the corpus rebuilt as a git repository
      (tests/history_repo.py), fresh db, then again (nothing to replay)

Every sync runs in its own process (the real CLI where there is one), timed by
this one with time.perf_counter; peak RSS is that child's ru_maxrss from
os.wait4. Cheap measurements are repeated and the median reported. Targets are
checked and printed PASS/FAIL; the exit status is 1 when any check fails.
Timings are wall-clock on a possibly shared machine: the load average is
printed with them. No timed assertion lives in the pytest suite.

`python -m tests.bench --quick` uses fewer repetitions.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from tests.bench_scale import fmt_s, playlist_entries, scale_report
from tests.datasette_process import serving

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
SNAPSHOT = ROOT / "sync" / "snapshot"
SNAPSHOT_TODAY = "2026-08-11"

TARGET_SNAPSHOT_S = 5.0
TARGET_API_S = 30.0
TARGET_API_RSS_MB = 300.0
TARGET_SEARCH_P95_MS = 200.0
API_VIDEOS = 1000
API_PLAYLIST = "PLbench0000000000000000000000001000"
DATASETTE_REQUESTS = 200


# ----------------------------------------------------------------------------- children


@dataclass
class Child:
    wall: float  # seconds, as this process saw it (includes interpreter start-up)
    rss_mb: float  # the child's peak resident set size
    returncode: int
    stdout: str
    stderr: str


def run_child(args: list[str], env: Optional[dict] = None, timeout: float = 600.0) -> Child:
    """Run a command to completion; wall time and the child's own peak RSS (wait4).

    With byte code cached, as an installed `talks` runs: an environment that sets
    PYTHONDONTWRITEBYTECODE (this project's own machines do) would have every child
    compile each module it imports, the API client's included, and time the compiler."""
    env = {k: v for k, v in (os.environ if env is None else env).items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        # One blocking wait (no polling: a stand-in server in this process would share its
        # GIL with every poll), and a timer that kills a child past its time.
        killer = threading.Timer(timeout, proc.kill)
        killer.daemon = True
        killer.start()
        try:
            pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return Child(wall, usage.ru_maxrss / 1024, proc.returncode, out.read().decode(errors="replace"),
                     err.read().decode(errors="replace"))


def talks_command() -> list[str]:
    script = Path(sys.executable).parent / "talks"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "sync"]


def talks_sync(db: Path, *args: str, env: Optional[dict] = None) -> Child:
    child = run_child([*talks_command(), "sync", "--db", str(db), *args], env=env)
    if child.returncode != 0:
        raise SystemExit(f"talks sync {' '.join(args)} failed ({child.returncode}):\n{child.stderr}")
    return child


def rows_changed(output: str) -> int:
    match = re.search(r"(\d+) rows changed", output)
    if not match:
        raise SystemExit(f"no 'rows changed' in the sync's output: {output!r}")
    return int(match.group(1))


def last_run(db: Path) -> dict:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return dict(con.execute("select * from sync_runs order by id desc limit 1").fetchone())
    finally:
        con.close()


def query(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ----------------------------------------------------------------------------- results


@dataclass
class Line:
    what: str
    result: str
    target: str = ""
    ok: Optional[bool] = None  # None: no target, nothing to check

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "FAIL")


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, int(-(-p * len(ordered) // 100)))  # ceil(p/100 * n)
    return ordered[rank - 1]


# ----------------------------------------------------------------------------- (a) parsing


def corpus_index() -> list[dict]:
    return json.loads((CORPUS / "index.json").read_text())


def bench_parse(reps: int) -> list[Line]:
    from sync.pages import decode_page, parse_talks_page, parse_webinar_page

    index = corpus_index()
    pages = [(e["page"], e["file"], (CORPUS / e["file"]).read_bytes()) for e in index]
    talks = 0
    times = []
    for _ in range(reps):
        talks = 0
        start = time.perf_counter()
        for kind, name, data in pages:
            text = decode_page(data, name)
            if kind == "webinar":
                page = parse_webinar_page(text, name)
                talks += len(page.listed) + len(page.upcoming)
            else:
                talks += len(parse_talks_page(text, name))
        times.append(time.perf_counter() - start)
    total = median(times)
    return [Line(
        f"(a) parse all {len(pages)} corpus pages (sync.pages), median of {reps}",
        f"{fmt_s(total)} ({total / len(pages) * 1000:.1f} ms/page; {talks} talk records)",
    )]


# ----------------------------------------------------------------------------- (b) (c) snapshot


def bench_snapshot(work: Path, reps: int) -> tuple[list[Line], Path]:
    walls, rsss = [], []
    db = work / "snapshot" / "talks.db"
    for n in range(reps):
        db = work / f"snapshot-{n}" / "talks.db"
        db.parent.mkdir()
        child = talks_sync(db, "--snapshot")
        walls.append(child.wall)
        rsss.append(child.rss_mb)
    talks, videos = last_run(db)["talks_seen"], last_run(db)["videos_seen"]
    wall = median(walls)
    lines = [Line(
        f"(b) `talks sync --snapshot`, fresh db ({talks} talks, {videos} videos), median of {reps}",
        f"{fmt_s(wall)} wall, peak RSS {median(rsss):.0f} MB",
        f"< {TARGET_SNAPSHOT_S:.0f} s",
        wall < TARGET_SNAPSHOT_S,
    )]
    walls, changed = [], []
    for _ in range(reps):
        child = talks_sync(db, "--snapshot")
        walls.append(child.wall)
        changed.append(rows_changed(child.stdout))
    lines.append(Line(
        f"(c) re-sync of the same db, median of {reps}",
        f"{fmt_s(median(walls))} wall, rows changed {max(changed)}",
        "rows changed 0",
        max(changed) == 0 and last_run(db)["rows_changed"] == 0,
    ))
    return lines, db


# ----------------------------------------------------------------------------- (d) history


def replay_history(db_path: str) -> dict:
    """Run in a child process: every webinar version in commit order (tests/history.py)."""
    from tests.history import replay_page_history

    start = time.perf_counter()
    versions = replay_page_history(db_path)
    return {"versions": versions, "seconds": time.perf_counter() - start}


def bench_history(work: Path) -> list[Line]:
    db = work / "history" / "talks.db"
    db.parent.mkdir()
    child = run_child([sys.executable, "-m", "tests.bench", "--child-replay", str(db)])
    if child.returncode != 0:
        raise SystemExit(f"history replay failed:\n{child.stderr}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    talks = query(db, "select count(*) from talks")[0][0]
    duplicated = query(db, "select count(*) from (select speakers from talks group by speakers having count(*) > 1)")[0][0]
    webinar_versions = result["versions"]
    return [Line(
        f"(d) replay of the page history: {webinar_versions} webinar versions in commit order (--source none)",
        f"{fmt_s(result['seconds'])} ({result['seconds'] / webinar_versions * 1000:.0f} ms/version), "
        f"peak RSS {child.rss_mb:.0f} MB; {talks} talks, {duplicated} duplicated",
        "30 talks, none twice",
        talks == 30 and duplicated == 0,
    )]


# ----------------------------------------------------------------------------- backfill


TARGET_BACKFILL_S = 30.0


def bench_backfill(work: Path) -> list[Line]:
    """`talks backfill` of the whole page history (the corpus rebuilt as a git repository,
    tests/history_repo.py) into a fresh database, then again (every commit skipped)."""
    from tests.history_repo import build_history_repo

    repo, db = work / "backfill" / "site", work / "backfill" / "talks.db"
    build_history_repo(repo)
    runs = []
    for _ in range(2):
        child = run_child([*talks_command(), "backfill", "--repo", str(repo), "--db", str(db), "-q"])
        if child.returncode != 0:
            raise SystemExit(f"talks backfill failed ({child.returncode}):\n{child.stderr}")
        runs.append((child, query(db, "select count(*), max(id) from sync_runs")[0], query(db, "select count(*) from changes")[0][0]))
    (first, (commits, _), changes), (again, (commits_after, _), changes_after) = runs
    talks = query(db, "select count(*) from talks")[0][0]
    return [
        Line(
            f"backfill: `talks backfill` of the whole page history ({commits} page commits), fresh db",
            f"{fmt_s(first.wall)} wall ({first.wall / commits * 1000:.0f} ms/commit), peak RSS {first.rss_mb:.0f} MB; "
            f"{talks} talks, {changes} changes",
            f"< {TARGET_BACKFILL_S:.0f} s, 30 talks",
            first.wall < TARGET_BACKFILL_S and talks == 30,
        ),
        Line(
            "backfill: the same backfill again (every commit already replayed)",
            f"{fmt_s(again.wall)} wall; {commits_after - commits} runs, {changes_after - changes} changes",
            "0 runs, 0 changes",
            commits_after == commits and changes_after == changes,
        ),
    ]


# ----------------------------------------------------------------------------- (e) API


def api_playlist_entries() -> list[dict]:
    """The snapshot's real recordings (so talks get matched), synthetic talks, and some gone ones."""
    recorded = json.loads((SNAPSHOT / "snapshot.json").read_text())["youtube"]["videos"]
    real = [resource for response in recorded for resource in response["items"]]
    entries = playlist_entries(API_VIDEOS, real)  # the scale bench's synthetic playlist, at this size
    assert len(entries) == API_VIDEOS
    return entries


def bench_api(work: Path) -> list[Line]:
    from tests.apiserver import TEST_KEY, running_api_server

    db = work / "api" / "talks.db"
    db.parent.mkdir()
    lines = []
    with running_api_server() as server:
        server.add_playlist(API_PLAYLIST, api_playlist_entries())
        env = {**os.environ, "YOUTUBE_API_KEY": TEST_KEY, "YOUTUBE_API_ENDPOINT": server.endpoint}
        args = ["--source", "api", "--playlist", API_PLAYLIST, "--page", str(SNAPSHOT / "webinar.md"),
                "--talks-page", str(SNAPSHOT / "webinar_talks.md"), "--today", SNAPSHOT_TODAY]
        for label in ("first", "again"):
            server.reset_log()
            child = talks_sync(db, *args, env=env)
            run = last_run(db)
            served = server.count()
            by_endpoint = f"{server.count('playlistItems')} playlistItems + {server.count('videos')} videos"
            matched = query(db, "select count(*) from talks where video_id is not null")[0][0]
            if label == "first":
                lines.append(Line(
                    f"(e) `talks sync --source api`, {API_VIDEOS}-video playlist, stand-in API, fresh db",
                    f"{fmt_s(child.wall)} wall, peak RSS {child.rss_mb:.0f} MB, {run['requests']} requests "
                    f"({by_endpoint} served), {run['quota_units']} quota units; {run['videos_seen']} videos, "
                    f"{matched} talks matched",
                    f"< {TARGET_API_S:.0f} s, < {TARGET_API_RSS_MB:.0f} MB",
                    child.wall < TARGET_API_S and child.rss_mb < TARGET_API_RSS_MB and run["requests"] == served,
                ))
            else:
                lines.append(Line(
                    "(e') the same sync again (every page unchanged: 304)",
                    f"{fmt_s(child.wall)} wall, peak RSS {child.rss_mb:.0f} MB, {run['requests']} requests "
                    f"({by_endpoint}), {run['quota_units']} quota units, rows changed {run['rows_changed']}",
                ))
    return lines


# ----------------------------------------------------------------------------- (f) Datasette


def timed_gets(port: int, paths: Iterable[str], timeout: float = 10) -> Iterator[tuple[float, bytes]]:
    """GET each path on one keep-alive connection (like a browser): (seconds, body) each;
    anything but 200 ends the bench."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        for path in paths:
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            seconds = time.perf_counter() - start
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}: {body[:300]!r}")
            yield seconds, body
    finally:
        conn.close()


def latencies(port: int, path: str, n: int) -> list[float]:
    out, body = [], b""
    for seconds, body in timed_gets(port, [path] * n):
        out.append(seconds)
    if "_search=jimenez" in path and b"S07E01" not in body:
        raise SystemExit(f"{path} did not find S07E01")
    return out


def bench_datasette(db: Path) -> list[Line]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, serving(db, Path(tmp) / "datasette.log") as url:
        startup = time.perf_counter() - started
        port = int(url.rsplit(":", 1)[1])
        lines = [Line("(f) `talks serve`, start to first answer (process start, quick_check, Datasette)",
                      f"{startup * 1000:.0f} ms", "", None)]
        for path, target in (("/talks/talks.json?_search=jimenez", True), ("/talks/talks", False), ("/talks", False)):
            latencies(port, path, 20)  # warm up
            ms = [t * 1000 for t in latencies(port, path, DATASETTE_REQUESTS)]
            p95 = percentile(ms, 95)
            lines.append(Line(
                f"(f) `talks serve`, {DATASETTE_REQUESTS} sequential GET {path}",
                f"p50 {percentile(ms, 50):.1f} ms, p95 {p95:.1f} ms, max {max(ms):.1f} ms",
                f"p95 < {TARGET_SEARCH_P95_MS:.0f} ms" if target else "",
                (p95 < TARGET_SEARCH_P95_MS) if target else None,
            ))
        return lines


# ----------------------------------------------------------------------------- main


def machine() -> str:
    import datasette

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Datasette {datasette.__version__}, "
            f"{os.cpu_count()} CPUs, {platform.machine()}, load average {load}")


def table(lines: list[Line]) -> str:
    out = ["| Measurement | Result | Target | |", "|---|---|---|---|"]
    for line in lines:
        out.append(f"| {line.what} | {line.result} | {line.target} | {line.verdict} |")
    return "\n".join(out)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--child-replay", metavar="DB", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child_replay:
        print(json.dumps(replay_history(options.child_replay)))
        return 0
    if not CORPUS.exists():
        raise SystemExit(f"needs the page corpus at {CORPUS}")
    reps = 1 if options.quick else 3
    started = time.perf_counter()
    print(f"## Benchmarks\n\n{dt.date.today().isoformat()}: {machine()}\n", flush=True)
    lines: list[Line] = []
    with tempfile.TemporaryDirectory(prefix="talks-bench-") as tmp:
        work = Path(tmp)
        for step in (
            lambda: bench_parse(reps=2 if options.quick else 5),
            lambda: bench_snapshot(work, reps),
            lambda: bench_history(work),
            lambda: bench_backfill(work),
            lambda: bench_api(work),
        ):
            result = step()
            if isinstance(result, tuple):
                result, snapshot_db = result
            lines += result
            for line in result:
                print(f"{line.verdict or '----'}  {line.what}: {line.result}", file=sys.stderr, flush=True)
        result = bench_datasette(snapshot_db)
        lines += result
        for line in result:
            print(f"{line.verdict or '----'}  {line.what}: {line.result}", file=sys.stderr, flush=True)
        from tests.bench_transcripts import SEGMENTS, bench_transcripts

        result = bench_transcripts(work, snapshot_db, SEGMENTS // 10 if options.quick else SEGMENTS)
        lines += result
        for line in result:
            print(f"{line.verdict or '----'}  {line.what}: {line.result}", file=sys.stderr, flush=True)
        scale_tables, result = scale_report(work, talks_sync, Line)
        lines += result
    print(table(lines))
    print(f"\n### Scale\n\n{scale_tables}")
    failed = [line for line in lines if line.ok is False]
    print(f"\n{len(lines) - len(failed)} of {len(lines)} lines without a failed check; "
          f"{'FAIL' if failed else 'PASS'} (bench took {time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
