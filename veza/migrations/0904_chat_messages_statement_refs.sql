-- chat_messages' two foreign keys (room_id -> conversations, author_id -> users) cost
-- PostgreSQL a look-up and a row lock per inserted row: 30% of a chat node's database time
-- when a node writes many rooms' messages in one statement (issue 19, BENCHMARKS.md). They
-- become triggers that run once per statement, with the same guarantees:
--   * a message's room and author (when it has one) exist when it is written or changed,
--     and stay locked (KEY SHARE, as a foreign key locks them) until its transaction ends,
--     so deleting either waits for that transaction and then sees its rows;
--   * deleting a room deletes its messages (was ON DELETE CASCADE; their reactions still
--     follow by chat_reactions' own foreign key), deleting a user detaches theirs
--     (author_id NULL: was ON DELETE SET NULL), TRUNCATE of either empties chat_messages;
--   * the referenced ids never change (was NO ACTION on update).
-- One difference, enforced: rooms and users are deleted in READ COMMITTED transactions only
-- (all of Veza's are). A foreign key's cascade sees rows committed after a REPEATABLE READ
-- snapshot through a special snapshot that triggers have no access to, so such a delete is
-- refused rather than allowed to leave a message behind.
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_room_id_fkey;
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_author_id_fkey;

CREATE FUNCTION chat_messages_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rooms uuid[];
    authors uuid[];
BEGIN
    SELECT array_agg(DISTINCT room_id), array_agg(DISTINCT author_id) FILTER (WHERE author_id IS NOT NULL)
        INTO rooms, authors FROM written;
    -- In id order, as every writer locks rooms; a row deleted meanwhile is not locked (and
    -- so not counted): this transaction then fails instead of leaving an orphan.
    IF (SELECT count(*) FROM (SELECT 1 FROM conversations WHERE id = ANY(rooms) ORDER BY id FOR KEY SHARE) r)
            <> coalesce(cardinality(rooms), 0) THEN
        RAISE foreign_key_violation USING MESSAGE = 'chat message in a room that does not exist',
            TABLE = 'chat_messages', CONSTRAINT = 'chat_messages_room_id_fkey';
    END IF;
    IF (SELECT count(*) FROM (SELECT 1 FROM users WHERE id = ANY(authors) ORDER BY id FOR KEY SHARE) u)
            <> coalesce(cardinality(authors), 0) THEN
        RAISE foreign_key_violation USING MESSAGE = 'chat message by a user who does not exist',
            TABLE = 'chat_messages', CONSTRAINT = 'chat_messages_author_id_fkey';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_messages_refs_on_insert AFTER INSERT ON chat_messages REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION chat_messages_check_refs();
CREATE TRIGGER chat_messages_refs_on_update AFTER UPDATE ON chat_messages REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION chat_messages_check_refs();

CREATE FUNCTION chat_messages_refs_read_committed() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE feature_not_supported USING MESSAGE = 'rooms and users are deleted in READ COMMITTED transactions'
            ' (their chat messages are found with a fresh snapshot)';
    END IF;
END $$;

-- Each statement of these functions reads a fresh snapshot (READ COMMITTED): messages
-- committed by a writer this delete waited for are included.
CREATE FUNCTION conversations_delete_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chat_messages_refs_read_committed();
    DELETE FROM chat_messages WHERE room_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;
CREATE TRIGGER conversations_delete_messages AFTER DELETE ON conversations REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION conversations_delete_messages();

CREATE FUNCTION users_detach_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chat_messages_refs_read_committed();
    UPDATE chat_messages SET author_id = NULL WHERE author_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;
CREATE TRIGGER users_detach_messages AFTER DELETE ON users REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION users_detach_messages();

-- TRUNCATE users needs CASCADE (other foreign keys), which truncates conversations too.
CREATE FUNCTION conversations_truncate_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM chat_messages;
    RETURN NULL;
END $$;
CREATE TRIGGER conversations_truncate_messages AFTER TRUNCATE ON conversations
    FOR EACH STATEMENT EXECUTE FUNCTION conversations_truncate_messages();

CREATE FUNCTION chat_messages_keep_referenced_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING MESSAGE = TG_TABLE_NAME || '.id is referenced by chat_messages and never changes';
END $$;
CREATE TRIGGER conversations_keep_id BEFORE UPDATE OF id ON conversations FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION chat_messages_keep_referenced_id();
CREATE TRIGGER users_keep_id BEFORE UPDATE OF id ON users FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION chat_messages_keep_referenced_id();
