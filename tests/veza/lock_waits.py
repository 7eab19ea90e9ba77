"""Waiting until a PostgreSQL backend waits for a lock: how a test puts two transactions in
a known order without asserting a time."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


async def waits_for_a_lock(conn: asyncpg.Connection, pid: int, task: asyncio.Future[Any]) -> None:
    """Until the backend `pid` waits for a lock, or `task` (what should wait) ended without
    waiting: the test's assertions then fail instead of hanging. No clock asserted."""
    while not task.done() and await conn.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1",
                                                  pid) != "Lock":
        await asyncio.sleep(0.01)


async def someone_waits(conn: asyncpg.Connection, task: asyncio.Future[Any]) -> None:
    """Until a backend of this database waits for a lock (or `task` ended)."""
    while not task.done() and not await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"):
        await asyncio.sleep(0.01)
