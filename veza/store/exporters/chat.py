"""Chat: the rooms the user is in or owns (name, their role, a direct room's other person;
never a group's members), the messages they wrote with their rooms' names, and their
reactions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


@exporter("chat", covers=("conversations.owner_id", "conversation_members.user_id", "chat_messages.author_id",
                          "chat_reactions.user_id"))
async def chat(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("conversations.jsonl", stream(
        conn, "SELECT c.id, c.type, c.name, c.owner_id = $1 AS owner, m.role, m.joined_at, c.created_at,"
              " CASE WHEN c.type = 'direct' THEN (SELECT u.username FROM conversation_members o"
              "   JOIN users u ON u.id = o.user_id WHERE o.conversation_id = c.id AND o.user_id <> $1 LIMIT 1)"
              " END AS direct_with"
              " FROM conversations c LEFT JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $1"
              " WHERE c.id IN (SELECT conversation_id FROM conversation_members WHERE user_id = $1"
              "                UNION SELECT id FROM conversations WHERE owner_id = $1)"
              " ORDER BY c.created_at, c.id", user_id))
    # Deleted messages too: their text is still held until the account is erased.
    await archive.rows("messages.jsonl", stream(
        conn, "SELECT m.id, m.room_id, c.name AS room_name, c.type AS room_type, m.seq, m.content, m.created_at,"
              " m.edited_at, m.deleted_at FROM chat_messages m JOIN conversations c ON c.id = m.room_id"
              " WHERE m.author_id = $1 ORDER BY m.created_at, m.id", user_id))
    await archive.rows("reactions.jsonl", stream(
        conn, "SELECT r.message_id, m.room_id, r.emoji, r.created_at FROM chat_reactions r"
              " JOIN chat_messages m ON m.id = r.message_id WHERE r.user_id = $1"
              " ORDER BY r.created_at, r.message_id, r.emoji", user_id))
