"""The in-memory platform state every request reads: feature flags and maintenance mode.

Reads never touch the database. Every change, local or from another node, goes through
`PlatformState.apply(change)`; a change carries the full new value and the database's
`updated_at`, so applying is idempotent and an older value never overwrites a newer one
(a periodic reload and a broker event may arrive in either order).
"""

from __future__ import annotations

import datetime as dt

import msgspec

MAINTENANCE_KEY = "maintenance"
DEFAULT_MAINTENANCE_MESSAGE = "Veza is down for maintenance; please try again shortly"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class FlagState(msgspec.Struct, frozen=True, tag="flag"):
    name: str
    enabled: bool
    description: str = ""
    updated_at: dt.datetime = _EPOCH


class MaintenanceState(msgspec.Struct, frozen=True, tag="maintenance"):
    enabled: bool = False
    message: str = DEFAULT_MAINTENANCE_MESSAGE
    retry_after: int = 300
    updated_at: dt.datetime = _EPOCH


Change = FlagState | MaintenanceState
_decoder = msgspec.json.Decoder(Change)


def encode_change(change: Change) -> bytes:
    return msgspec.json.encode(change)


def decode_change(payload: bytes) -> Change:
    return _decoder.decode(payload)


class PlatformState:
    def __init__(self) -> None:
        self.flags: dict[str, FlagState] = {}
        self.maintenance = MaintenanceState()

    def is_enabled(self, name: str, default: bool = False) -> bool:
        flag = self.flags.get(name)
        return default if flag is None else flag.enabled

    def apply(self, change: Change) -> bool:
        """Apply a change unless what we hold is newer; True when the state changed."""
        if isinstance(change, FlagState):
            current = self.flags.get(change.name)
            if current is not None and current.updated_at > change.updated_at:
                return False
            self.flags[change.name] = change
            return current != change
        if self.maintenance.updated_at > change.updated_at:
            return False
        changed = self.maintenance != change
        self.maintenance = change
        return changed
