"""Freed heap memory goes back to the kernel: glibc's malloc_trim really shrinks RSS after
a fragmented free (in a fresh interpreter, so nothing else of the test run moves it), and
the app trims on its interval until it shuts down."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from aiohttp import web

from veza.app import create_app
from veza.config import Settings
from veza.heap import glibc_trim

PROBE = textwrap.dedent("""
    import os
    from veza.heap import glibc_trim

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    blocks = [bytearray(4000) for _ in range(20_000)]  # ~80 MiB from malloc's heap, not mmap
    pin = bytearray(4000)  # keeps the heap's top in use, so free() alone cannot give it back
    del blocks
    before = rss_mib()
    glibc_trim()()
    print(before - rss_mib())
""")


@pytest.mark.skipif(glibc_trim() is None, reason="no glibc here")
def test_a_trim_gives_freed_memory_back() -> None:
    freed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert float(freed.stdout) > 40  # MiB of the ~80 freed


def _trim_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "heap-trim" and not t.done()]


@pytest.mark.parametrize(("interval", "running"), [(0.0, False), (0.01, True)])
async def test_the_app_trims_on_its_interval_until_it_stops(aiohttp_client, settings: Settings, interval: float,
                                                            running: bool) -> None:  # type: ignore[no-untyped-def]
    app: web.Application = create_app(settings.replace(heap_trim_interval=interval))
    client = await aiohttp_client(app)
    await asyncio.sleep(0.05)  # a few intervals
    tasks = _trim_tasks()
    assert bool(tasks) is (running and glibc_trim() is not None)
    await client.close()
    assert all(t.done() for t in tasks) and not _trim_tasks()
