"""Share links: a read-only public link to one file, expiring, revocable.

The token carries 256 bits from `secrets` and only its SHA-256 is stored, so the
database alone cannot open a link. Unknown, expired and revoked tokens are one and the
same "not found"; malformed ones never reach SQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any
from uuid import UUID

from veza.domain.errors import Conflict, Invalid, NotFound
from veza.store import cloud_files as files
from veza.store import cloud_shares as store

TOKEN_BYTES = 32  # 256 bits
PERMISSIONS = ("read",)
MIN_HOURS, MAX_HOURS = 1, 720
MAX_ACTIVE_PER_FILE = 50
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43,128}$")

def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()

async def create_share(conn: Any, owner_id: UUID, file_id: UUID, permissions: str,
                       hours: int) -> tuple[dict[str, Any], str]:
    """(the share, its token): the token is shown once and never stored."""
    if permissions not in PERMISSIONS:
        raise Invalid("permissions must be 'read'", details={"permissions": "must be read"})
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise Invalid(f"expires_in_hours must be {MIN_HOURS}..{MAX_HOURS}", details={"expires_in_hours": "out of range"})
    await files.get(conn, owner_id, file_id, lock=True)  # serializes the count below per file
    if await store.count_active(conn, file_id) >= MAX_ACTIVE_PER_FILE:
        raise Conflict(f"A file has at most {MAX_ACTIVE_PER_FILE} live share links; revoke one first",
                       details={"shares": "too many"})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    return await store.create(conn, owner_id, file_id, token_hash(token), permissions, expires_at), token

async def open_share(conn: Any, token: str) -> dict[str, Any]:
    """The live share's file (name, size_bytes, mime_type, storage_key) and its terms."""
    if not _TOKEN.match(token):
        raise NotFound("Share link not found")
    return await store.live(conn, token_hash(token))

async def list_shares(conn: Any, owner_id: UUID, file_id: UUID) -> list[dict[str, Any]]:
    await files.get(conn, owner_id, file_id)
    return await store.of_file(conn, file_id)

async def revoke(conn: Any, owner_id: UUID, share_id: UUID) -> dict[str, Any]:
    return await store.revoke(conn, owner_id, share_id)

def is_active(share: dict[str, Any], now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now(dt.UTC)
    return share["revoked_at"] is None and share["expires_at"] > now
