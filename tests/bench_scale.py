"""Scale benchmarks for `make bench` (tests/bench.py calls `scale_report`):

  - `talks sync --source api` of synthetic playlists of N = 100 ... 10,000 videos (in
    playlists of at most 5,000, YouTube's limit)
    against the stand-in API, each answer taking at least 20 ms: a full sync into a
    fresh database, then the same sync again (every page unchanged: 304). Requests,
    quota units against the minimum, wall time, the API part (wall minus the pages-only
    run of the same pages just before it) against the page-chain bound ((pages + 1) x 20 ms: the pages
    are fetched one after the other, each needing the previous one's token), and the
    child's peak RSS.
  - nights: a full sync, then one unchanged sync a night for NIGHTS nights (the ledger's
    runs made a day older before each, as if a day had passed), at N = 100, 1,000 and
    5,000: the requests of the night after the full read, and per night once the refresh
    rotation is running (the third week), counted at the stand-in.
  - matching alone at 1k, 5k and 10k talks x videos.
  - start-up: `talks sync --snapshot` on an existing database, warm (byte code cached,
    even where the environment sets PYTHONDONTWRITEBYTECODE), and which network
    libraries such a run imports (none should be).

Inputs are synthetic and deterministic: the same every run.
"""
from __future__ import annotations

import json
import math
import os
import random
import statistics
import time
from pathlib import Path
from typing import Callable

from db.reports import REPORT_VIDEOS_SQL
from sync.match import forget_prepared_videos, match_recordings
from sync.core.records import Person, TalkRecord, VideoRecord

MATCH_SIZES = (1_000, 5_000, 10_000)
TARGET_MATCH_10K_S = 5.0
SYNC_SIZES = (100, 1_000, 2_000, 5_000, 10_000)
NIGHT_SIZES = (100, 1_000, 5_000)
NIGHTS = 21  # three weeks: the rotation (REFRESH_DAYS = 7) runs from the second on
STEADY_NIGHTS = range(15, 22)  # the third week
TARGET_DAY_AFTER_BATCHES = 2  # videos.list batches the night after a full read, at 5,000
LATENCY_S = 0.020  # added by the stand-in to every request
PAGE_SIZE = 50
PLAYLIST_MAX = 5_000  # videos one YouTube playlist can hold
TARGET_API_RATIO = 1.5  # API part / page-chain bound, full sync at N >= 2,000
TARGET_RESYNC_RATIO = 1.5
TARGET_RSS_MB = 300.0
TARGET_STARTUP_S = 0.4
NETWORK_LIBRARIES = ("googleapiclient.discovery", "httplib2", "yt_dlp", "httpx")
GONE_SHARE = 50  # one entry in this many is a private or deleted video

# Few given names and many surnames: given names collide as they do in real series, so
# blocking by name must look at pairs of words, not given names alone.
_GIVEN = ["anna", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "ines", "jun",
          "karim", "lena", "marta", "nikos", "olga", "pedro", "qiu", "rosa", "sven", "tariq"]
_WORDS = ("dataset bias imaging fairness segmentation annotation benchmark label noise skin "
          "cancer retina chest xray audit shortcut learning federated privacy curation shift "
          "domain causal evaluation metric challenge cohort consent registry atlas").split()


def synthetic_match_input(n: int, seed: int = 14) -> tuple[dict, dict, set]:
    """`n` talks and `n` videos: most videos titled like uploads (code, speaker, title),
    some with the title only and the speaker in the description, some truncated,
    some without a code, a few private; the playlist holds them all."""
    rng = random.Random(seed)
    talks, videos = {}, {}
    for i in range(n):
        season, episode = divmod(i, 99)
        coded = season < 99  # two-digit codes run out at 9,801 talks: the rest are upcoming
        name = f"{_GIVEN[i % len(_GIVEN)].title()} {rng.choice(_WORDS).title()}son{i}"
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 9))) + f" part {i}"
        day = f"20{23 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        code = f"S{season + 1:02d}E{episode + 1:02d}" if coded else None
        talks[f"t{i}"] = TalkRecord(
            status="listed" if coded else "upcoming", speakers=[Person(name)], code=code,
            season=season + 1 if coded else None, episode=episode + 1 if coded else None,
            date=day, title=title, page_video_id=f"v{i:07d}" if i % 10 == 0 else None,
        )
        style = i % 4
        if style == 0 and code:
            video_title, description = f"{code} - {name} - {title}", "A talk of the series."
        elif style == 1:
            video_title, description = f"{title} | {name}", f"Speaker: {name}. Part of the series."
        elif style == 2:
            video_title, description = f"{name}: {title[:45]}...", ""
        else:
            video_title, description = title, f"{name} presents."
        videos[f"v{i:07d}"] = VideoRecord(
            f"v{i:07d}", "private" if i % 97 == 0 else "public", title=video_title,
            description=description, published_at=f"{day}T18:00:00Z",
        )
    return talks, videos, set(videos)


