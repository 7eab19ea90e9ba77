"""The `veza` command, run as a real process: help, create-admin, migrate, config errors."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.db import TestDatabase, _with_database
from tests.support import ApiClient

ROOT = Path(__file__).resolve().parents[2]
STRONG = "Adm1n-Passw0rd!"


def veza(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_ENV", "JWT_SECRET"}}
    return subprocess.run([sys.executable, "-m", "veza", *args], input=stdin, capture_output=True, text=True,
                          env={**base, **(env or {})}, cwd=ROOT, timeout=timeout)


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "veza"
    assert script.exists(), "pip install -e . should have created the `veza` console script"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "serve" in out.stdout


@pytest.mark.parametrize(("command", "options"), [
    ((), ("serve", "migrate", "create-admin")),
    (("serve",), ("--host", "--port", "--data-dir")),
    (("migrate",), ("--data-dir",)),
    (("create-admin",), ("--email", "--username", "--password-stdin")),
])
def test_help_for_each_command(command: tuple[str, ...], options: tuple[str, ...]) -> None:
    out = veza(*command, "--help")
    assert out.returncode == 0, out.stderr
    for option in options:
        assert option in out.stdout


def test_unknown_command_is_a_usage_error() -> None:
    out = veza("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_production_refuses_to_start_naming_what_is_missing(tmp_path: Path) -> None:
    out = veza("serve", "--port", "0", "--data-dir", str(tmp_path), env={"APP_ENV": "production"})
    assert out.returncode == 2
    assert "JWT_SECRET" in out.stderr and "DATABASE_URL" in out.stderr
    assert not (tmp_path / "pg").exists()  # refused before starting anything


@pytest.mark.slow
async def test_create_admin_reads_the_password_from_stdin(client: ApiClient, test_database: TestDatabase) -> None:
    name = f"admin_{uuid.uuid4().hex[:8]}"
    email = f"{name}@example.com"
    out = await asyncio.to_thread(veza, "create-admin", "--email", email, "--username", name, "--password-stdin",
                                  env={"DATABASE_URL": test_database.dsn}, stdin=STRONG + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("admin created: ") and name in out.stdout
    login = await client.post("/auth/login", json={"email": email, "password": STRONG})
    assert login.status == 200, login.body
    me = await client.get("/users/me", token=login.data["access_token"])
    assert me.data["role"] == "admin" and me.data["username"] == name
    again = await asyncio.to_thread(veza, "create-admin", "--email", email, "--username", name + "x",
                                    "--password-stdin", env={"DATABASE_URL": test_database.dsn}, stdin=STRONG)
    assert again.returncode == 1 and "email" in again.stderr and "already" in again.stderr


@pytest.mark.slow
async def test_create_admin_refuses_a_weak_password_naming_the_rule(client: ApiClient,
                                                                    test_database: TestDatabase) -> None:
    name = f"admin_{uuid.uuid4().hex[:8]}"
    out = await asyncio.to_thread(veza, "create-admin", "--email", f"{name}@example.com", "--username", name,
                                  "--password-stdin", env={"DATABASE_URL": test_database.dsn}, stdin="weak\n")
    assert out.returncode == 2
    assert "at least 8 characters" in out.stderr and "uppercase" in out.stderr
    login = await client.post("/auth/login", json={"email": f"{name}@example.com", "password": "weak"})
    assert login.status == 401


@pytest.mark.slow
async def test_migrate_applies_pending_migrations_once(test_database: TestDatabase) -> None:
    name = f"veza_migrate_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(test_database.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {"DATABASE_URL": _with_database(test_database.admin_dsn, name)}
        first = await asyncio.to_thread(veza, "migrate", env=env)
        assert first.returncode == 0, first.stderr
        assert "0001_foundation" in first.stdout
        second = await asyncio.to_thread(veza, "migrate", env=env)
        assert second.returncode == 0 and "nothing (up to date)" in second.stdout
        conn = await asyncpg.connect(env["DATABASE_URL"])
        try:
            versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
            assert "0001_foundation" in versions and len(versions) == len(set(versions))
            assert await conn.fetchval("SELECT count(*) FROM users") == 0
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_a_bad_setting_is_named_before_anything_starts(tmp_path: Path) -> None:
    out = veza("migrate", "--data-dir", str(tmp_path), env={"LOG_LEVEL": "loud"})
    assert out.returncode == 2 and "LOG_LEVEL" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "pg").exists()


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("migrate",)])
def test_unreachable_database_is_named_without_leaking_the_password(command: tuple[str, ...], tmp_path: Path) -> None:
    dsn = "postgresql://veza:s3cret-pw@127.0.0.1:1/veza"  # nothing listens on port 1
    out = veza(*command, "--data-dir", str(tmp_path), env={"DATABASE_URL": dsn})
    assert out.returncode == 2, out.stderr
    assert "DATABASE_URL: cannot connect to PostgreSQL" in out.stderr
    assert "s3cret-pw" not in out.stderr + out.stdout and "Traceback" not in out.stderr


@pytest.mark.slow
def test_serve_on_a_taken_port_says_so(test_database: TestDatabase, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = veza("serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path),
                   env={"DATABASE_URL": test_database.dsn})
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "Traceback" not in out.stderr
