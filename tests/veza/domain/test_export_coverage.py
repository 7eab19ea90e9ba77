"""Every column of the schema that points at users is exported by some domain's exporter
or excluded with a reason: a new table of user data cannot be left out of the archive."""

from __future__ import annotations

from tests.support import ApiClient
from tests.veza.domain.user_columns import all_columns, user_columns
from veza import keys
from veza.domain.export_registry import EXCLUDED, covered, exporters


async def test_every_column_pointing_at_users_is_exported_or_excluded_with_a_reason(client: ApiClient) -> None:
    async with client.app[keys.db].connection() as conn:
        pointing = await user_columns(conn)
        existing = await all_columns(conn)
    assert "chat_messages.author_id" in pointing and "audit_log.user_id" in pointing  # the walk sees both kinds
    exported = covered()
    missing = sorted(pointing - set(exported) - set(EXCLUDED))
    assert not missing, f"columns pointing at users that no exporter exports and EXCLUDED does not name: {missing}"
    assert not set(exported) & set(EXCLUDED), "a column cannot be both exported and excluded"
    stale = sorted((set(exported) | set(EXCLUDED)) - existing)
    assert not stale, f"exporters or exclusions name columns that do not exist: {stale}"
    assert all(reason.strip() for reason in EXCLUDED.values())


def test_each_exporter_has_a_name_of_its_own_and_covers_something() -> None:
    found = exporters()
    assert len({e.name for e in found}) == len(found) >= 10
    assert all(e.covers for e in found)
