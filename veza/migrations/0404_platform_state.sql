-- Feature flags and platform settings (maintenance mode): loaded into memory at start,
-- changed by admins, propagated to every node through the broker.
CREATE TABLE feature_flags (
    name        text PRIMARY KEY,
    enabled     boolean NOT NULL DEFAULT false,
    description text NOT NULL DEFAULT '',
    updated_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE platform_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
