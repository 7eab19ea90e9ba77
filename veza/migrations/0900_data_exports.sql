-- GDPR data exports (issue 18): one row per requested archive. The row is the job: a
-- worker claims a queued row (FOR UPDATE SKIP LOCKED, so nodes never share one), beats
-- `heartbeat_at` while it writes, and moves it forward: queued -> running -> ready, or back
-- to queued for a retry, or failed; a ready archive becomes expired when the retention
-- sweeper deletes its stored object.
CREATE TABLE data_exports (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),  -- claims so far: the fencing token
    not_before   timestamptz NOT NULL DEFAULT now(),  -- a retry waits a little longer each time
    storage_key  text,
    size_bytes   bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
    manifest     jsonb,                       -- counts per file, as written into the archive
    error        text,                        -- the last attempt's failure, for operators
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    heartbeat_at timestamptz,
    finished_at  timestamptz,
    expires_at   timestamptz,                 -- set when ready: the archive is deleted then
    CHECK (status <> 'ready' OR (storage_key IS NOT NULL AND size_bytes IS NOT NULL AND expires_at IS NOT NULL))
);
-- At most one job waiting or running per user: a second request answers the same job.
CREATE UNIQUE INDEX data_exports_one_active ON data_exports (user_id) WHERE status IN ('queued', 'running');
CREATE INDEX data_exports_user_idx ON data_exports (user_id, created_at DESC, id DESC);
CREATE INDEX data_exports_queue_idx ON data_exports (not_before, created_at) WHERE status = 'queued';
CREATE INDEX data_exports_running_idx ON data_exports (heartbeat_at) WHERE status = 'running';
CREATE INDEX data_exports_expiry_idx ON data_exports (expires_at) WHERE status = 'ready';
