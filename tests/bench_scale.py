"""Scale benchmarks for `make bench` (tests/bench.py calls them): matching at 1k, 5k
and 10k talks x videos. Synthetic and deterministic: the same inputs every run."""
from __future__ import annotations

import random
import time

from sync.match import match_recordings
from sync.records import Person, TalkRecord, VideoRecord

MATCH_SIZES = (1_000, 5_000, 10_000)
TARGET_MATCH_10K_S = 5.0

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
        start = time.perf_counter()
        matches = match_recordings(talks, videos, playlist)
        out.append((n, time.perf_counter() - start, len(matches)))
    return out


if __name__ == "__main__":
    for n, seconds, matched in bench_match_sizes():
        print(f"{n} x {n}: {seconds:.2f} s, {matched} matched")
