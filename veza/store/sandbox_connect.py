"""The sandbox Connect's own books (development only): its accounts and its ledger of
transfers and reversals, each written once per idempotency key, as Stripe would."""

from __future__ import annotations

from typing import Any

import asyncpg

_ACCOUNT = "account_id, email, charges_enabled, payouts_enabled, details_submitted"
_ENTRY = "id, kind, account_id, amount_cents, currency, transfer_group, transfer_id, metadata, idempotency_key"


def _entry(row: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(row) if row else None


async def create_account(conn: asyncpg.Connection, account_id: str, email: str, key: str) -> dict[str, Any]:
    """The account made for `key`: this one, or the one an earlier call with the key made."""
    await conn.execute("INSERT INTO sandbox_connect_accounts (account_id, email, idempotency_key)"
                       " VALUES ($1, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING", account_id, email, key)
    return dict(await conn.fetchrow(f"SELECT {_ACCOUNT} FROM sandbox_connect_accounts WHERE idempotency_key = $1",
                                    key))


async def get_account(conn: asyncpg.Connection, account_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_ACCOUNT} FROM sandbox_connect_accounts WHERE account_id = $1", account_id)
    return dict(row) if row else None


async def enable_account(conn: asyncpg.Connection, account_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "UPDATE sandbox_connect_accounts SET charges_enabled = true, payouts_enabled = true, details_submitted = true"
        f" WHERE account_id = $1 RETURNING {_ACCOUNT}", account_id)
    return dict(row) if row else None


async def insert_entry(conn: asyncpg.Connection, *, entry_id: str, kind: str, account_id: str, amount_cents: int,
                       currency: str, transfer_group: str | None, transfer_id: str | None, metadata: dict[str, str],
                       key: str) -> dict[str, Any]:
    """The entry made for `key`: this one, or the one an earlier call with the key made."""
    await conn.execute(
        "INSERT INTO sandbox_connect_ledger (id, kind, account_id, amount_cents, currency, transfer_group,"
        " transfer_id, metadata, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (idempotency_key) DO NOTHING",
        entry_id, kind, account_id, amount_cents, currency, transfer_group, transfer_id, metadata, key)
    entry = _entry(await conn.fetchrow(f"SELECT {_ENTRY} FROM sandbox_connect_ledger WHERE idempotency_key = $1", key))
    assert entry is not None
    return entry


async def entry_by_key(conn: asyncpg.Connection, key: str) -> dict[str, Any] | None:
    return _entry(await conn.fetchrow(f"SELECT {_ENTRY} FROM sandbox_connect_ledger WHERE idempotency_key = $1", key))


async def get_entry(conn: asyncpg.Connection, entry_id: str) -> dict[str, Any] | None:
    return _entry(await conn.fetchrow(f"SELECT {_ENTRY} FROM sandbox_connect_ledger WHERE id = $1", entry_id))


async def reversed_amount(conn: asyncpg.Connection, transfer_id: str) -> int:
    return await conn.fetchval("SELECT coalesce(sum(amount_cents), 0)::bigint FROM sandbox_connect_ledger"
                               " WHERE kind = 'reversal' AND transfer_id = $1", transfer_id)


async def find(conn: asyncpg.Connection, *, kind: str, metadata_transfer_id: str, account_id: str | None = None,
               transfer_group: str | None = None, of_transfer: str | None = None) -> dict[str, Any] | None:
    return _entry(await conn.fetchrow(
        f"SELECT {_ENTRY} FROM sandbox_connect_ledger WHERE kind = $1 AND metadata->>'transfer_id' = $2"
        " AND ($3::text IS NULL OR account_id = $3) AND ($4::text IS NULL OR transfer_group = $4)"
        " AND ($5::text IS NULL OR transfer_id = $5) ORDER BY created_at LIMIT 1",
        kind, metadata_transfer_id, account_id, transfer_group, of_transfer))


async def balance(conn: asyncpg.Connection, account_id: str, currency: str) -> int:
    """What the account holds in `currency`: its transfers less their reversals."""
    return await conn.fetchval(
        "SELECT coalesce(sum(CASE WHEN kind = 'transfer' THEN amount_cents ELSE -amount_cents END), 0)::bigint"
        " FROM sandbox_connect_ledger WHERE account_id = $1 AND currency = $2", account_id, currency)
