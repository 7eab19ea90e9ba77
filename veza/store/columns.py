"""Building the column lists of partial writes: only ever names from a fixed allow-list,
with values as bound parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def assignments(changes: Mapping[str, Any], allowed: Sequence[str], first: int) -> tuple[str, list[Any]]:
    """(`a = $first, b = $first+1`, [values]) for the allowed columns present in `changes`;
    ("", []) when none is."""
    names = [name for name in allowed if name in changes]
    return ", ".join(f"{name} = ${first + i}" for i, name in enumerate(names)), [changes[n] for n in names]
