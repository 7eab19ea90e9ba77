"""The `veza` command: serve, migrate, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import logging
import os
import sys
from pathlib import Path

from veza.config import ConfigError, Settings
from veza.logging_setup import configure_logging

log = logging.getLogger("veza.cli")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["port"] = args.port
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings.from_env(**overrides)


def _with_database(settings: Settings) -> Settings:
    """Without DATABASE_URL, start the embedded PostgreSQL under the data directory."""
    if settings.database_url:
        return settings
    from veza.embedded import start_embedded_postgres

    log.info("DATABASE_URL not set: starting embedded PostgreSQL")
    return settings.replace(database_url=start_embedded_postgres(settings.data_dir))


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from veza.app import create_app

    settings = _with_database(_settings(args))
    app = create_app(settings)
    def listening(_banner: str) -> None:  # run_app calls this once the socket is bound
        log.info("Veza listening on http://%s:%s", settings.host, settings.port)

    try:
        web.run_app(app, host=settings.host, port=settings.port, shutdown_timeout=settings.shutdown_timeout,
                    access_log=None, print=listening)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        print(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from veza.db import Database, migrate

    settings = _with_database(_settings(args))

    async def run() -> list[str]:
        db = await Database.connect(settings.database_url or "", min_size=1, max_size=1)
        try:
            async with db.connection() as conn:
                return await migrate(conn)
        finally:
            await db.close()

    applied = asyncio.run(run())
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("VEZA_ADMIN_PASSWORD"):
        return os.environ["VEZA_ADMIN_PASSWORD"]
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("passwords do not match")
    return first


def cmd_create_admin(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from veza.db import Database, migrate
    from veza.http.errors import ApiError
    from veza.security.passwords import PasswordHasher
    from veza.store import users
    from veza.validation import email_problems, password_problems, username_problems

    password = _read_password(args)
    problems = username_problems(args.username) + email_problems(args.email) + password_problems(password)
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    settings = _with_database(_settings(args))

    async def run() -> dict:
        db = await Database.connect(settings.database_url or "", min_size=1, max_size=1)
        try:
            async with db.connection() as conn:
                await migrate(conn)
                hasher = PasswordHasher(ThreadPoolExecutor(1), time_cost=settings.argon2_time_cost,
                                        memory_kib=settings.argon2_memory_kib,
                                        parallelism=settings.argon2_parallelism, max_concurrent=1)
                return await users.create_user(conn, username=args.username, email=args.email,
                                               password_hash=await hasher.hash(password), role="admin")
        finally:
            await db.close()

    try:
        user = asyncio.run(run())
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"admin created: {user['id']} ({user['username']})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veza", description="Veza realtime music platform backend")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="data directory (embedded PostgreSQL, dev secret); env VEZA_DATA_DIR")

    serve = sub.add_parser("serve", help="run the HTTP/WebSocket server")
    serve.add_argument("--host", help="bind address (env HOST, default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (env PORT, default 8080)")
    common(serve)
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply pending database migrations")
    common(mig)
    mig.set_defaults(func=cmd_migrate)

    admin = sub.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--username", required=True)
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    common(admin)
    admin.set_defaults(func=cmd_create_admin)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # Reading the settings once up front also refuses a bad environment before anything starts.
        configure_logging(Settings.from_env().log_level)
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
