"""Account erasure (issue 18): SQL only, every statement on the caller's transaction.

Run in this order by `veza.domain.erasure.erase`, then `delete_user`, whose foreign keys
finish the job: CASCADE deletes what is the user's alone, SET NULL detaches what others
rely on (their messages, comments, reviews, orders, order lines, transfers).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound


async def lock_user(conn: asyncpg.Connection, user_id: UUID) -> dict[str, Any]:
    """The account, row-locked until the erasure commits (a second erasure waits, then finds none)."""
    row = await conn.fetchrow("SELECT id, username, role, password_hash FROM users WHERE id = $1 FOR UPDATE", user_id)
    if row is None:
        raise NotFound("User not found")
    return dict(row)


async def password_hash(conn: asyncpg.Connection, user_id: UUID) -> str | None:
    return await conn.fetchval("SELECT password_hash FROM users WHERE id = $1", user_id)


async def live_streams(conn: asyncpg.Connection, user_id: UUID) -> list[UUID]:
    return [r["id"] for r in await conn.fetch(
        "SELECT id FROM live_streams WHERE owner_id = $1 AND status = 'live'", user_id)]


async def stored_keys(conn: asyncpg.Connection, user_id: UUID) -> list[str]:
    """Every stored object that goes with the account: track audio, cloud files and their
    versions, gear documents, export archives."""
    return [r["key"] for r in await conn.fetch(
        "SELECT file_key AS key FROM tracks WHERE owner_id = $1"
        " UNION SELECT storage_key FROM cloud_files WHERE owner_id = $1"
        " UNION SELECT v.storage_key FROM cloud_file_versions v JOIN cloud_files f ON f.id = v.file_id"
        "       WHERE f.owner_id = $1"
        " UNION SELECT d.storage_key FROM gear_documents d JOIN gear g ON g.id = d.gear_id WHERE g.owner_id = $1"
        " UNION SELECT storage_key FROM data_exports WHERE user_id = $1 AND storage_key IS NOT NULL", user_id)]


async def recent_posts(conn: asyncpg.Connection, user_id: UUID, since_seconds: float, limit: int) -> list[UUID]:
    return [r["id"] for r in await conn.fetch(
        "SELECT id FROM posts WHERE author_id = $1 AND created_at > now() - make_interval(secs => $2)"
        " ORDER BY created_at DESC LIMIT $3", user_id, since_seconds, limit)]


async def release_counters(conn: asyncpg.Connection, user_id: UUID) -> None:
    """Take the user's likes out of other people's counters, and the tags of their tracks
    and posts out of the tag vocabulary (rows locked in name order, as `tags.adjust` does)."""
    await conn.execute("UPDATE tracks t SET like_count = t.like_count - 1 FROM track_likes l"
                       " WHERE l.track_id = t.id AND l.user_id = $1 AND t.owner_id <> $1", user_id)
    await conn.execute("UPDATE posts p SET like_count = p.like_count - 1 FROM post_likes l"
                       " WHERE l.post_id = p.id AND l.user_id = $1 AND p.author_id <> $1", user_id)
    used = await conn.fetch(
        "SELECT name, count(*)::int AS n FROM ("
        "  SELECT DISTINCT id, unnest(tags) AS name FROM tracks WHERE owner_id = $1"
        "  UNION ALL SELECT DISTINCT id, unnest(tags) FROM posts WHERE author_id = $1) t"
        " GROUP BY name ORDER BY name", user_id)
    if not used:
        return
    names, counts = [r["name"] for r in used], [r["n"] for r in used]
    await conn.execute("SELECT 1 FROM tags WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE", names)
    await conn.execute(
        "UPDATE tags SET use_count = greatest(tags.use_count - u.n, 0)"
        " FROM unnest($1::text[], $2::int[]) AS u(name, n) WHERE tags.name = u.name", names, counts)
    await conn.execute("DELETE FROM tags WHERE name = ANY($1::text[]) AND use_count <= 0", names)


async def delete_lone_rooms(conn: asyncpg.Connection, user_id: UUID) -> list[UUID]:
    """Rooms the user is in or owns where nobody else is a member or ever wrote: theirs
    alone, deleted (with their messages)."""
    return [r["id"] for r in await conn.fetch(
        "DELETE FROM conversations c WHERE c.id IN (SELECT conversation_id FROM conversation_members WHERE user_id = $1"
        "                                         UNION SELECT id FROM conversations WHERE owner_id = $1)"
        " AND NOT EXISTS (SELECT 1 FROM conversation_members m WHERE m.conversation_id = c.id AND m.user_id <> $1)"
        " AND NOT EXISTS (SELECT 1 FROM chat_messages x WHERE x.room_id = c.id AND x.author_id IS DISTINCT FROM $1)"
        " RETURNING c.id", user_id)]


async def detach_messages(conn: asyncpg.Connection, user_id: UUID) -> list[UUID]:
    """The user's messages in shared rooms lose their text (the author goes with the user
    row: "deleted user"); direct rooms stop naming them. Returns the rooms touched."""
    await conn.execute(
        "UPDATE conversations SET direct_key = 'erased:' || id, updated_at = now() WHERE type = 'direct'"
        " AND id IN (SELECT conversation_id FROM conversation_members WHERE user_id = $1)"
        " AND $1::text IN (split_part(direct_key, ':', 1), split_part(direct_key, ':', 2))", user_id)
    return [r["room_id"] for r in await conn.fetch(
        "WITH gone AS (UPDATE chat_messages SET content = '', client_id = NULL, edited_at = NULL,"
        "              deleted_at = coalesce(deleted_at, now()) WHERE author_id = $1 RETURNING room_id)"
        " SELECT DISTINCT room_id FROM gone", user_id)]


async def detach_comments(conn: asyncpg.Connection, user_id: UUID) -> None:
    """Comments stay in their threads as "deleted user", without their text."""
    await conn.execute("UPDATE track_comments SET author_id = NULL, content = '' WHERE author_id = $1", user_id)
    await conn.execute("UPDATE post_comments SET author_id = NULL, content = '' WHERE author_id = $1", user_id)


async def detach_marketplace(conn: asyncpg.Connection, user_id: UUID) -> None:
    """Orders, their lines, invoices, refunds and transfers stay for the accounts, without
    what the buyer wrote or chose; reviews keep their rating, not their text. Products
    nobody ordered go; the others stay archived, their seller detached."""
    await conn.execute("UPDATE payments SET client_secret = NULL"
                       " WHERE order_id IN (SELECT id FROM orders WHERE buyer_id = $1)", user_id)
    await conn.execute("UPDATE orders SET idempotency_key = NULL, request_hash = NULL WHERE buyer_id = $1", user_id)
    await conn.execute("UPDATE refunds SET details = '' WHERE requested_by = $1", user_id)
    await conn.execute("UPDATE reviews SET comment = '' WHERE buyer_id = $1", user_id)
    await conn.execute("DELETE FROM products p WHERE p.seller_id = $1"
                       " AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.product_id = p.id)", user_id)
    await conn.execute("UPDATE products SET status = 'archived', updated_at = now() WHERE seller_id = $1", user_id)


async def hand_over_payouts(conn: asyncpg.Connection, user_id: UUID) -> int:
    """What the seller is still owed outlives their account (0910): transfers that can be
    paid, or whose last attempt may have been, keep the connected account so the payout
    worker still pays or resolves them. The others (no account able to receive payouts,
    nothing in flight) can never be paid and are canceled now, with the reason; how many."""
    await conn.execute(
        "UPDATE transfers t SET payout_account = a.account_id, updated_at = now() FROM seller_accounts a"
        " WHERE a.user_id = $1 AND t.seller_id = $1 AND t.status IN ('pending', 'processing', 'failed')"
        " AND (a.payouts_enabled OR t.status = 'processing' OR t.idempotency_key IS NOT NULL)", user_id)
    return int((await conn.execute(
        "UPDATE transfers SET status = 'canceled', next_retry_at = NULL, updated_at = now(),"
        " last_error = 'the seller''s account was erased before it could receive payouts'"
        " WHERE seller_id = $1 AND payout_account IS NULL AND status IN ('pending', 'failed')"
        " AND idempotency_key IS NULL", user_id)).split()[-1])


async def delete_reports_about(conn: asyncpg.Connection, user_id: UUID) -> None:
    """Reports whose reported content is the account itself go with it (like its tracks'
    reports, they point at nothing any more; these would name the user)."""
    await conn.execute("DELETE FROM reports WHERE content_type = 'user' AND content_id = $1", user_id)


async def blank_audit_addresses(conn: asyncpg.Connection, user_id: UUID) -> None:
    """The audit trail keeps what was done and when, not from where."""
    await conn.execute("UPDATE audit_log SET ip_address = '' WHERE user_id = $1 AND ip_address <> ''", user_id)


async def delete_user(conn: asyncpg.Connection, user_id: UUID) -> None:
    await conn.execute("DELETE FROM users WHERE id = $1", user_id)
