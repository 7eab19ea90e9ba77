"""schemathesis against a real `veza serve`, as a user and as an admin.

    python -m tests.fuzz.run --max-examples 3 --checks not_a_server_error   # the suite's bounded run
    python -m tests.fuzz.run                                                # `make fuzz`: the long run

Starts one server on a fresh database (DATABASE_URL's server, or the embedded one) with
limits a fuzzer does not trip over, registers a user and an admin, then runs `st run`
over /api/v1/openapi.json once per identity. Routes that end the caller's own session
(logout, logout-all) are left out of the signed-in runs: the rest of a run would only see
401s. Exit status: schemathesis's (0 when it found nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.procs import LOAD_LIMITS  # noqa: E402
from tests.db import TestDatabase  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

PASSWORD = "SecureP@ssw0rd"
SELF_ENDING = r"(logout|logout-all)$"
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(base + "/api/v1" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())["data"]


def _identity(base: str, dsn: str, role: str) -> str:
    """A fresh account's access token, with `role` set in the database first."""
    name = f"fuzz_{role}_{uuid.uuid4().hex[:8]}"
    user = _call(base, "POST", "/auth/register", {"username": name, "email": f"{name}@example.com",
                                                 "password": PASSWORD})["user"]
    if role != "user":
        async def promote() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute("UPDATE users SET role = $2 WHERE id = $1", uuid.UUID(user["id"]), role)
            finally:
                await conn.close()

        asyncio.run(promote())
    return _call(base, "POST", "/auth/login", {"email": f"{name}@example.com", "password": PASSWORD})["access_token"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation and identity")
    parser.add_argument("--checks", default="all")
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", default="1")
    parser.add_argument("--as", dest="identities", default="anonymous,user,admin")
    args, extra = parser.parse_known_args()
    st = Path(sys.executable).with_name("st")
    status = 0
    with TestDatabase() as db, tempfile.TemporaryDirectory(prefix="veza-fuzz-") as tmp:
        server = ServerProcess(db.dsn, Path(tmp) / "server.log", **LOAD_LIMITS, RATE_LIMIT_ENABLED="false",
                               LOGIN_MAX_FAILURES="1000000", ACCESS_LOG="false")
        server.start()
        try:
            for identity in args.identities.split(","):
                command = [str(st), "--config-file", str(CONFIG), "run", f"{server.base_url}/api/v1/openapi.json",
                           "--checks", args.checks,
                           "--max-examples", str(args.max_examples), "--phases", args.phases,
                           "--workers", args.workers, "--no-color", "--generation-database", "none",
                           "--suppress-health-check", "all", "--request-timeout", "20", *extra]
                if args.seed is not None:
                    command += ["--seed", str(args.seed)]
                if identity != "anonymous":
                    token = _identity(server.base_url, db.dsn, identity)
                    command += ["-H", f"Authorization: Bearer {token}", "--exclude-path-regex", SELF_ENDING]
                print(f"== schemathesis as {identity}", flush=True)
                env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT)}
                status = subprocess.run(command, cwd=tmp, env=env).returncode or status
        finally:
            server.terminate()
            if "Traceback" in server.log():
                print("server log has a traceback:\n" + server.log()[-5000:])
                status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
