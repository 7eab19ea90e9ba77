-- Site-wide announcements (the AnnouncementBanner), visible between starts_at and ends_at.
CREATE TABLE announcements (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title      text NOT NULL,
    content    text NOT NULL,
    type       text NOT NULL DEFAULT 'info' CHECK (type IN ('info', 'warning', 'error')),
    starts_at  timestamptz NOT NULL DEFAULT now(),
    ends_at    timestamptz,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX announcements_window_idx ON announcements (starts_at, ends_at);
