"""Starting and stopping the server processes a benchmark measures, and reading their RSS/CPU."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


def run_fast(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine on uvloop when installed: the load generator must stay cheaper
    per frame than the servers it measures (all peers get the same client either way)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-files limit toward `wanted` (up to the hard limit); return it."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def fd_hard_limit() -> int:
    """The most open files a process may have here. Raising the hard limit needs
    CAP_SYS_RESOURCE, which a sandbox or container may not grant even to root."""
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def start(args: list[str], env: dict[str, str | None] | None = None, log_name: str = "server",
          program: str | None = None) -> subprocess.Popen:
    """Run `python args...` (or `program args...`) from the repository root; env values of
    None unset a variable."""
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    log = open(log_dir / f"bench-{log_name}-{os.getpid()}.log", "wb")  # noqa: SIM115 (closed with the process)
    full_env = {**os.environ, **(env or {})}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    return subprocess.Popen([program or sys.executable, *args], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: raise_fd_limit(1 << 20))  # up to the hard limit


async def wait_http(port: int, path: str, proc: subprocess.Popen | None = None, timeout: float = 60.0,
                    status: int | None = None) -> None:
    """Wait until GET path answers (with `status`, when given) or the process dies."""
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} (see its log)")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
                    await resp.read()
                    if status is None or resp.status == status:
                        return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"server on port {port} did not answer {path} within {timeout}s")


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextlib.asynccontextmanager
async def fresh_database(admin_dsn: str | None = None) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (the server migrates it at start-up), dropped after."""
    import asyncpg

    admin_dsn = admin_dsn or os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"veza_bench_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    await run(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_dsn, name)
    finally:
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# What every benchmarked Veza node needs, whoever starts it: all benchmark clients connect
# from 127.0.0.1, so the limiter still counts each request (its cost is measured) but the
# per-IP default (100/s, WebSocket upgrades included) would refuse a load generator, and
# REGISTER_MAX_PER_IP (20 an hour) the users a benchmark registers. Never left to the
# caller's environment: a benchmark run by hand must behave as the smoke test's run.
LOAD_LIMITS: dict[str, str] = {
    "RATE_LIMIT_PER_IP": "1000000000",
    "RATE_LIMIT_GLOBAL": "1000000000",
    "REGISTER_MAX_PER_IP": "1000000000",
}


def veza_env(database_url: str, **extra: str) -> dict[str, str | None]:
    """Environment of a benchmarked Veza node: real PostgreSQL, in-process broker, quiet logs."""
    env: dict[str, str | None] = {
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "JWT_SECRET": "bench-secret-" + "x" * 40,
        "LOG_LEVEL": "WARNING",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
        "VEZA_DATA_DIR": f"/tmp/veza-bench-{os.getpid()}",
        **LOAD_LIMITS,
    }
    env["REDIS_URL"] = None
    env.update(extra)
    return env


def machine() -> str:
    model = "unknown CPU"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs (nproc), {model}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average before the run {load} (shared machine)")


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return (out.stdout.strip() or "unknown") + (" (uncommitted changes)" if dirty else "")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, seconds: float, connections: int, method: str = "GET",
            headers: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(requests/s, p99 ms, non-2xx or socket errors) of one wrk run: a C load generator in
    its own process, so the server (not the client) is what saturates."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(f'wrk.method = "{method}"\n')
        for name, value in (headers or {}).items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
        script.flush()
        done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                               "-s", script.name, url], capture_output=True, text=True, timeout=seconds + 30)
    out = done.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk failed on {url}: {out} {done.stderr}")
    rps = float(found.group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return rps, float(value) * _UNITS[unit], errors


NODE_PEERS = ROOT / "bench" / "peers" / "node"


def node_peers() -> Path:
    """bench/peers/node with its packages installed from the lock file (`npm ci`, again
    whenever package-lock.json is newer than the install). Node 18+ and npm: the Debian
    packages `nodejs` and `npm` (scripts/install-system-deps installs them)."""
    import shutil

    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise SystemExit("the Node.js peers need node (18+) and npm: apt-get install nodejs npm")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0])
    if major < 18:
        raise SystemExit(f"the Node.js peers need Node 18 or newer (found {major})")
    stamp = NODE_PEERS / "node_modules" / ".package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < (NODE_PEERS / "package-lock.json").stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_PEERS, check=True)
    return NODE_PEERS
