"""One transaction and the side effects that others must see once it has committed.

    async with unit_of_work(db) as uow:
        note = await notifications.create(uow.conn, ...)
        uow.after_commit(feeds.notify, app, note)

Effects (a socket push, a broker event, a notification, a job to run) are collected while
the transaction runs and dispatched in order after COMMIT; a rollback drops them, so no
client ever hears of a change the database does not have. An effect that fails is logged
and does not stop the others: the change is committed, only its announcement is lost.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

log = logging.getLogger("veza.domain")


class _Transactional(Protocol):
    def transaction(self) -> Any: ...


class UnitOfWork:
    __slots__ = ("conn", "_effects")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._effects: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def after_commit(self, effect: Callable[..., Any], *args: Any) -> None:
        """Run `effect(*args)` (a function or a coroutine function) after COMMIT."""
        self._effects.append((effect, args))

    async def dispatch(self) -> None:
        effects, self._effects = self._effects, []
        for effect, args in effects:
            try:
                result = effect(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("after-commit effect %s failed", getattr(effect, "__qualname__", effect))


@asynccontextmanager
async def unit_of_work(db: _Transactional) -> AsyncIterator[UnitOfWork]:
    """A transaction on `db` (a `veza.db.Database`) whose effects run after it commits."""
    async with db.transaction() as conn:
        uow = UnitOfWork(conn)
        yield uow
    await uow.dispatch()
