-- Gear inventory: a user's instruments and equipment (documents and repairs come later).
CREATE TABLE gear (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    brand                text,
    model                text,
    serial_number        text,
    category             text,
    purchase_date        date,
    purchase_price_cents bigint CHECK (purchase_price_cents IS NULL OR purchase_price_cents >= 0),
    currency             text CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
    condition            text CHECK (condition IS NULL OR condition IN ('new', 'good', 'fair', 'poor', 'broken')),
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'in_repair', 'sold', 'archived')),
    warranty_expires     date,
    notes                text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gear_owner_created ON gear (owner_id, created_at DESC, id DESC);
