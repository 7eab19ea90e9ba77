"""`veza serve` with two diagnosis hooks, for the soak's --tracemalloc and --trim.

    python -m bench.soak.traced_server DIR [--no-trace] serve --host ... --port ...

SIGUSR1 writes a tracemalloc snapshot of the Python heap to DIR/snapshot-<n>.pickle (the
event loop waits while it is taken: a diagnosis, never a measurement); with --no-trace
tracemalloc stays off and the server runs at full speed. SIGUSR2 asks glibc to hand its
free heap memory back to the kernel (`malloc_trim(0)`) and then writes DIR/trimmed-<n>:
if RSS then falls back, what it had grown by was memory freed but kept by the allocator,
not objects still alive. Veza itself has neither hook.
"""

from __future__ import annotations

import ctypes
import itertools
import signal
import sys
import tracemalloc
from pathlib import Path

FRAMES = 12  # enough to see which caller holds what; each frame costs memory per block


def _when_done(path: Path, write: object) -> None:
    part = path.with_suffix(".part")
    write(str(part))  # type: ignore[operator]
    part.rename(path)  # whole or absent for whoever waits on it


def main() -> int:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    rest = sys.argv[2:]
    trace = rest[:1] != ["--no-trace"]
    rest = rest if trace else rest[1:]
    snapshots, trims = itertools.count(1), itertools.count(1)

    def snapshot(_signum: int, _frame: object) -> None:
        if tracemalloc.is_tracing():
            _when_done(folder / f"snapshot-{next(snapshots)}.pickle", lambda p: tracemalloc.take_snapshot().dump(p))

    def trim(_signum: int, _frame: object) -> None:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        _when_done(folder / f"trimmed-{next(trims)}", lambda p: Path(p).write_text("done"))

    if trace:
        tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR1, snapshot)
    signal.signal(signal.SIGUSR2, trim)
    from veza.cli import main as veza_main

    return veza_main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
