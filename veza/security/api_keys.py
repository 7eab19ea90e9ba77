"""API keys (DEV1): `X-API-Key: veza_sk_...` authenticates like a Bearer token, with the key's
scopes (what each allows: `veza.security.scopes`).

The raw key is 32 random bytes, shown once; PostgreSQL keeps its SHA-256. `last_used_at`
is written at most once a minute per key (checked in memory and again in SQL), from a
background task, so a busy key does not add a write to every request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
import time
from uuid import UUID

from aiohttp import web

from veza import keys
from veza.http.auth import Principal
from veza.domain.sessions import check_may_sign_in
from veza.http.errors import Unauthorized
from veza.store import api_keys as store

log = logging.getLogger("veza.api_keys")

HEADER = "X-API-Key"
KEY_PREFIX = "veza_sk_"
TOUCH_INTERVAL = 60


def generate() -> tuple[str, str, str]:
    """(raw key, display prefix, hash)."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[: len(KEY_PREFIX) + 8], hash_key(raw)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class KeyUsage:
    """Throttled, write-behind `last_used_at` updates."""

    def __init__(self, db: object) -> None:
        self.db = db
        self._last: dict[UUID, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def used(self, key_id: UUID, last_used_at: dt.datetime | None) -> None:
        now = time.monotonic()
        if now - self._last.get(key_id, -TOUCH_INTERVAL) < TOUCH_INTERVAL:
            return
        self._last[key_id] = now
        fresh = last_used_at is not None and dt.datetime.now(dt.UTC) - last_used_at < dt.timedelta(seconds=TOUCH_INTERVAL)
        if fresh:  # another node wrote it a moment ago
            return
        task = asyncio.create_task(self._touch(key_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _touch(self, key_id: UUID) -> None:
        try:
            await store.touch(self.db.pool, key_id, TOUCH_INTERVAL)  # type: ignore[attr-defined]
        except Exception as exc:
            log.warning("could not record API key use: %r", exc)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def api_key_authenticator(request: web.Request) -> Principal | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.startswith(KEY_PREFIX) or len(raw) > 128:
        raise Unauthorized("Invalid API key")
    row = await store.find_by_hash(request.app[keys.db].pool, hash_key(raw))
    if row is None:
        raise Unauthorized("Invalid API key")
    check_may_sign_in(row["is_banned"])
    request.app[keys.api_key_usage].used(row["id"], row["last_used_at"])
    return Principal(user_id=row["user_id"], role=row["role"], scopes=frozenset(row["scopes"]), via="api_key")
