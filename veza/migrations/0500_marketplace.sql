-- The marketplace and seller payouts: products, orders and their payments, purchases,
-- reviews, invoices, refunds, and one transfer per seller of a paid order.
-- Money is integer cents plus an ISO 4217 currency; every state column moves forward only
-- (`UPDATE ... WHERE status = <expected>`), and every outside event is applied once.

-- Notices of the new domains (the notifications table is the tracks domain's, 0302).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('track_like', 'track_comment', 'post_like', 'post_comment', 'follow', 'moderation_warning',
                    'sale', 'order_updated', 'refund_updated', 'transfer_failed',
                    'data_export_ready', 'data_export_failed'));

CREATE TABLE products (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id       uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    price_cents     bigint NOT NULL CHECK (price_cents BETWEEN 1 AND 100000000),
    currency        char(3) NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    kind            text NOT NULL CHECK (kind IN ('track', 'album', 'sample_pack', 'merch', 'ticket')),
    track_id        uuid REFERENCES tracks (id) ON DELETE SET NULL,
    file_key        text,                       -- what a purchase downloads when not a track
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'draft', 'archived')),
    -- Stock: NULL = unlimited. reserved counts units held by pending orders, sold those paid;
    -- the one conditional UPDATE that reserves keeps reserved + sold <= stock.
    stock           integer CHECK (stock IS NULL OR stock >= 0),
    reserved        integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    sold            integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
    rating_sum      integer NOT NULL DEFAULT 0,
    review_count    integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    search_vector   tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', description), 'C')) STORED,
    CHECK (stock IS NULL OR reserved + sold <= stock)
);
CREATE INDEX products_active_idx ON products (created_at DESC, id DESC) WHERE status = 'active';
CREATE INDEX products_seller_idx ON products (seller_id, created_at DESC);
CREATE INDEX products_search_idx ON products USING gin (search_vector);

CREATE TABLE orders (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    buyer_id         uuid REFERENCES users (id) ON DELETE SET NULL,  -- kept for accounting after erasure
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'paid', 'failed', 'expired', 'refund_pending', 'refunded')),
    currency         char(3) NOT NULL,
    subtotal_cents   bigint NOT NULL CHECK (subtotal_cents >= 0),
    total_cents      bigint NOT NULL CHECK (total_cents >= 0),
    payment_method   text NOT NULL DEFAULT 'card',
    idempotency_key  text,
    request_hash     text,                       -- the body the idempotency key was first used with
    anonymous        boolean NOT NULL DEFAULT false,  -- Sec-GPC / do-not-sell: no name in live sale events
    flagged_reason   text,                       -- e.g. an amount mismatch reported by the provider
    live_stream_id   uuid,                       -- set when bought from a live stream's pinned products
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    paid_at          timestamptz,
    refunded_at      timestamptz
);
CREATE UNIQUE INDEX orders_idempotency_idx ON orders (buyer_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_buyer_idx ON orders (buyer_id, created_at DESC, id DESC);
CREATE INDEX orders_pending_expiry_idx ON orders (expires_at) WHERE status = 'pending';

CREATE TABLE order_items (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    seller_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    title            text NOT NULL,              -- as priced at checkout
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
    quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    UNIQUE (order_id, product_id)
);
CREATE INDEX order_items_product_idx ON order_items (product_id);
CREATE INDEX order_items_seller_idx ON order_items (seller_id);

-- One payment per order at the provider (Hyperswitch or the sandbox).
CREATE TABLE payments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id         uuid NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    provider         text NOT NULL CHECK (provider IN ('hyperswitch', 'sandbox')),
    payment_id       text NOT NULL,              -- the provider's id
    client_secret    text,
    status           text NOT NULL,              -- the provider's last known status
    amount_cents     bigint NOT NULL,
    currency         char(3) NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, payment_id)
);

