"""CPU worker threads run below the event loop's priority, so hashing cannot starve requests."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from veza.cpu import cpu_pool


def _own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are a Linux feature")
def test_workers_run_at_a_lower_priority_than_the_caller() -> None:
    base = _own_niceness()
    pool = cpu_pool(2, niceness=10)
    try:
        worker = pool.submit(_own_niceness).result()
    finally:
        pool.shutdown()
    assert worker == min(19, base + 10)
    assert _own_niceness() == base  # only the worker threads changed


def test_niceness_zero_leaves_workers_alone() -> None:
    pool = cpu_pool(1, niceness=0)
    try:
        assert pool.submit(_own_niceness).result() == _own_niceness()
    finally:
        pool.shutdown()
