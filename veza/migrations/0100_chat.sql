-- Chat: conversations are the rooms (direct, group, public), their members, and the
-- messages with a per-room sequence that has no gaps and no duplicates.
CREATE TABLE conversations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type             text NOT NULL CHECK (type IN ('direct', 'group', 'public')),
    name             text NOT NULL DEFAULT '',
    owner_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    -- "<smaller uuid>:<larger uuid>" for a direct pair: found or created exactly once.
    direct_key       text UNIQUE,
    -- The last sequence number handed out; the row lock on it serializes writers.
    last_seq         bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((type = 'direct') = (direct_key IS NOT NULL))
);
CREATE INDEX conversations_public_idx ON conversations (last_activity_at DESC) WHERE type = 'public';

CREATE TABLE conversation_members (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    last_read_seq   bigint NOT NULL DEFAULT 0,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id);

CREATE TABLE chat_messages (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    room_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq        bigint NOT NULL CHECK (seq > 0),
    author_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    content    text NOT NULL,
    client_id  text,
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at  timestamptz,
    deleted_at timestamptz,
    UNIQUE (room_id, seq),
    -- A resend with the same client_id is the same message.
    UNIQUE (room_id, author_id, client_id)
);

CREATE TABLE chat_reactions (
    message_id uuid NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id, emoji)
);
