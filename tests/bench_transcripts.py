"""(t) Transcripts at scale, for `make bench`: 1,000,000 segments loaded, then searched.

Load: a copy of the snapshot database gets SEGMENTS segments through the real
writer (`TranscriptLoader`, as `talks transcripts import` uses it: batches of
~50,000 segments, each indexed in one statement), in a child process: wall time
of the writes and the last checkpoint, and the child's peak RSS. Text generation is not timed. The words follow a Zipf law over ~20,000 words
in which function words are the most frequent and ~130 words of the series'
field (annotation, label, noise, segmentation, fairness, ...) sit among the
next thousand, like talk transcripts; segments hold 15-40 words (3-20 s of speech), each
word timed (`word_times`), as the caption parser bounds them.

Search: for every search the site offers (the archive's /search page, the canned
queries search_recordings and search_talks, table search on transcript_segments and
talks with Datasette's defaults), SEARCHES sequential GETs of the HTML page through a
real `talks serve`, one query each, of those field words and pairs of them ("label
noise", "chest x-ray"): p50/p95/max, the server's CPU a query, and the load average.

`python -m tests.bench_transcripts [--segments N]` runs this section alone;
`--search-only DB` measures the searches again on a database loaded before
(`--only search_recordings` for some of them).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlencode

SEGMENTS = 1_000_000
SEGMENTS_PER_VIDEO = 500  # ~1.5 h of talk at ~10 s a segment
TARGET_LOAD_S = 30.0
TARGET_SEARCH_P95_MS = 100.0
SEARCHES = 200
TEXT_POOL = 20_000  # distinct segment texts, reused: generating 40M random words would dominate the bench

FUNCTION_WORDS = (
    "the and of to a in is that we this it for on with as are be so you i what not have can or but at from one "
    "all there which they if do about more like very just really know think also how"
).split()
FIELD_WORDS = (
    "dataset datasets annotation annotations label labels noise noisy segmentation fairness fair bias biased "
    "shortcut shortcuts learning model models medical imaging image images radiology pathology dermatology skin "
    "lesion lesions chest x-ray mri ct scan scans clinical clinician clinicians patient patients hospital "
    "hospitals privacy consent metadata benchmark benchmarks challenge challenges metric metrics evaluation "
    "validation training split leakage duplicate duplicates distribution shift domain generalization "
    "calibration uncertainty accuracy sensitivity specificity ground truth annotator annotators agreement "
    "crowdsourcing quality curation documentation datasheet license open access sharing federated synthetic "
    "augmentation transfer pretraining foundation multimodal report reports ophthalmology retina fundus cardiac "
    "brain tumor cancer screening mammography ultrasound histology slide equity diversity demographic race sex "
    "age subgroup performance error errors artifact artifacts watermark"
).split()
PAIRS = [
    "label noise", "shortcut learning", "ground truth", "data leakage", "chest x-ray", "medical imaging",
    "domain shift", "skin lesion", "open access", "brain tumor", "annotation quality", "federated learning",
    "synthetic data", "foundation model", "subgroup performance", "clinical validation", "segmentation challenge",
    "inter annotator agreement", "distribution shift", "privacy consent",
]


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    fillers = [f"w{n:05d}" for n in range(20_000)]
    ranked = list(FUNCTION_WORDS)
    rest = fillers[:1000] + list(FIELD_WORDS)
    rng.shuffle(rest)  # field words land among ranks ~50-1100
    ranked += rest + fillers[1000:]
    cumulative, total = [], 0.0
    for rank in range(1, len(ranked) + 1):
        total += 1.0 / rank
        cumulative.append(total)
    return ranked, cumulative


def text_pool(rng: random.Random) -> list[tuple[str, str]]:
    """(text, word_times) of TEXT_POOL segments: 15-40 words said 0.2-0.5 s apart, every word timed
    (as automatic captions are), so links are computed from word times as on real captions."""
    words, cumulative = vocabulary(rng)
    pool = []
    for _ in range(TEXT_POOL):
        chosen = rng.choices(words, cum_weights=cumulative, k=rng.randint(15, 40))
        times, offset, ms = [], 0, 0
        for word in chosen:
            times += [offset, ms]
            offset += len(word) + 1
            ms += rng.randint(200, 500)
        pool.append((" ".join(chosen), "[" + ",".join(map(str, times)) + "]"))
    return pool


# One video in JAPANESE_EVERY speaks Japanese: windows of the real automatic captions in
# tests/fixtures/captions/real (YouTube's json3 pieces, stored as read, without spaces), so
# the CJK search measures hits among a million segments, not only misses.
JAPANESE_CAPTIONS = Path(__file__).resolve().parent / "fixtures" / "captions" / "real" / "2tcCWM-sRBw.ja.json3"
JAPANESE_EVERY = 50


def japanese_pool(rng: random.Random, size: int = 2_000) -> list[tuple[str, str]]:
    """(text, word_times) of `size` segments of 15-40 consecutive caption pieces each."""
    events = json.loads(JAPANESE_CAPTIONS.read_text("utf-8"))["events"]
    pieces = [s["utf8"].strip() for e in events if "aAppend" not in e for s in e.get("segs", []) if s["utf8"].strip()]
    pool = []
    for _ in range(size):
        start = rng.randrange(0, len(pieces) - 40)
        chosen = pieces[start:start + rng.randint(15, 40)]
        times, offset, ms = [], 0, 0
        for piece in chosen:
            times += [offset, ms]
            offset += len(piece)
            ms += rng.randint(200, 500)
        pool.append(("".join(chosen), "[" + ",".join(map(str, times)) + "]"))
    return pool


def queries(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        out.append(rng.choice(PAIRS) if rng.random() < 0.4 else rng.choice(FIELD_WORDS))
    return out


def load(db_path: str, segments: int) -> dict:
    """In the child: write `segments` segments through save_transcript; returns timings."""
    from db.runs import checkpoint, open_database, start_run
    from db.store import RunContext
    from sync.transcripts.captions import TranscriptSegment, watch_url_at
    from sync.transcripts.save import TranscriptLoader

    rng = random.Random(20261127)
    pool, japanese = text_pool(rng), japanese_pool(rng)
    db = open_database(db_path)
    talk_videos = [r[0] for r in db.execute("select video_id from talks where video_id is not null order by code")]
    videos = -(-segments // SEGMENTS_PER_VIDEO)
    ids = talk_videos[:videos] + [f"bench{n:06d}" for n in range(max(0, videos - len(talk_videos)))]
    run_id = start_run(db, "captions", source="transcripts")
    run = RunContext(run_id, dt.datetime.now(dt.timezone.utc).isoformat())
    timed = cpu = 0.0
    left = segments
    loader = TranscriptLoader(db, run)  # as `talks transcripts import` writes many videos
    for number, video_id in enumerate(ids):
        speaks = japanese if number % JAPANESE_EVERY == JAPANESE_EVERY - 1 else pool
        count = min(SEGMENTS_PER_VIDEO, left)
        left -= count
        batch = []
        start = 0.0
        for _ in range(count):
            text, times = rng.choice(speaks)
            length = json.loads(times)[-1] / 1000 + 0.5
            batch.append(TranscriptSegment(video_id, round(start, 3), round(start + length, 3), text,
                                           watch_url_at(video_id, start), times))
            start += length + rng.uniform(0, 2)
        fields = {"state": "automatic", "language": "en", "track": "en-orig", "format": "json3", "source": "import"}
        began, began_cpu = time.perf_counter(), time.process_time()
        loader.save(video_id, batch, fields)
        timed += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    began, began_cpu = time.perf_counter(), time.process_time()
    loader.commit()
    checkpoint(db)
    timed += time.perf_counter() - began
    cpu += time.process_time() - began_cpu
    stored = db.execute("select count(*) from transcript_segments where removed_at is null").fetchone()[0]
    db.close()
    return {"seconds": timed, "cpu_seconds": cpu, "segments": stored, "videos": len(ids)}


@dataclass(frozen=True)
class Search:
    """One search the site offers: the page a visitor gets, with Datasette's defaults."""

    what: str  # as the table names it
    path: Callable[[str], str]  # the term -> the request path
    empty: Callable[[bytes], bool]  # the answer -> it found nothing


