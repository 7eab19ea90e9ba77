-- Export and erasure (issue 18) find everything one user wrote: without these, each of
-- those look-ups reads the whole table. chat_messages' index is ordered the way the
-- export streams a user's messages (so the cursor needs no sort of, say, 100,000 rows).
CREATE INDEX chat_messages_author_idx ON chat_messages (author_id, created_at, id) WHERE author_id IS NOT NULL;
CREATE INDEX chat_reactions_user_idx ON chat_reactions (user_id);
CREATE INDEX track_comments_author_idx ON track_comments (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX post_comments_author_idx ON post_comments (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX post_likes_user_idx ON post_likes (user_id);
CREATE INDEX reviews_buyer_idx ON reviews (buyer_id) WHERE buyer_id IS NOT NULL;
