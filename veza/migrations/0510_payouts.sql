-- Seller payouts (issue 16): what the payout worker needs beside the marketplace's tables
-- (0500: seller_accounts, transfers, transfer_attempts), and the sandbox Connect's own
-- accounts and ledger, which stand in for Stripe when STRIPE_SECRET_KEY is not set.

-- account.updated events may arrive out of order: a snapshot older than the one applied
-- is ignored.
ALTER TABLE seller_accounts ADD COLUMN synced_at timestamptz;

-- transfers.idempotency_key holds the key of an attempt whose outcome is not known yet (in
-- flight, timed out, or its node died): the next attempt looks the transfer up by its
-- transfer_group, then reuses that key. A known outcome clears it, so an attempt after a
-- known failure gets a fresh key (Stripe replays a stored error for a reused one).
-- While an attempt is in flight (`processing`, or `reversal_pending` with a key),
-- next_retry_at is its lease: past it, another worker may take the row over.
ALTER TABLE transfers ADD COLUMN provider_reversal_id text;
CREATE INDEX transfers_in_flight_idx ON transfers (next_retry_at) WHERE status = 'processing';
CREATE INDEX transfers_unknown_canceled_idx ON transfers (next_retry_at)
    WHERE status = 'canceled' AND idempotency_key IS NOT NULL;
CREATE INDEX transfers_order_idx ON transfers (order_id);

-- What Stripe (or the sandbox) answered: the transfer or reversal id of a success.
ALTER TABLE transfer_attempts ADD COLUMN provider_id text;
-- Attempts in the order they were made (several may start within one clock tick).
ALTER TABLE transfer_attempts ADD COLUMN seq bigserial;

-- The sandbox Connect: accounts a person enables on /static/connect-sandbox.html, and a
-- ledger of the transfers and reversals it settled. Development only.
CREATE TABLE sandbox_connect_accounts (
    account_id         text PRIMARY KEY,
    email              text NOT NULL DEFAULT '',
    charges_enabled    boolean NOT NULL DEFAULT false,
    payouts_enabled    boolean NOT NULL DEFAULT false,
    details_submitted  boolean NOT NULL DEFAULT false,
    idempotency_key    text UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_connect_ledger (
    id                 text PRIMARY KEY,            -- tr_sbx_... or trr_sbx_...
    kind               text NOT NULL CHECK (kind IN ('transfer', 'reversal')),
    account_id         text NOT NULL REFERENCES sandbox_connect_accounts (account_id) ON DELETE CASCADE,
    amount_cents       bigint NOT NULL CHECK (amount_cents > 0),
    currency           char(3) NOT NULL,
    transfer_group     text,
    transfer_id        text REFERENCES sandbox_connect_ledger (id),  -- a reversal's transfer
    metadata           jsonb NOT NULL DEFAULT '{}',
    idempotency_key    text NOT NULL UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_connect_ledger_account_idx ON sandbox_connect_ledger (account_id);
CREATE INDEX sandbox_connect_ledger_group_idx ON sandbox_connect_ledger (transfer_group);
