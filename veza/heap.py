"""The process's heap: the garbage collector kept off what lives as long as the process,
and freed memory handed back to the kernel.

Once started, a node holds a few hundred thousand long-lived objects (modules, routes,
schemas, codecs, the OpenAPI document...). CPython's full (generation 2) collections
walk all of them, on the event loop, whenever enough new objects have survived: a pause
of tens of milliseconds that every chat room, fan-out and request waits out, and a cost
charged to whatever allocation happened to trigger it.

`gc.freeze()` at the end of startup moves everything alive then into a permanent
generation the collector no longer walks; what is allocated afterwards is collected as
before. The cleanup unfreezes, so a process that builds several apps (the tests) leaks
nothing.

glibc keeps memory that Python has freed in its arenas for reuse, and a busy node frees
unevenly (join replies, socket buffers, request bodies of every size): RSS then creeps up
while the live heap stays flat (the soak bench measured ~0.8 MiB a minute with 2,000
churning sockets, three quarters of it given back by one trim). `trimmed_heap` asks glibc
to return it every `HEAP_TRIM_INTERVAL` seconds (`malloc_trim(0)`, in a thread: ctypes
releases the GIL and the trim walks the arenas). Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from veza import keys

log = logging.getLogger("veza.heap")


async def frozen_startup_heap(app: web.Application) -> AsyncIterator[None]:
    """A cleanup_ctx: register it last, so it runs when every other context has started.

    No gc.collect() first: on a full heap it is itself a long pause, and what little
    cyclic garbage startup left behind is not worth it."""
    gc.freeze()
    yield
    gc.unfreeze()


def glibc_trim() -> Callable[[], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


async def trimmed_heap(app: web.Application) -> AsyncIterator[None]:
    """A cleanup_ctx: hands freed heap memory back every `heap_trim_interval` seconds (0: never)."""
    interval = app[keys.settings].heap_trim_interval
    trim = glibc_trim() if interval > 0 else None
    if trim is None:
        yield
        return
    loop = asyncio.get_running_loop()

    async def every_interval() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await loop.run_in_executor(None, trim)
            except Exception:  # noqa: BLE001 - a failed trim only leaves memory where it was
                log.warning("malloc_trim failed", exc_info=True)

    task = loop.create_task(every_interval(), name="heap-trim")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
