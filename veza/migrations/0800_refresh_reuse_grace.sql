-- The refresh token a rotation just replaced, and when (the second its successor was
-- issued at): within REFRESH_REUSE_GRACE a second tab presenting it gets the same new
-- pair again instead of a revoked session.
ALTER TABLE sessions
    ADD COLUMN previous_refresh_hash text,
    ADD COLUMN rotated_at timestamptz;