-- Every provider webhook event, stored first: an event_id takes effect at most once.
CREATE TABLE webhook_events (
    provider         text NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    payload          jsonb NOT NULL,
    outcome          text NOT NULL DEFAULT 'applied', -- applied, ignored, flagged
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- What a buyer owns: one row per paid order line; revoked on refund.
CREATE TABLE purchases (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    buyer_id         uuid REFERENCES users (id) ON DELETE CASCADE,
    order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    order_item_id    uuid NOT NULL UNIQUE REFERENCES order_items (id) ON DELETE CASCADE,
    product_id       uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);
CREATE INDEX purchases_buyer_idx ON purchases (buyer_id, created_at DESC) WHERE revoked_at IS NULL;

CREATE TABLE reviews (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id       uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    buyer_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    rating           smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment          text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX reviews_one_per_buyer_idx ON reviews (product_id, buyer_id) WHERE buyer_id IS NOT NULL;
CREATE INDEX reviews_product_idx ON reviews (product_id, created_at DESC, id DESC);

-- Invoice numbers are sequential per year and fixed at first issue.
CREATE TABLE invoice_counters (
    year             integer PRIMARY KEY,
    last_number      integer NOT NULL
);
CREATE TABLE invoices (
    order_id         uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    number           text NOT NULL UNIQUE,       -- INV-2026-000001
    issued_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    requested_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    details          text NOT NULL DEFAULT '' CHECK (length(details) <= 2000),
    amount_cents     bigint NOT NULL CHECK (amount_cents >= 0),
    currency         char(3) NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_refund_id text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- One refund at a time: at most one pending or succeeded refund per order.
CREATE UNIQUE INDEX refunds_one_live_idx ON refunds (order_id) WHERE status IN ('pending', 'succeeded');

-- Sellers' Stripe Connect accounts (or the sandbox Connect's).
CREATE TABLE seller_accounts (
    user_id            uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    provider           text NOT NULL CHECK (provider IN ('stripe', 'sandbox')),
    account_id         text NOT NULL UNIQUE,
    charges_enabled    boolean NOT NULL DEFAULT false,
    payouts_enabled    boolean NOT NULL DEFAULT false,
    details_submitted  boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- One transfer per seller of a paid order, created in the same transaction that marks it
-- paid: amount_cents + platform_fee_cents = the seller's lines. The payout worker moves
-- pending/failed -> processing -> completed | failed; a refund moves pending/failed ->
-- canceled and completed -> reversal_pending -> reversed.
CREATE TABLE transfers (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    order_id           uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    amount_cents       bigint NOT NULL CHECK (amount_cents >= 0),
    platform_fee_cents bigint NOT NULL CHECK (platform_fee_cents >= 0),
    currency           char(3) NOT NULL,
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'canceled',
                                         'reversal_pending', 'reversed')),
    retry_count        integer NOT NULL DEFAULT 0,
    next_retry_at      timestamptz,
    idempotency_key    text,                     -- the current attempt's key at the provider
    provider_transfer_id text,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, seller_id)
);
CREATE INDEX transfers_due_idx ON transfers (next_retry_at NULLS FIRST)
    WHERE status IN ('pending', 'failed', 'reversal_pending');
CREATE INDEX transfers_seller_idx ON transfers (seller_id, created_at DESC, id DESC);
CREATE INDEX transfers_created_idx ON transfers (created_at DESC, id DESC);

-- Every attempt of a transfer (or its reversal): who, when, with which key, what came back.
CREATE TABLE transfer_attempts (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    transfer_id        uuid NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
    kind               text NOT NULL DEFAULT 'transfer' CHECK (kind IN ('transfer', 'reversal')),
    idempotency_key    text NOT NULL,
    triggered_by       uuid REFERENCES users (id) ON DELETE SET NULL,  -- an admin's manual retry
    outcome            text NOT NULL CHECK (outcome IN ('started', 'succeeded', 'failed_transient',
                                                        'failed_permanent', 'unknown')),
    error              text,
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz
);
CREATE INDEX transfer_attempts_transfer_idx ON transfer_attempts (transfer_id, started_at);

-- Products pinned to a live stream for live shopping.
CREATE TABLE live_stream_products (
    stream_id          uuid NOT NULL REFERENCES live_streams (id) ON DELETE CASCADE,
    product_id         uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position           integer NOT NULL DEFAULT 0,
    PRIMARY KEY (stream_id, product_id)
);