def _no_rows(body: bytes) -> bool:
    return b'<table class="rows-and-columns">' not in body


# Every search the site offers, as HTML pages (what a visitor opens): the archive's own page,
# the two canned queries, and table search on the two searchable tables with their defaults
# (row count, metadata facets, suggested facets, as Datasette's settings leave them).
SITE_SEARCHES = [
    Search("/search?q= (the archive's search page)",
           lambda q: "/search?" + urlencode({"q": q}), lambda body: b'class="no-results"' in body),
    Search("/talks/search_recordings?q= (canned query)",
           lambda q: "/talks/search_recordings?" + urlencode({"q": q}), _no_rows),
    Search("/talks/search_talks?q= (canned query)",
           lambda q: "/talks/search_talks?" + urlencode({"q": q}), _no_rows),
    Search("/talks/transcript_segments?_search= (table search, defaults)",
           lambda q: "/talks/transcript_segments?" + urlencode({"_search": q}), _no_rows),
    Search("/talks/talks?_search= (table search, defaults)",
           lambda q: "/talks/talks?" + urlencode({"_search": q}), _no_rows),
    # a talk page's own search (one video's 500 segments among the million)
    Search("/talk/S03E01?q= (search inside a talk)",
           lambda q: "/talk/S03E01?" + urlencode({"q": q}), lambda body: b"No results for" in body),
    # Japanese typed without spaces (character pairs): one video in JAPANESE_EVERY speaks it
    Search("/search?q=<CJK> (the archive's search page, Japanese typed without spaces)",
           lambda q: "/search?" + urlencode({"q": CJK_QUERIES[len(q) % len(CJK_QUERIES)]}),
           lambda body: b'class="no-results"' in body),
]
CJK_QUERIES = ["日本語", "先生", "スピーチ", "皆さん", "思います", "本当に", "大変"]  # words of those captions


