-- Cloud files: folders, files with saved versions, a per-user usage row, share links, and
-- the stored objects whose rows are gone (deleted after commit, retried at start-up).
--
-- Stored objects are immutable and belong to one file: its current content and its
-- versions may name the same key (a snapshot or a restore shares the bytes), so an object
-- is freed only when no row of that file names it any more. used_bytes counts each stored
-- object once.
CREATE TABLE cloud_folders (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id  uuid REFERENCES cloud_folders (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cloud_folders_unique_name UNIQUE NULLS NOT DISTINCT (owner_id, parent_id, name)
);
CREATE INDEX cloud_folders_parent ON cloud_folders (parent_id);

CREATE TABLE cloud_files (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    folder_id   uuid REFERENCES cloud_folders (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    storage_key text NOT NULL,
    size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
    mime_type   text NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cloud_files_unique_name UNIQUE NULLS NOT DISTINCT (owner_id, folder_id, name)
);
CREATE INDEX cloud_files_listing ON cloud_files (owner_id, folder_id, created_at DESC, id DESC);
CREATE INDEX cloud_files_folder ON cloud_files (folder_id);

CREATE TABLE cloud_file_versions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    file_id     uuid NOT NULL REFERENCES cloud_files (id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version >= 1),
    storage_key text NOT NULL,
    size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
    mime_type   text NOT NULL,
    sha256      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_id, version)
);

CREATE TABLE cloud_usage (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    used_bytes bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0)
);

CREATE TABLE cloud_shares (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    file_id     uuid NOT NULL REFERENCES cloud_files (id) ON DELETE CASCADE,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    permissions text NOT NULL CHECK (permissions IN ('read')),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cloud_shares_file ON cloud_shares (file_id, created_at DESC);

-- Objects to delete from storage: written with the change that orphaned them.
CREATE TABLE storage_garbage (
    storage_key text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);
