"""`veza serve` with tracemalloc on, for the soak's --tracemalloc diagnosis.

    python -m bench.soak.traced_server DIR serve --host ... --port ...

SIGUSR1 writes a snapshot of the Python heap to DIR/snapshot-<n>.pickle (the event loop
waits while it is taken: a diagnosis, never a measurement). Veza itself has no such hook,
and a server started this way allocates several times slower, so its figures are only
read for what grows.
"""

from __future__ import annotations

import itertools
import signal
import sys
import tracemalloc
from pathlib import Path

FRAMES = 12  # enough to see which caller holds what; each frame costs memory per block


def main() -> int:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    numbers = itertools.count(1)

    def dump(_signum: int, _frame: object) -> None:
        path = folder / f"snapshot-{next(numbers)}.pickle"
        tracemalloc.take_snapshot().dump(str(path.with_suffix(".part")))
        path.with_suffix(".part").rename(path)  # whole or absent for whoever waits on it

    tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR1, dump)
    from veza.cli import main as veza_main

    return veza_main(sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