def bench_match_sizes(sizes=MATCH_SIZES) -> list[tuple[int, float, int]]:
    """(n, seconds, talks matched) for n talks x n videos, matching alone (input built first)."""
    out = []
    for n in sizes:
        talks, videos, playlist = synthetic_match_input(n)
        forget_prepared_videos()  # cold: the sizes share their first inputs
        start = time.perf_counter()
        matches = match_recordings(talks, videos, playlist)
        out.append((n, time.perf_counter() - start, len(matches)))
    return out


# ----------------------------------------------------------------------------- sync at scale


def playlist_entries(n: int, real: list[dict]) -> list[dict]:
    """`n` playlist entries: the snapshot's real recordings (so its talks get matched),
    synthetic uploads, and one private or deleted entry in GONE_SHARE."""
    from tests.apiserver import deleted_item, make_video, private_item, video_ids

    entries = list(real[:n])
    synthetic = n - len(entries)
    gone = synthetic // GONE_SHARE
    for i, video_id in enumerate(video_ids(synthetic - gone, prefix="s")):
        entries.append(make_video(
            video_id,
            f"S{10 + i // 99 % 90:02d}E{i % 99 + 1:02d} - Speaker {i} - A synthetic talk about dataset number {i}",
            description=f"Synthetic recording {i} of the benchmark playlist.",
            published_at=f"20{27 + i // 365 % 70:02d}-01-01T17:00:00Z",
            caption=i % 3 == 0,
        ))
    for i, video_id in enumerate(video_ids(gone, prefix="g")):
        entries.append(private_item(video_id) if i % 2 else deleted_item(video_id))
    return entries


def _units_minimum(n: int, described: int) -> int:
    """What any client must spend: every playlist page (each playlist of at most
    PLAYLIST_MAX), and one videos.list call per 50 videos it has to describe."""
    pages = sum(math.ceil(min(PLAYLIST_MAX, n - start) / PAGE_SIZE) for start in range(0, n, PLAYLIST_MAX))
    return pages + math.ceil(described / PAGE_SIZE)


# Videos the reports depend on (`sync.pipeline.refresh.report_video_ids`: the pages' links
# and db/reports.py's REPORT_VIDEOS_SQL), less the playlist's own private and deleted
# entries, which their pages (304) vouch for: an unchanged re-sync describes these
# again, and others only when the refresh cadence says they are due.
DEPENDENT_SQL = f"""
SELECT count(*) FROM (
  {REPORT_VIDEOS_SQL.replace("ORDER BY 1", "")}
  UNION SELECT page_video_id FROM talks WHERE removed_at IS NULL AND page_video_id IS NOT NULL
  UNION SELECT talks_page_video_id FROM talks WHERE removed_at IS NULL AND talks_page_video_id IS NOT NULL
  EXCEPT SELECT v.video_id FROM videos v JOIN playlist_items pi ON pi.video_id = v.video_id
    AND pi.removed_at IS NULL WHERE v.availability IN ('private', 'deleted'))
"""


class SyncRow(dict):
    """One line of the scale table (a dict: N, run, requests, units, minimum, ...)."""


