-- Tracks, their likes and comments, and the tag vocabulary behind /tags/suggest.

-- array_to_string is only STABLE; for text[] it is in fact immutable, and a generated
-- column needs an immutable expression.
CREATE FUNCTION veza_tags_text(text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_to_string($1, ' '), '') $$;

CREATE TABLE tracks (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    artist        text NOT NULL CHECK (length(artist) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '',
    genre         text CHECK (genre IS NULL OR length(genre) <= 50),
    format        text NOT NULL,
    mime_type     text NOT NULL,
    duration      double precision NOT NULL DEFAULT 0,
    file_key      text NOT NULL,
    size_bytes    bigint NOT NULL,
    tags          text[] NOT NULL DEFAULT '{}',
    like_count    integer NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count integer NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', artist), 'B') ||
        setweight(to_tsvector('simple', coalesce(genre, '') || ' ' || veza_tags_text(tags)), 'C') ||
        setweight(to_tsvector('simple', description), 'D')
    ) STORED
);

-- Keyset pagination: newest first, id breaks ties; the filtered variants keep the same order.
CREATE INDEX tracks_keyset_idx ON tracks (created_at DESC, id DESC);
CREATE INDEX tracks_genre_keyset_idx ON tracks (genre, created_at DESC, id DESC);
CREATE INDEX tracks_format_keyset_idx ON tracks (format, created_at DESC, id DESC);
CREATE INDEX tracks_owner_idx ON tracks (owner_id, created_at DESC);
CREATE INDEX tracks_likes_idx ON tracks (like_count DESC, id DESC);
CREATE INDEX tracks_search_idx ON tracks USING gin (search_vector);
CREATE INDEX tracks_title_trgm_idx ON tracks USING gin (title gin_trgm_ops);
CREATE INDEX tracks_artist_trgm_idx ON tracks USING gin (artist gin_trgm_ops);

CREATE TABLE track_likes (
    track_id   uuid NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (track_id, user_id)
);
CREATE INDEX track_likes_user_idx ON track_likes (user_id);

CREATE TABLE track_comments (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    track_id   uuid NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    author_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content    text NOT NULL CHECK (length(content) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX track_comments_track_idx ON track_comments (track_id, created_at DESC, id DESC);

-- Every tag in use on a track or post, with how many use it: suggestions read this small
-- table (prefix via btree, typos via trigram) instead of unnesting every row.
CREATE TABLE tags (
    name      text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 50),
    use_count integer NOT NULL DEFAULT 0
);
CREATE INDEX tags_prefix_idx ON tags (name text_pattern_ops);
CREATE INDEX tags_trgm_idx ON tags USING gin (name gin_trgm_ops);
