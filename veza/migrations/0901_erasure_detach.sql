-- Account erasure (issue 18): what other people rely on outlives its author, detached.
--
-- A comment of an erased account stays in its thread as "deleted user" with its text
-- removed (like a chat message, 0100): the author becomes NULL and only then may the
-- content be empty.
ALTER TABLE track_comments ALTER COLUMN author_id DROP NOT NULL;
ALTER TABLE track_comments DROP CONSTRAINT track_comments_author_id_fkey;
ALTER TABLE track_comments ADD CONSTRAINT track_comments_author_id_fkey
    FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE track_comments DROP CONSTRAINT track_comments_content_check;
ALTER TABLE track_comments ADD CONSTRAINT track_comments_content_check
    CHECK (length(content) BETWEEN 1 AND 2000 OR (author_id IS NULL AND content = ''));

ALTER TABLE post_comments ALTER COLUMN author_id DROP NOT NULL;
ALTER TABLE post_comments DROP CONSTRAINT post_comments_author_id_fkey;
ALTER TABLE post_comments ADD CONSTRAINT post_comments_author_id_fkey
    FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE post_comments DROP CONSTRAINT post_comments_content_check;
ALTER TABLE post_comments ADD CONSTRAINT post_comments_content_check
    CHECK (length(content) BETWEEN 1 AND 2000 OR (author_id IS NULL AND content = ''));

-- A product somebody bought stays (their order lines and purchases point at it), archived
-- and without its seller; products nobody ordered are deleted with the account.
ALTER TABLE products ALTER COLUMN seller_id DROP NOT NULL;
ALTER TABLE products DROP CONSTRAINT products_seller_id_fkey;
ALTER TABLE products ADD CONSTRAINT products_seller_id_fkey
    FOREIGN KEY (seller_id) REFERENCES users (id) ON DELETE SET NULL;
