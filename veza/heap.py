"""Keep the garbage collector off the heap that lives as long as the process.

Once started, a node holds a few hundred thousand long-lived objects (modules, routes,
schemas, codecs, the OpenAPI document...). CPython's full (generation 2) collections
walk all of them, on the event loop, whenever enough new objects have survived: a pause
of tens of milliseconds that every chat room, fan-out and request waits out, and a cost
charged to whatever allocation happened to trigger it.

`gc.freeze()` at the end of startup moves everything alive then into a permanent
generation the collector no longer walks; what is allocated afterwards is collected as
before. The cleanup unfreezes, so a process that builds several apps (the tests) leaks
nothing.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

from aiohttp import web


async def frozen_startup_heap(app: web.Application) -> AsyncIterator[None]:
    """A cleanup_ctx: register it last, so it runs when every other context has started.

    No gc.collect() first: on a full heap it is itself a long pause, and what little
    cyclic garbage startup left behind is not worth it."""
    gc.freeze()
    yield
    gc.unfreeze()
