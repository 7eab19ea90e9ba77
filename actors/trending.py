"""Trending scores with exponential time decay, cheap to update and to read.

Every like or comment adds `weight * 2**((t - t0) / half_life)` to its post's score: all
posts share the same decay factor at any instant, so ranking by the stored number ranks by
the decayed score, and nothing needs recomputing as time passes. Reads divide by
`2**((now - t0) / half_life)` to report the current value. When exponents grow large the
base time moves forward and every score is rescaled once.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable

# What each kind of engagement is worth; a post counts a little on its own so new posts show.
WEIGHTS = {"post": 0.5, "like": 1.0, "comment": 2.0}
_REBASE_EXPONENT = 400.0


class TrendingScores:
    def __init__(self, now: float, half_life: float = 6 * 3600.0, max_items: int = 10_000) -> None:
        self.t0 = now
        self.half_life = half_life
        self.max_items = max_items
        self._scores: dict[Hashable, float] = {}
        self._top_cache: list[tuple[Hashable, float]] | None = None

    def __len__(self) -> int:
        return len(self._scores)

    def add(self, item: Hashable, kind: str, at: float, *, count: float = 1.0) -> None:
        """Record `count` events of `kind` (negative to undo) that happened at time `at`."""
        exponent = (at - self.t0) / self.half_life
        if exponent > _REBASE_EXPONENT:
            self._rebase(at)
            exponent = 0.0
        value = self._scores.get(item, 0.0) + WEIGHTS[kind] * count * math.pow(2.0, exponent)
        if value <= 0 and item in self._scores:
            del self._scores[item]
        elif value > 0:
            self._scores[item] = value
        self._top_cache = None
        if len(self._scores) > self.max_items * 1.1:
            self._prune()

    def remove(self, item: Hashable) -> None:
        if self._scores.pop(item, None) is not None:
            self._top_cache = None

    def top(self, limit: int, now: float) -> list[tuple[Hashable, float]]:
        """The `limit` best items with their decayed score as of `now`."""
        if self._top_cache is None or len(self._top_cache) < min(limit, len(self._scores)):
            self._top_cache = heapq.nlargest(max(limit, 100), self._scores.items(), key=lambda kv: kv[1])
        scale = math.pow(2.0, -(now - self.t0) / self.half_life)
        return [(item, score * scale) for item, score in self._top_cache[:limit]]

    def score(self, item: Hashable, now: float) -> float:
        return self._scores.get(item, 0.0) * math.pow(2.0, -(now - self.t0) / self.half_life)

    def _rebase(self, now: float) -> None:
        factor = math.pow(2.0, -(now - self.t0) / self.half_life)
        self._scores = {k: v * factor for k, v in self._scores.items() if v * factor > 1e-12}
        self.t0 = now

    def _prune(self) -> None:
        keep = heapq.nlargest(self.max_items, self._scores.items(), key=lambda kv: kv[1])
        self._scores = dict(keep)
