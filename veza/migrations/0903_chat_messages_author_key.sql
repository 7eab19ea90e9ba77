-- Chat messages: one index fewer on the hottest insert path (issue 19). A resend's key
-- (room, author, client_id) now leads with the author, so that one unique index also finds
-- everything one user wrote (export, erasure, and the users foreign key's SET NULL), and
-- 0902's chat_messages_author_idx goes: every message paid for it, while only an export
-- used its order (that export now sorts the user's messages, once per export).
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_room_id_author_id_client_id_key;
ALTER TABLE chat_messages ADD CONSTRAINT chat_messages_author_room_client_key UNIQUE (author_id, room_id, client_id);
DROP INDEX chat_messages_author_idx;
