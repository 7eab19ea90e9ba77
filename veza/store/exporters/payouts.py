"""Seller payouts: the user's Connect account and the transfers paid (or owed) to them.
(The attempts' idempotency keys are the provider's business, not the seller's data.)"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


@exporter("payouts", covers=("seller_accounts.user_id", "transfers.seller_id"))
async def payouts(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("seller_accounts.jsonl", stream(
        conn, "SELECT provider, account_id, charges_enabled, payouts_enabled, details_submitted, created_at,"
              " updated_at, synced_at FROM seller_accounts WHERE user_id = $1", user_id))
    await archive.rows("transfers.jsonl", stream(
        conn, "SELECT id, order_id, amount_cents, platform_fee_cents, currency, status, provider_transfer_id,"
              " provider_reversal_id, created_at, updated_at FROM transfers WHERE seller_id = $1 ORDER BY created_at, id", user_id))