def search_latencies(port: int, terms: list[str], search: Search = SITE_SEARCHES[1]) -> tuple[list[float], int]:
    from tests.bench import timed_gets

    out, empty = [], 0
    for seconds, body in timed_gets(port, [search.path(q) for q in terms], timeout=60):
        out.append(seconds)
        empty += search.empty(body)
    return out, empty


def server_cpu_seconds(port: int) -> Optional[float]:
    """CPU time (user + system) of the processes serving `port` (`talks serve` and any Datasette child).

    A figure the machine's load does not inflate, unlike wall-clock latency.
    """
    tick, total, found = os.sysconf("SC_CLK_TCK"), 0.0, False
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"serve" in argv and str(port).encode() in argv:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
                found = True
        except (OSError, ValueError, IndexError):
            continue
    return total if found else None


def bench_transcripts(work: Path, snapshot_db: Path, segments: int = SEGMENTS) -> list:
    from tests.bench import Line, fmt_s, run_child

    db = work / "transcripts" / "talks.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(snapshot_db, db)
    child = run_child([sys.executable, "-m", "tests.bench_transcripts", "--child-load", str(db),
                       "--segments", str(segments)], timeout=3600)
    if child.returncode != 0:
        raise SystemExit(f"loading segments failed:\n{child.stderr}")
    loaded = json.loads(child.stdout)
    size_mb = db.stat().st_size / 1e6
    return [Line(
        f"(t) load {loaded['segments']:,} transcript segments ({loaded['videos']} videos) through TranscriptLoader"
        " (as `talks transcripts import`), full-text indexed",
        f"{fmt_s(loaded['seconds'])} writing ({fmt_s(loaded['cpu_seconds'])} CPU; "
        f"{loaded['segments'] / loaded['seconds']:,.0f} segments/s), "
        f"{fmt_s(child.wall)} with text generation, peak RSS {child.rss_mb:.0f} MB, file {size_mb:,.0f} MB",
        f"< {TARGET_LOAD_S:.0f} s",
        loaded["seconds"] < TARGET_LOAD_S,
    )] + bench_search(db)


def bench_search(db: Path, searches: Optional[list[str]] = None) -> list:
    """p50/p95 of SEARCHES queries of each site search against a loaded database (one server)."""
    from tests.bench import Line, percentile
    from tests.datasette_process import serving

    con = sqlite3.connect(db)
    try:
        segments = con.execute("select count(*) from transcript_segments where removed_at is null").fetchone()[0]
    finally:
        con.close()
    terms = queries(random.Random(7), SEARCHES + 20)
    chosen = [s for s in SITE_SEARCHES if not searches or any(word in s.what for word in searches)]
    lines = []
    with tempfile.TemporaryDirectory() as tmp, serving(db, Path(tmp) / "datasette.log", timeout=120) as url:
        port = int(url.rsplit(":", 1)[1])
        for search in chosen:
            search_latencies(port, terms[SEARCHES:], search)  # warm up
            cpu_before, load_before = server_cpu_seconds(port), os.getloadavg()[0]
            seconds, empty = search_latencies(port, terms[:SEARCHES], search)
            cpu_after, load_after = server_cpu_seconds(port), os.getloadavg()[0]
            ms = [s * 1000 for s in seconds]
            p95 = percentile(ms, 95)
            cpu = ("" if cpu_before is None or cpu_after is None
                   else f"; server CPU {(cpu_after - cpu_before) * 1000 / SEARCHES:.1f} ms a query on average")
            lines.append(Line(
                f"(t) `talks serve`, {SEARCHES} sequential GET {search.what}, <field word or pair>, "
                f"at {segments:,} segments",
                f"p50 {percentile(ms, 50):.1f} ms, p95 {p95:.1f} ms, max {max(ms):.1f} ms; {empty} of {SEARCHES} "
                f"found nothing{cpu}; load average {load_before:.1f}-{load_after:.1f}",
                f"p95 < {TARGET_SEARCH_P95_MS:.0f} ms",
                p95 < TARGET_SEARCH_P95_MS,
            ))
            print(f"| {lines[-1].what} | {lines[-1].result} | {lines[-1].verdict} |", file=sys.stderr, flush=True)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_transcripts", description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=SEGMENTS)
    parser.add_argument("--search-only", metavar="DB", help="only the search latencies, on a database loaded before")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="with --search-only: only the searches whose line contains TEXT (repeatable)")
    parser.add_argument("--child-load", metavar="DB", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child_load:
        print(json.dumps(load(options.child_load, options.segments)))
        return 0
    from tests.bench import table

    if options.search_only:
        lines = bench_search(Path(options.search_only), options.only)
        print(table(lines))
        return 1 if any(line.ok is False for line in lines) else 0

    with tempfile.TemporaryDirectory(prefix="talks-bench-t-") as tmp:
        work = Path(tmp)
        snapshot = work / "snapshot" / "talks.db"
        snapshot.parent.mkdir()
        from tests.bench import talks_sync

        talks_sync(snapshot, "--snapshot")
        lines = bench_transcripts(work, snapshot, options.segments)
    print(table(lines))
    return 1 if any(line.ok is False for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
