"""Matching stays linear: blocking by code and speaker name decides which (talk, video)
pairs are compared at all, so the fuzzy title comparisons grow with the videos, not with
talks x videos. Counted, not timed."""
from __future__ import annotations

import sync.match
from sync.match import match_recordings
from tests.bench_scale import synthetic_match_input


def count_fuzzy_calls(monkeypatch, n: int) -> tuple[int, list]:
    calls = 0
    real = sync.match.fuzz

    class Counting:
        @staticmethod
        def ratio(*args, **kwargs):
            nonlocal calls
            calls += 1
            return real.ratio(*args, **kwargs)

        @staticmethod
        def partial_ratio(*args, **kwargs):
            nonlocal calls
            calls += 1
            return real.partial_ratio(*args, **kwargs)

    monkeypatch.setattr(sync.match, "fuzz", Counting)
    talks, videos, playlist = synthetic_match_input(n)
    return calls, match_recordings(talks, videos, playlist)


def test_each_synthetic_talk_gets_its_own_video(monkeypatch):
    talks, videos, playlist = synthetic_match_input(400)
    matches = match_recordings(talks, videos, playlist)
    assert all(m.video_id == f"v{int(m.talk_key[1:]):07d}" for m in matches)
    # every talk finds it, but for the private ones (every 97th) a page link (every 10th)
    # or the code in its title (every 4th) must tie it to the talk
    untied = [i for i in range(0, 400, 97) if i % 10 and i % 4]
    assert untied and len(matches) == 400 - len(untied)


def test_fuzzy_comparisons_grow_with_videos_not_with_pairs(monkeypatch):
    small, _ = count_fuzzy_calls(monkeypatch, 200)
    large, matches = count_fuzzy_calls(monkeypatch, 800)
    assert len(matches) > 780
    assert small <= 200 and large <= 800  # at most one comparison per video here, never 800 x 800
    assert large <= 4 * small + 10
