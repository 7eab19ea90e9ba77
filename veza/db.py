"""The PostgreSQL pool and the migration runner.

Migrations are plain SQL files in `veza/migrations/`, named `NNNN_what.sql`, applied in
order, each in its own transaction, under an advisory lock so that several nodes starting
together apply each exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import asyncpg

from veza.config import ConfigError

log = logging.getLogger("veza.db")

_MIGRATION_LOCK = 0x7665_7A61  # "veza"


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("veza") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text()) for name in names]


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations; returns the versions applied now."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            log.info("applied migration %s", version)
            applied_now.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool `reset`: nothing to send. asyncpg's default resets every released connection with
    a query (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`), a second round
    trip for every request and every chat batch. Veza keeps no session state on pooled
    connections: settings are `SET LOCAL`/transaction-scoped, advisory locks `_xact_`
    (migrations unlock theirs), no LISTEN, no cursor outlives its transaction. asyncpg still
    rolls back a transaction left open before this is called."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns come and go as Python objects.
    import json

    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Database:
    """A thin owner of the asyncpg pool. Stores take a connection; callers own transactions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 2, max_size: int = 20) -> Database:
        """Raises ConfigError naming DATABASE_URL (never echoing it: it may hold a password)."""
        try:
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection,
                                             reset=_keep_session, command_timeout=60, timeout=15)
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise ConfigError(f"DATABASE_URL: cannot connect to PostgreSQL ({type(exc).__name__}: {exc})") from None
        return cls(pool)

    def connection(self) -> Any:
        """`async with db.connection() as conn`: the pool's own acquire context (no generator
        wrapped around it: this is on the path of nearly every request)."""
        return self.pool.acquire()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def close(self) -> None:
        await self.pool.close()
