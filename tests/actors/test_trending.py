"""Decayed trending scores: engagement counts, time decays, ranking stays consistent."""

from __future__ import annotations

import pytest

from actors.trending import TrendingScores

HOUR = 3600.0


def test_more_engagement_ranks_higher() -> None:
    scores = TrendingScores(now=0.0, half_life=HOUR)
    scores.add("a", "post", 0.0)
    scores.add("b", "post", 0.0)
    scores.add("b", "like", 10.0)
    scores.add("a", "comment", 10.0)  # a comment outweighs a like
    assert [item for item, _ in scores.top(2, now=20.0)] == ["a", "b"]


def test_scores_halve_every_half_life_and_recent_beats_old() -> None:
    scores = TrendingScores(now=0.0, half_life=HOUR)
    scores.add("old", "like", 0.0, count=4)
    assert scores.score("old", HOUR) == pytest.approx(2.0)
    assert scores.score("old", 2 * HOUR) == pytest.approx(1.0)
    scores.add("new", "like", 2 * HOUR, count=3)
    assert [item for item, _ in scores.top(2, now=2 * HOUR)] == ["new", "old"]


def test_unlike_removes_and_rebase_keeps_order() -> None:
    scores = TrendingScores(now=0.0, half_life=1.0)
    scores.add("a", "like", 0.0)
    scores.add("a", "like", 0.0, count=-1)
    assert len(scores) == 0
    scores.add("x", "like", 0.0, count=5)
    scores.add("y", "like", 0.0, count=1)
    # 500 half-lives later the exponent would overflow without a rebase.
    scores.add("z", "like", 500.0, count=1)
    ranked = [item for item, _ in scores.top(3, now=500.0)]
    assert ranked[0] == "z"
    assert scores.score("z", 500.0) == pytest.approx(1.0)


def test_prune_keeps_the_best() -> None:
    scores = TrendingScores(now=0.0, max_items=10)
    for i in range(50):
        scores.add(i, "like", 0.0, count=i + 1)
    assert len(scores) <= 11
    assert scores.top(1, now=0.0)[0][0] == 49
