"""The exporters of every domain's data (one module per domain, each registering one
function with `veza.domain.export_registry.exporter`); `exporters()` imports them all.

They run inside the export's REPEATABLE READ transaction and stream rows with server-side
cursors (`stream`), a batch at a time: never a whole table of a large account in memory.
Columns are named one by one: a hash, a token or a stream key is never selected.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

import asyncpg

PREFETCH = 500


def stream(conn: asyncpg.Connection, query: str, *args: Any) -> AsyncIterable[Any]:
    """The rows of `query`, fetched PREFETCH at a time through a cursor (needs a transaction)."""
    return conn.cursor(query, *args, prefetch=PREFETCH)
