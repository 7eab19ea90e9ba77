-- Gear documents (stored files: invoices, manuals, photos) and repair records; both go
-- with their gear item. A document's stored object is deleted after the commit that
-- removed its row (through storage_garbage, 0600_cloud.sql).
CREATE TABLE gear_documents (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    gear_id     uuid NOT NULL REFERENCES gear (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('invoice', 'manual', 'warranty', 'photo', 'receipt', 'other')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    mime_type   text NOT NULL,
    size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
    sha256      text NOT NULL,
    storage_key text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gear_documents_gear ON gear_documents (gear_id, created_at DESC, id DESC);

CREATE TABLE gear_repairs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    gear_id     uuid NOT NULL REFERENCES gear (id) ON DELETE CASCADE,
    repair_date date NOT NULL,
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
    cost_cents  bigint CHECK (cost_cents IS NULL OR cost_cents >= 0),
    currency    text CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
    provider    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gear_repairs_gear ON gear_repairs (gear_id, repair_date DESC, created_at DESC, id DESC);
