-- Audit trail of every state-changing request, written behind the request in batches.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    user_id    uuid,
    action     text NOT NULL,
    resource   text NOT NULL,
    route      text,
    ip_address text NOT NULL DEFAULT '',
    status     integer NOT NULL,
    request_id text,
    via        text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC, id DESC);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, created_at DESC);
