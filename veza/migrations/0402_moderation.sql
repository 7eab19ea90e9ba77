-- User reports and the moderators' decisions on them.
CREATE TABLE reports (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reporter_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_type text NOT NULL CHECK (content_type IN ('user', 'track', 'comment')),
    content_id   uuid NOT NULL,
    reason       text NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved', 'dismissed')),
    action       text CHECK (action IN ('resolve', 'dismiss', 'ban', 'warn')),
    target_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_status_idx ON reports (status, created_at DESC);
-- One open report per reporter and piece of content: repeats are a 409, not a pile-up.
CREATE UNIQUE INDEX reports_open_once ON reports (reporter_id, content_type, content_id) WHERE status = 'pending';

-- A moderator's warning to a user; also pushed to them live as a notification.
CREATE TABLE moderation_warnings (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    report_id  uuid REFERENCES reports (id) ON DELETE SET NULL,
    message    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX moderation_warnings_user_idx ON moderation_warnings (user_id, created_at DESC);
