-- Each stream's chat is a public conversation, created with the stream. Streams made
-- before the conversations table existed get theirs now.
DO $$
DECLARE
    s record;
    room uuid;
BEGIN
    FOR s IN SELECT id, owner_id, title FROM live_streams WHERE chat_room_id IS NULL LOOP
        INSERT INTO conversations (type, name, owner_id) VALUES ('public', s.title, s.owner_id) RETURNING id INTO room;
        INSERT INTO conversation_members (conversation_id, user_id, role) VALUES (room, s.owner_id, 'owner');
        UPDATE live_streams SET chat_room_id = room WHERE id = s.id;
    END LOOP;
END $$;

ALTER TABLE live_streams
    ADD CONSTRAINT live_streams_chat_room_fk FOREIGN KEY (chat_room_id) REFERENCES conversations (id) ON DELETE SET NULL;
