"""Every bench/ entry point, run as BENCHMARKS.md gives it but at a tiny size (a few
sockets, about a second per step), so that a benchmark can no longer rot unseen.

Each runs as its own process, in an environment whose limits would refuse any load
generator (one registration per address, two requests a second): a benchmark must start
its servers with the settings it needs (`bench.procs.LOAD_LIMITS`), not borrow them from
the shell it is run from, as the suite's own REGISTER_MAX_PER_IP once let cluster_fanout
do. Only the exit status and the report's presence are checked: never a number or a time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.db import TestDatabase

ROOT = Path(__file__).resolve().parents[2]
# The suite exports a lifted REGISTER_MAX_PER_IP for its own servers (tests/conftest.py);
# the benchmarks get the opposite.
HOSTILE = {"REGISTER_MAX_PER_IP": "1", "RATE_LIMIT_PER_IP": "2", "RATE_LIMIT_GLOBAL": "2"}
TRACKS_DB = f"veza_bench_smoke_{uuid.uuid4().hex[:8]}"

# (id, argv after `python`, a line the report must contain, tools it needs)
ENTRY_POINTS = [
    ("cluster_fanout", ["bench/cluster_fanout.py", "--subscribers", "3", "--messages", "20", "--window", "4"],
     "cross-node hop", ()),
    ("health_under_login", ["bench/health_under_login.py", "--clients", "2", "--login-workers", "1", "--rounds", "1",
                            "--round-seconds", "1", "--niceness", "0"], "CPU_WORKER_NICENESS=0", ()),
    ("live_viewers", ["bench/live_viewers.py", "--viewers", "4", "--rate", "4", "--steady", "1", "--churn", "1",
                      "--settle", "0.5", "--workers", "1"], "", ()),
    ("middleware_stack", ["bench/middleware_stack.py", "--seconds", "1", "--rounds", "1", "--concurrency", "2"],
     "", ("wrk",)),
    ("tracks_pagination", ["bench/tracks_pagination.py", "--tracks", "60", "--depth", "30", "--samples", "3",
                           "--rounds", "1", "--seconds", "1", "--connections", "2", "--pool", "2", "--fresh",
                           "--database", TRACKS_DB], "", ("wrk",)),
    ("fanout", ["-m", "bench.fanout", "--subscribers", "3", "--client-processes", "1", "--start-deliveries", "20",
                "--publishers", "1", "--step", "1", "--half-seconds", "1", "--budget", "2"], "", ("node", "npm")),
    ("idle_memory", ["-m", "bench.idle_memory", "--sockets", "3", "--client-processes", "1", "--settle", "0.5"], "", ()),
    ("edge_cost", ["bench/edge_cost.py", "--tracks", "60", "--rounds", "1", "--seconds", "1", "--connections", "2",
                   "--pool", "2"], "", ("wrk",)),
    ("checkout", ["bench/checkout.py", "--buyers", "12", "--stock", "4", "--rounds", "1", "--pool", "2"],
     "conditional-update / select-for-update", ()),
    ("soak", ["-m", "bench.soak", "--minutes", "0.5", "--subscribers", "4", "--client-processes", "1",
              "--publishers", "1", "--users", "2", "--rate", "5", "--churn", "0.25"],
     "ok   every acked message delivered", ()),
    ("persist", ["-m", "bench.persist", "--rooms", "2", "--senders", "1", "--seconds", "1", "--rounds", "1",
                 "--pool", "2"], "", ()),
]


def test_every_entry_point_is_listed() -> None:
    """A new benchmark is a new row above, or this fails."""
    scripts = {f"bench/{p.name}" for p in (ROOT / "bench").glob("*.py") if "__main__" in p.read_text()}
    packages = {f"bench.{p.parent.name}" for p in (ROOT / "bench").glob("*/__main__.py")}
    listed = {argv[1] if argv[0] == "-m" else argv[0] for _, argv, _, _ in ENTRY_POINTS}
    assert scripts | packages == listed


@pytest.fixture(scope="module")
def server_dsn(test_database: TestDatabase) -> str:
    """The maintenance DSN of the suite's PostgreSQL (DATABASE_URL or the embedded one)."""
    return test_database.admin_dsn


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "expect", "tools"), [row[1:] for row in ENTRY_POINTS],
                         ids=[row[0] for row in ENTRY_POINTS])
def test_entry_point_runs_at_a_tiny_size(argv: list[str], expect: str, tools: tuple[str, ...], server_dsn: str,
                                         tmp_path: Path) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/install-system-deps installs it)")
    env = {**os.environ, **HOSTILE}
    env.pop("RATE_LIMIT_ENABLED", None)
    env.update(DATABASE_URL=server_dsn, BENCH_LOG_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=240)
    finally:
        if "--database" in argv:
            asyncio.run(_drop(server_dsn, argv[argv.index("--database") + 1]))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert expect in output, output[-4000:]
    assert "Traceback" not in output, output[-4000:]


async def _drop(dsn: str, name: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
