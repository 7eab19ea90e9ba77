"""The account itself: profile, sessions (devices, addresses, times), API keys (prefix and
name), privacy settings, and the audit trail of the user's own requests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.errors import NotFound
from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


@exporter("account", covers=("sessions.user_id", "api_keys.user_id", "audit_log.user_id"))
async def account(archive: Archive, conn: Any, user_id: UUID) -> None:
    profile = await conn.fetchrow(
        "SELECT id, username, email, role, bio, avatar_url, is_banned, created_at, updated_at"
        " FROM users WHERE id = $1", user_id)
    if profile is None:
        raise NotFound("User not found")
    await archive.document("profile.json", dict(profile))
    await archive.rows("privacy.jsonl", stream(
        conn, "SELECT do_not_sell, do_not_sell_updated_at FROM users WHERE id = $1", user_id))
    # Never the refresh token's hash (current or previous).
    await archive.rows("sessions.jsonl", stream(
        conn, "SELECT id, user_agent AS device, ip_address, created_at, last_used_at, expires_at, revoked_at,"
              " revoked_reason FROM sessions WHERE user_id = $1 ORDER BY created_at, id", user_id))
    # The prefix shown at creation and the name; never the key's hash.
    await archive.rows("api_keys.jsonl", stream(
        conn, "SELECT id, name, prefix, scopes, created_at, last_used_at FROM api_keys"
              " WHERE user_id = $1 ORDER BY created_at, id", user_id))
    await archive.rows("audit.jsonl", stream(
        conn, "SELECT created_at, action, resource, route, status, ip_address, via, request_id FROM audit_log"
              " WHERE user_id = $1 ORDER BY created_at, id", user_id))
