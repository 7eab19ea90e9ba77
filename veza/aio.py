"""Small asyncio helpers shared by the background loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger("veza.aio")


async def stop_task(task: asyncio.Task[object] | None, *, attempts: int = 10, wait: float = 0.5) -> None:
    """Cancel `task` and wait for it, re-cancelling a bounded number of times.

    redis-py can swallow a cancellation that lands inside a command (or turn it into its
    own TimeoutError), so one cancel() may be lost. Loops therefore also check a stop
    flag; this keeps shutdown bounded even if they do not.
    """
    if task is None:
        return
    for _ in range(attempts):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=wait)
    if not task.done():
        log.error("task %s did not stop after %d cancels; leaving it", task.get_name(), attempts)
        return
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