def bench_sync_sizes(work: Path, sync: Callable, sizes=SYNC_SIZES, reps: int = 5) -> tuple[list[SyncRow], float]:
    """Full and unchanged re-sync per size. `sync(db, *args, env=...)` runs `talks sync` in
    a child (tests/bench.py's talks_sync) and returns its wall and peak RSS.

    Each sync is paired with a pages-only run (`--source none`, a fresh database) just
    before it: its API part is the pair's difference, and a row shows the median pair of
    `reps`. Pairs, because this VM's speed drifts by ~10% from one second to the next,
    as much as the targets' margins; a pages-only run measured apart (the quickest of a
    few) would charge that drift, and the start-up's own spread, to the API part.
    Also returned: the quickest of the first three pages-only runs (the earlier way to
    measure: the median sync less that; printed beside it)."""
    from tests.apiserver import TEST_KEY, running_api_server
    from tests.bench import SNAPSHOT, SNAPSHOT_TODAY, last_run, query

    real = [r for response in json.loads((SNAPSHOT / "snapshot.json").read_text())["youtube"]["videos"]
            for r in response["items"]]
    pages_args = ["--page", str(SNAPSHOT / "webinar.md"), "--talks-page", str(SNAPSHOT / "webinar_talks.md"),
                  "--today", SNAPSHOT_TODAY]
    pages_walls: list[float] = []

    def pages_only() -> float:
        db = work / f"pages-only-{len(pages_walls)}" / "talks.db"
        db.parent.mkdir()
        pages_walls.append(sync(db, "--source", "none", *pages_args).wall)
        return pages_walls[-1]

    rows: list[SyncRow] = []
    with running_api_server() as server:
        server.latency = LATENCY_S
        env = {**os.environ, "YOUTUBE_API_KEY": TEST_KEY, "YOUTUBE_API_ENDPOINT": server.endpoint}
        for n in sizes:
            # a playlist holds at most 5,000 videos (sync.core.limits): larger N is several playlists
            entries = playlist_entries(n, real)
            args = ["--source", "api"]
            for start in range(0, n, PLAYLIST_MAX):
                playlist = f"PLscale{n:07d}x{start // PLAYLIST_MAX}"
                server.add_playlist(playlist, entries[start:start + PLAYLIST_MAX])
                args += ["--playlist", playlist]
            args += pages_args
            for label in ("full", "unchanged"):
                measured = []
                for rep in range(reps):
                    db = work / f"sync-{n}-{rep}" / "talks.db"
                    if label == "full":
                        db.parent.mkdir()
                    paired = pages_only()
                    server.reset_log()
                    dependent = query(db, DEPENDENT_SQL)[0][0] if label == "unchanged" else 0
                    child = sync(db, *args, env=env)
                    run = last_run(db)
                    pages = server.count("playlistItems")
                    not_modified = sum(1 for s in server.seen("playlistItems") if s.status == 304)
                    described = len({i for s in server.seen("videos") for i in s.params.get("id", "").split(",") if i})
                    measured.append((child.wall - paired, child, run, pages, not_modified, described, server.count(),
                                     dependent))
                api, child, run, pages, not_modified, described, served, dependent = sorted(
                    measured, key=lambda m: m[0])[len(measured) // 2]
                bound = (pages + 1) * LATENCY_S  # the chains one after the other, plus one round trip
                if label == "full":
                    minimum = _units_minimum(n, described)
                else:  # every page (304), then the videos the reports depend on (none due: just described)
                    minimum = _units_minimum(n, 0) + math.ceil(dependent / PAGE_SIZE)
                rows.append(SyncRow(
                    n=n, run=label, requests=run["requests"], served=served, units=run["quota_units"],
                    minimum=minimum, wall=child.wall, api=api, bound=bound, ratio=api / bound, rss=child.rss_mb,
                    changed=run["rows_changed"], reps=reps, pages=pages, not_modified=not_modified,
                    batches=served - pages, api_walls=sorted(m[0] for m in measured),
                    median_wall=statistics.median(m[1].wall for m in measured),
                ))
    quickest = min(pages_walls[:3])
    for row in rows:  # the earlier estimate: the median sync less the quickest of the first 3 pages-only runs
        row["ratio_vs_quickest"] = (row["median_wall"] - quickest) / row["bound"]
    return rows, quickest


def bench_bare_chain(n: int = 5_000, reps: int = 3) -> tuple[float, int]:
    """The page chain with nothing around it: a bare httplib2 client walks a playlist of `n`
    at the same stand-in, each page asked after the one before (median of `reps`). What no
    sync can beat on this machine; the bound above is what it would be with no work at all."""
    import httplib2
    from tests.apiserver import TEST_KEY, running_api_server
    from tests.bench import SNAPSHOT

    real = [r for response in json.loads((SNAPSHOT / "snapshot.json").read_text())["youtube"]["videos"]
            for r in response["items"]]
    walls = []
    with running_api_server() as server:
        server.latency = LATENCY_S
        server.add_playlist("PLbarechain", playlist_entries(n, real))
        http = httplib2.Http(timeout=30)
        for _ in range(reps):
            started, token, pages = time.perf_counter(), None, 0
            while True:
                url = (f"{server.endpoint}/youtube/v3/playlistItems?part=snippet,contentDetails,status"
                       f"&playlistId=PLbarechain&maxResults={PAGE_SIZE}&key={TEST_KEY}")
                _, body = http.request(url + (f"&pageToken={token}" if token else ""))
                pages += 1
                token = json.loads(body).get("nextPageToken")
                if not token:
                    break
            walls.append(time.perf_counter() - started)
    return statistics.median(walls), pages


def sync_table(rows: list[SyncRow], pages_only: float) -> str:
    reps = rows[0]["reps"] if rows else 0
    out = [f"Stand-in API with {LATENCY_S * 1000:.0f} ms an answer at least, its making included; API part = wall - "
           f"the pages-only run just before it (the median of {reps} such pairs; in brackets, the median sync less "
           f"the quickest of the first 3 pages-only runs, {pages_only:.2f} s); bound = (playlist pages + 1) x "
           f"{LATENCY_S * 1000:.0f} ms; "
           "the minimum units of an unchanged re-sync are its pages (each asked with its etag: 304) and one "
           "videos.list per 50 videos the reports depend on (page-linked, matched, not watchable outside the "
           "playlist's own stubs).", "",
           "| N videos | sync | requests: pages (304) + videos.list | quota units (minimum) | wall | API part / bound "
           "| rows changed | peak RSS |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        median = f" (median pair of {r['reps']})" if r["reps"] > 1 else ""
        out.append(f"| {r['n']:,} | {r['run']} | {r['requests']}: {r['pages']} ({r['not_modified']}) + {r['batches']} | "
                   f"{r['units']} ({r['minimum']}) | "
                   f"{r['wall']:.2f} s{median} | {r['api']:.2f} s / {r['bound']:.2f} s = {r['ratio']:.2f}x "
                   f"({r['ratio_vs_quickest']:.2f}x) | "
                   f"{r['changed']} | {r['rss']:.0f} MB |")
    return "\n".join(out)


def _age_runs(db: Path, days: int = 1) -> None:
    """Make every run of the ledger `days` older: the next sync comes a day later."""
    import datetime as dt
    import sqlite3

    con = sqlite3.connect(db)
    with con:
        for run_id, started in con.execute("SELECT id, started_at FROM sync_runs").fetchall():
            when = dt.datetime.fromisoformat(started) - dt.timedelta(days=days)
            con.execute("UPDATE sync_runs SET started_at = ? WHERE id = ?", [when.isoformat(), run_id])
    con.close()


def bench_nights(work: Path, sync: Callable, sizes=NIGHT_SIZES, nights: int = NIGHTS) -> list[dict]:
    """Per size: a full sync, then an unchanged sync a night for `nights` nights; the
    requests of each night as the stand-in saw them (pages, 304s, videos.list)."""
    from tests.apiserver import TEST_KEY, running_api_server
    from tests.bench import SNAPSHOT, SNAPSHOT_TODAY

    real = [r for response in json.loads((SNAPSHOT / "snapshot.json").read_text())["youtube"]["videos"]
            for r in response["items"]]
    out = []
    with running_api_server() as server:  # no added latency: requests are what is counted
        env = {**os.environ, "YOUTUBE_API_KEY": TEST_KEY, "YOUTUBE_API_ENDPOINT": server.endpoint}
        for n in sizes:
            playlist = f"PLnights{n:07d}"
            server.add_playlist(playlist, playlist_entries(n, real))
            db = work / f"nights-{n}" / "talks.db"
            db.parent.mkdir()
            args = ["--source", "api", "--playlist", playlist, "--page", str(SNAPSHOT / "webinar.md"),
                    "--talks-page", str(SNAPSHOT / "webinar_talks.md"), "--today", SNAPSHOT_TODAY]
            sync(db, *args, env=env)  # night 0: the full read
            per_night = []
            for _ in range(nights):
                _age_runs(db)
                server.reset_log()
                sync(db, *args, env=env)
                pages = server.count("playlistItems")
                per_night.append({"pages": pages, "batches": server.count() - pages, "requests": server.count(),
                                  "not_modified": sum(1 for s in server.seen("playlistItems") if s.status == 304)})
            steady = [per_night[night - 1]["requests"] for night in STEADY_NIGHTS]
            out.append({"n": n, "day_after": per_night[0], "nights": per_night, "steady_mean": statistics.mean(steady),
                        "steady_min": min(steady), "steady_max": max(steady), "week": sum(steady)})
    return out


def nights_table(nights: list[dict]) -> str:
    out = [f"Nightly syncs of an unchanged playlist after a full read (night 0), one a night for {NIGHTS} nights, "
           "requests as the stand-in counted them; the rotation describes each video again once it was last "
           "described 7 days before, at most 1,000 a night (REFRESH_DAYS, REFRESH_CAP).", "",
           "| N videos | night 1: pages (304) + videos.list | nights 15-21 (the rotation running): requests a night, "
           "mean (min-max) | a week |",
           "|---|---|---|---|"]
    for r in nights:
        d = r["day_after"]
        out.append(f"| {r['n']:,} | {d['requests']}: {d['pages']} ({d['not_modified']}) + {d['batches']} | "
                   f"{r['steady_mean']:.1f} ({r['steady_min']}-{r['steady_max']}) | {r['week']} |")
    return "\n".join(out)


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def match_table(results: list[tuple[int, float, int]]) -> str:
    out = ["| talks x videos | matching | talks matched |", "|---|---|---|"]
    out += [f"| {n:,} x {n:,} | {seconds:.2f} s | {matched:,} |" for n, seconds, matched in results]
    return "\n".join(out)


def bench_startup(work: Path, sync: Callable, reps: int = 5) -> tuple[float, float, list[str]]:
    """(median wall, median child CPU, network libraries loaded) of `talks sync --snapshot`
    re-run on an existing database, after a warm-up run that caches byte code."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    db = work / "startup" / "talks.db"
    db.parent.mkdir()
    sync(db, "--snapshot", env=env)
    walls, cpus = [], []
    for _ in range(reps):
        before = os.times()
        walls.append(sync(db, "--snapshot", env=env).wall)
        after = os.times()
        cpus.append(after.children_user + after.children_system - before.children_user - before.children_system)
    probe = ("import sys; from sync.cli import cli; cli.main(sys.argv[1:], standalone_mode=False); "
             f"print(','.join(m for m in {NETWORK_LIBRARIES!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe, "sync", "--snapshot", "--db", str(db), "-q"],
                          env=env, capture_output=True, text=True, timeout=120)
    loaded = [m for m in done.stdout.strip().splitlines()[-1:] for m in m.split(",") if m] if done.returncode == 0 else ["?"]
    return statistics.median(walls), statistics.median(cpus), loaded


CLIENT_IMPORT_PROBE = (
    "import time; t = time.perf_counter(); from sync.youtube._client import load_client_modules; "
    "load_client_modules(); import sync.youtube._api; print(time.perf_counter() - t)"
)


def bench_client_import(reps: int = 5) -> float:
    """Median seconds a fresh interpreter takes to import what an API sync needs on top of a
    pages-only one (google-api-python-client, httplib2, sync.youtube._api): part of every
    API part above; a sync overlaps it with reading the pages."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(reps + 1):  # the first caches byte code
        done = subprocess.run([sys.executable, "-c", CLIENT_IMPORT_PROBE], env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        times.append(float(done.stdout.strip()))
    return statistics.median(times[1:])


def _ratios(row: SyncRow) -> str:
    return ", ".join(f"{api / row['bound']:.2f}" for api in row["api_walls"])


def scale_report(work: Path, sync: Callable, line: Callable) -> tuple[str, list]:
    """The scale tables (markdown) and their target checks as tests/bench.py `Line`s."""
    wall, cpu, loaded = bench_startup(work, sync)
    client_import = bench_client_import()
    rows, pages_only = bench_sync_sizes(work, sync)
    bare, bare_pages = bench_bare_chain()
    nights = bench_nights(work, sync)
    matching = bench_match_sizes()
    checks = [line(
        "(scale) importing the API client (google-api-python-client, httplib2) in a fresh interpreter, median of 5",
        f"{fmt_s(client_import)}: in every API part below; a sync imports it on a thread while it reads "
        "the pages", "", None,
    ), line(
        "(scale) start-up: `talks sync --snapshot` on an existing db, warm, median of 5",
        f"{fmt_s(wall)} wall ({fmt_s(cpu)} CPU); network libraries loaded: {', '.join(loaded) or 'none'}",
        f"< {TARGET_STARTUP_S * 1000:.0f} ms, none loaded",
        wall < TARGET_STARTUP_S and not loaded,
    )]
    for r in rows:
        if r["run"] == "full" and r["n"] >= 2_000:
            checks.append(line(
                f"(scale) full sync, N = {r['n']:,}: API part / page-chain bound, quota, RSS",
                f"{r['ratio']:.2f}x (pairs: {_ratios(r)}), "
                f"{r['units']} units (minimum {r['minimum']}), {r['rss']:.0f} MB",
                f"<= {TARGET_API_RATIO}x, minimum, < {TARGET_RSS_MB:.0f} MB",
                r["ratio"] <= TARGET_API_RATIO and r["units"] == r["minimum"] and r["rss"] < TARGET_RSS_MB,
            ))
        if r["run"] == "unchanged" and r["n"] == 5_000:
            checks.append(line(
                f"(scale) unchanged re-sync, N = {r['n']:,}: requests, API part / its bound",
                f"{r['requests']} requests: {r['pages']} pages ({r['not_modified']} answered 304) + {r['batches']}"
                f" videos.list, {r['units']} units (minimum {r['minimum']}), {r['ratio']:.2f}x",
                f"every page, most 304, + <= {TARGET_DAY_AFTER_BATCHES} videos.list; <= {TARGET_RESYNC_RATIO}x",
                r["requests"] == r["units"] == r["minimum"] and r["pages"] == _units_minimum(r["n"], 0)
                and r["not_modified"] > r["pages"] // 2 and r["batches"] <= TARGET_DAY_AFTER_BATCHES
                and r["ratio"] <= TARGET_RESYNC_RATIO,
            ))
    checks.append(line(
        f"(scale) the page chain alone, N = 5,000: a bare httplib2 client walking the same {bare_pages} pages, median of 3",
        f"{bare:.2f} s = {bare / ((bare_pages + 1) * LATENCY_S):.1f}x the bound: the stand-in's answers and one "
        "client's parsing, with no sync around them", "", None,
    ))
    for r in nights:
        if r["n"] == 5_000:
            checks.append(line(
                f"(scale) the night after a full read, N = {r['n']:,}: requests",
                f"{r['day_after']['pages']} pages ({r['day_after']['not_modified']} answered 304) + "
                f"{r['day_after']['batches']} videos.list",
                f"every page + <= {TARGET_DAY_AFTER_BATCHES} videos.list",
                r["day_after"]["pages"] == _units_minimum(r["n"], 0)
                and r["day_after"]["batches"] <= TARGET_DAY_AFTER_BATCHES,
            ))
    n, seconds, _ = matching[-1]
    checks.append(line(f"(scale) matching {n:,} x {n:,}", f"{seconds:.2f} s", f"< {TARGET_MATCH_10K_S:.0f} s",
                       seconds < TARGET_MATCH_10K_S))
    return sync_table(rows, pages_only) + "\n\n" + nights_table(nights) + "\n\n" + match_table(matching), checks


if __name__ == "__main__":  # python -m tests.bench_scale [--nights] [N ...]: the scale part alone
    import sys
    import tempfile

    from tests.bench import Line, talks_sync

    args = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="talks-scale-") as tmp:
        if args and args[0] == "--nights":
            print(nights_table(bench_nights(Path(tmp), talks_sync, [int(a) for a in args[1:]] or NIGHT_SIZES)))
        elif args:
            rows, pages_only = bench_sync_sizes(Path(tmp), talks_sync, [int(a) for a in args])
            print(sync_table(rows, pages_only))
        else:
            text, checks = scale_report(Path(tmp), talks_sync, Line)
            print(text)
            for check in checks:
                print(f"{check.verdict}  {check.what}: {check.result}")
