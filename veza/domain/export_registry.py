"""What a GDPR data export holds: each domain registers the exporter of its own data.

An exporter is one async function `(archive, conn, user_id) -> None` that streams the
user's rows of its domain into the archive (`Archive`): JSON-lines files, and stored
files under `files/`. It runs inside the export's one REPEATABLE READ transaction, so
every domain is read at the same instant. It declares the columns pointing at users that
it exports (`covers`, as "table.column"); every other such column must be in `EXCLUDED`
with the reason it is not exported. `tests/veza/domain/test_export_coverage.py` walks the
database schema and fails on a column that is in neither, so a new domain cannot forget
to say what it holds.

A new domain joins by adding one module with one decorated function to
`veza/store/exporters/` (the modules there are imported by `exporters()`):

    @exporter("gear", covers=("gear.owner_id",))
    async def gear(archive: Archive, conn: Any, user_id: UUID) -> None:
        await archive.rows("gear.jsonl", stream(conn, "SELECT ... WHERE owner_id = $1", user_id))

Never export a password, refresh-token or key hash, a share token, a stream key or
another user's private data.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from typing import Any, Protocol
from uuid import UUID

EXPORTERS_PACKAGE = "veza.store.exporters"


class Archive(Protocol):
    """Where exporters write. Names are plain relative paths (`tracks.jsonl`,
    `files/tracks/<id>.mp3`); each may be written once."""

    async def rows(self, name: str, rows: AsyncIterable[Mapping[str, Any]]) -> int:
        """Write each row as one JSON line of `name`; returns how many."""

    async def document(self, name: str, value: Mapping[str, Any]) -> None:
        """Write one JSON document (profile.json)."""

    async def file(self, name: str, storage_key: str) -> bool:
        """Copy a stored object into the archive as `name`; False when storage has lost it
        (the manifest lists it as missing, the export goes on)."""


Export = Callable[[Archive, Any, UUID], Awaitable[None]]


@dataclasses.dataclass(frozen=True, slots=True)
class Exporter:
    name: str
    covers: tuple[str, ...]  # "table.column" pointing at users that this exporter exports
    run: Export


_REGISTERED: dict[str, Exporter] = {}
_loaded = False

# Columns pointing at users that no export holds, each with its reason.
EXCLUDED: dict[str, str] = {
    "notifications.actor_id": "a notice another user received about this user's action is the recipient's data",
    "reports.target_user_id": "reports about this user belong to their reporters and the moderators",
    "reports.resolved_by": "a moderator's decision on someone else's report; their requests are in audit.jsonl",
    "announcements.created_by": "site-wide announcements published for the platform, not about the author",
    "feature_flags.updated_by": "platform configuration, not personal data",
    "platform_settings.updated_by": "platform configuration, not personal data",
    "transfer_attempts.triggered_by": "an admin's retry of another seller's payout; their requests are in audit.jsonl",
    "cloud_usage.user_id": "derived: the sum of the sizes listed in cloud_files.jsonl",
    "data_exports.user_id": "the export jobs themselves, listed by GET /users/me/exports",
}


def exporter(name: str, *, covers: tuple[str, ...]) -> Callable[[Export], Export]:
    """Register `fn` as the exporter `name` (one per name)."""

    def register(fn: Export) -> Export:
        if name in _REGISTERED and _REGISTERED[name].run is not fn:
            raise ValueError(f"exporter {name!r} registered twice")
        _REGISTERED[name] = Exporter(name, tuple(covers), fn)
        return fn

    return register


def exporters() -> list[Exporter]:
    """Every registered exporter, by name (the order the archive is written in)."""
    global _loaded
    if not _loaded:
        package = importlib.import_module(EXPORTERS_PACKAGE)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{EXPORTERS_PACKAGE}.{module.name}")
        _loaded = True
    return [_REGISTERED[name] for name in sorted(_REGISTERED)]


def covered() -> dict[str, str]:
    """"table.column" -> the exporter that exports it."""
    return {column: e.name for e in exporters() for column in e.covers}
