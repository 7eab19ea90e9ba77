-- The sandbox payment provider's payments (development only), in PostgreSQL like the
-- sandbox Connect's books (0510): any node of a cluster can show, confirm, void or refund
-- a payment another node created, and a restart forgets none. Each status change is one
-- conditional UPDATE, so two nodes confirming at once confirm once.
CREATE TABLE sandbox_payments (
    payment_id     text PRIMARY KEY,
    client_secret  text NOT NULL,
    order_id       text NOT NULL,
    amount_cents   bigint NOT NULL CHECK (amount_cents > 0),
    currency       char(3) NOT NULL,
    status         text NOT NULL DEFAULT 'requires_payment_method'
                   CHECK (status IN ('requires_payment_method', 'succeeded', 'failed', 'cancelled', 'refunded')),
    webhook_url    text,  -- learnt from the confirming request's origin
    created_at     timestamptz NOT NULL DEFAULT now()
);
