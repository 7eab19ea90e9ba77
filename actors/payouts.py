"""PayoutWorker: the one payout worker of a node (key `"node"`).

It pays what is due in rounds: `Wake` (from a ticker, or when a seller's payouts become
enabled) runs rounds until one finds less than a full batch; wakes queued meanwhile are
coalesced into that run. Several nodes each run one; the rows they claim are locked with
`FOR UPDATE SKIP LOCKED`, so two never take the same transfer.

What a round does arrives in `PayoutServices.run_round` (an `async () -> int`: rows
attempted), so this module knows nothing of SQL or Stripe. A round that raises (the
database restarting) is logged and the next wake tries again. `Drain` is answered once the
round in progress is over and stops further rounds: shutdown sends it before closing the
Stripe client.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from actors.runtime import Actor, Envelope

log = logging.getLogger("actors.payouts")


@dataclasses.dataclass(frozen=True, slots=True)
class PayoutServices:
    run_round: Callable[[], Awaitable[int]]
    batch: int  # a round that attempted this many rows may have left more
    stopping: Callable[[], bool] = lambda: False  # checked between rounds: shutdown need not wait for a backlog


@dataclasses.dataclass(frozen=True, slots=True)
class Wake:
    reason: str = "tick"


@dataclasses.dataclass(frozen=True, slots=True)
class Drain:
    pass


class PayoutWorker(Actor):
    context: PayoutServices

    mailbox_size: ClassVar[int] = 64
    idle_timeout: ClassVar[float | None] = None  # a service actor lives as long as the node
    max_rounds: ClassVar[int] = 50  # per wake: a backlog is worked through over several wakes

    def __init__(self, key: Any, context: PayoutServices) -> None:
        super().__init__(key, context)
        self.draining = False
        self.rounds = 0

    async def receive_many(self, batch: list[Envelope]) -> None:
        ran = False  # the wakes of one batch share one run
        for envelope in batch:
            message = envelope.message
            if isinstance(message, Drain):
                self.draining = True
            elif isinstance(message, Wake):
                if not ran and not self.draining:
                    await self._run()
                    ran = True
            else:
                envelope.fail(TypeError(f"unexpected message {type(message).__name__}"))
                continue
            envelope.reply(self.rounds)

    async def _run(self) -> None:
        for _ in range(self.max_rounds):
            if self.context.stopping():
                return
            try:
                attempted = await self.context.run_round()
            except Exception:
                log.exception("payout round failed; the next wake tries again")
                return
            self.rounds += 1
            if attempted < self.context.batch:
                return

    async def receive(self, message: Any) -> Any:  # pragma: no cover - receive_many handles all
        raise TypeError(f"unexpected message {type(message).__name__}")
