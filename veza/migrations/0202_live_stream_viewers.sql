-- Viewers per node: each node's LiveStream actor writes how many of its own sockets watch a
-- stream (about once a second while watched) and reads the other nodes' fresh rows, so
-- every node announces the cluster-wide count. A crashed node's row goes stale and stops
-- counting by itself.
CREATE TABLE live_stream_viewers (
    stream_id  uuid NOT NULL REFERENCES live_streams (id) ON DELETE CASCADE,
    node_id    text NOT NULL,
    viewers    integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, node_id)
);
