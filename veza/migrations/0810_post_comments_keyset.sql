-- GET /social/posts/:id/comments pages by (created_at, id) newest first: the index carries
-- the id too, so a page is one index range whatever the depth (it replaces the old one).
CREATE INDEX post_comments_keyset_idx ON post_comments (post_id, created_at DESC, id DESC);
DROP INDEX post_comments_post_idx;
