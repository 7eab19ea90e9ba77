-- A moderator's warning is also a notification (the notifications table is the tracks
-- domain's, 0302): allow its kind.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('track_like', 'track_comment', 'post_like', 'post_comment', 'follow', 'moderation_warning'));
