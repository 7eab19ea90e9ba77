"""The database schema's columns that point at users, read from PostgreSQL's catalogs:
every foreign key to users(id), and every uuid column named like one (audit_log.user_id
has no foreign key, on purpose)."""

from __future__ import annotations

from typing import Any

NAMES = ("user_id", "author_id", "buyer_id", "seller_id", "owner_id", "actor_id", "reporter_id", "follower_id",
         "followee_id", "created_by", "updated_by", "resolved_by", "requested_by", "triggered_by", "target_user_id",
         "recipient_id", "sender_id", "member_id", "uploaded_by", "granted_by")


async def user_columns(conn: Any) -> set[str]:
    """"table.column" for every column of a base table that points at users."""
    rows = await conn.fetch(
        "SELECT c.relname || '.' || a.attname AS col FROM pg_constraint k"
        " JOIN pg_class c ON c.oid = k.conrelid JOIN pg_attribute a ON a.attrelid = k.conrelid"
        " AND a.attnum = ANY(k.conkey)"
        " WHERE k.contype = 'f' AND k.confrelid = 'users'::regclass"
        " UNION"
        " SELECT c.table_name || '.' || c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.data_type = 'uuid'"
        " AND (c.column_name = ANY($1::text[]) OR c.column_name LIKE '%\\_user\\_id')", list(NAMES))
    return {r["col"] for r in rows}


async def all_columns(conn: Any) -> set[str]:
    rows = await conn.fetch("SELECT table_name || '.' || column_name AS col FROM information_schema.columns"
                            " WHERE table_schema = current_schema()")
    return {r["col"] for r in rows}
