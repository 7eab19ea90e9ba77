-- Live streams. One row per stream a creator sets up; each has its own stream key.
--
-- The key is stored as given to the owner (the owner reads it back from GET
-- /live/streams/me), in a column no public query selects; its unique index makes the
-- media-server hooks one index lookup. A hash would hide it from a database dump, but then
-- the owner could not read it back, which the API requires.
CREATE TABLE live_streams (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title            text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    category         text NOT NULL DEFAULT '',
    tags             text[] NOT NULL DEFAULT '{}',
    stream_key       text NOT NULL,
    status           text NOT NULL DEFAULT 'offline' CHECK (status IN ('live', 'offline')),
    -- Which ingest is publishing (rtmp, srs, mediamtx, whip) and its session id there.
    ingest           text,
    ingest_session   text,
    last_heartbeat_at timestamptz,
    viewer_count     integer NOT NULL DEFAULT 0,
    peak_viewers     integer NOT NULL DEFAULT 0,
    started_at       timestamptz,
    ended_at         timestamptz,
    -- Seconds of the last broadcast, set when it ends.
    duration_seconds integer NOT NULL DEFAULT 0,
    -- The stream's public chat conversation (filled once the conversations store exists).
    chat_room_id     uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX live_streams_stream_key_key ON live_streams (stream_key);
CREATE INDEX live_streams_owner_idx ON live_streams (owner_id, created_at DESC);
CREATE INDEX live_streams_live_idx ON live_streams (started_at DESC) WHERE status = 'live';
CREATE INDEX live_streams_created_idx ON live_streams (created_at DESC, id DESC);
