"""The worker threads that run CPU work (argon2id, file parsing, PDFs) off the event loop.

They run at a lower scheduling priority than the loop's thread: when hashing and request
handling compete for the same cores, the kernel hands the core to the loop first, so a
login storm queues logins instead of stalling every other request (bench/health_under_login.py).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("veza.cpu")


def _lower_priority(niceness: int) -> None:
    # On Linux a thread is a schedulable task of its own: PRIO_PROCESS with its native id
    # renices only this thread. Elsewhere (or without permission) we just run at normal priority.
    if niceness <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (AttributeError, OSError) as exc:
        log.debug("could not lower the CPU worker priority: %s", exc)


def cpu_pool(workers: int, niceness: int = 10) -> ThreadPoolExecutor:
    """`niceness`: how much lower than the loop the workers run (CPU_WORKER_NICENESS, 0-19)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="veza-cpu", initializer=_lower_priority,
                              initargs=(niceness,))
