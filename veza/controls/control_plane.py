"""How feature-flag and maintenance changes reach every node.

A change is written to PostgreSQL (the source of truth), applied to this node's
`PlatformState`, and published on the broker's control channel; every node's subscriber
applies it (its own included; applying is idempotent). A periodic reload from the
database is the safety net for a node that missed an event (Redis blip, late start).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

from actors.broker import Broker, Subscription
from veza.controls.state import (
    DEFAULT_MAINTENANCE_MESSAGE, MAINTENANCE_KEY, Change, FlagState, MaintenanceState, PlatformState, decode_change, encode_change,
)
from veza.store import platform as platform_store

log = logging.getLogger("veza.control")

CONTROL_CHANNEL = "platform.control"


def flag_from_row(row: dict[str, Any]) -> FlagState:
    return FlagState(name=row["name"], enabled=row["enabled"], description=row["description"],
                     updated_at=row["updated_at"])


def maintenance_from_row(row: dict[str, Any] | None) -> MaintenanceState:
    if row is None:
        return MaintenanceState()
    value = row["value"]
    return MaintenanceState(enabled=bool(value.get("enabled")), message=value.get("message") or DEFAULT_MAINTENANCE_MESSAGE,
                            retry_after=int(value.get("retry_after") or 300), updated_at=row["updated_at"])


class ControlPlane:
    def __init__(self, state: PlatformState, db: Any, broker: Broker, refresh_interval: float) -> None:
        self.state = state
        self.db = db
        self.broker = broker
        self.refresh_interval = refresh_interval
        self._subscription: Subscription | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        await self.reload()
        self._subscription = await self.broker.subscribe(CONTROL_CHANNEL, self._on_message)
        self._refresher = asyncio.create_task(self._refresh_loop(), name="platform-state-refresh")

    async def stop(self) -> None:
        self._stopping = True
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.wait([self._refresher], timeout=2.0)
        if self._subscription is not None:
            await self.broker.unsubscribe(self._subscription)

    async def reload(self) -> None:
        async with self.db.connection() as conn:
            flags = await platform_store.list_flags(conn)
            maintenance = await platform_store.get_setting(conn, MAINTENANCE_KEY)
        for row in flags:
            self.state.apply(flag_from_row(row))
        self.state.apply(maintenance_from_row(maintenance))

    async def _refresh_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.refresh_interval)
            try:
                await self.reload()
            except Exception as exc:  # keep serving the last known state
                log.warning("platform state reload failed: %r", exc)

    def _on_message(self, payload: bytes, origin: str) -> None:
        try:
            self.state.apply(decode_change(payload))
        except Exception:
            log.exception("bad control message from %s", origin)

    async def apply_change(self, change: Change) -> None:
        """The one path of every change: apply here, then tell every node."""
        self.state.apply(change)
        try:
            await self.broker.publish(CONTROL_CHANNEL, encode_change(change))
        except Exception as exc:  # other nodes catch up at their next reload
            log.warning("control change not published: %r", exc)

    async def set_flag(self, name: str, enabled: bool, description: str | None, by: UUID | None) -> FlagState:
        async with self.db.connection() as conn:
            flag = flag_from_row(await platform_store.set_flag(conn, name, enabled, description, by))
        await self.apply_change(flag)
        return flag

    async def set_maintenance(self, enabled: bool, message: str | None, retry_after: int | None,
                              by: UUID | None) -> MaintenanceState:
        value = {"enabled": enabled, "message": message or DEFAULT_MAINTENANCE_MESSAGE,
                 "retry_after": retry_after or self.state.maintenance.retry_after}
        async with self.db.connection() as conn:
            state = maintenance_from_row(await platform_store.put_setting(conn, MAINTENANCE_KEY, value, by))
        await self.apply_change(state)
        return state
