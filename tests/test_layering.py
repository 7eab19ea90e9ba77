"""The import rules of docs/architecture.md, read from the source with `ast`.

protocols import nothing of ours; actors never import veza; stores never import the
edges (veza.http, veza.api, veza.ws); domain code never imports aiohttp or the edges;
handlers (veza/api, veza/ws) hold no SQL and write no notification themselves. Imports inside functions and TYPE_CHECKING
blocks count too.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EDGES = ("veza.http", "veza.api", "veza.ws")

# (package directory, forbidden import prefixes, why)
RULES = [
    ("protocols", ("veza", "actors"), "protocols import nothing of ours"),
    ("actors", ("veza",), "actors never import veza: their services are handed to them"),
    ("veza/store", EDGES, "stores raise domain errors and know nothing of the edges"),
    ("veza/domain", ("aiohttp", *EDGES), "domain code knows nothing of HTTP or sockets"),
    # A notification is a side effect of a domain's change, registered by the domain in its
    # unit of work: a handler never writes one itself.
    ("veza/api", ("veza.domain.notifications",), "handlers leave notifications to the domain"),
    ("veza/ws", ("veza.domain.notifications",), "socket handlers leave notifications to the domain"),
]
HANDLERS = ("veza/api", "veza/ws")
SQL = re.compile(r"^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS)\b")
QUERY_METHODS = frozenset({"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table"})


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) for every import; `from a import b` yields both `a` and `a.b`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def violations(source: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted({f"line {line}: {name}" for line, name in imported(ast.parse(source))
                   if any(name == p or name.startswith(p + ".") for p in forbidden)})


def sql_in(source: str) -> list[str]:
    """SQL text and query calls in a module (what a handler must leave to a store)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(f"line {node.lineno}: SQL {node.value.strip()[:40]!r}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in QUERY_METHODS):
            found.append(f"line {node.lineno}: .{node.func.attr}(...)")
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(("package", "forbidden", "why"), RULES, ids=[r[0] for r in RULES])
def test_imports_run_one_way(package: str, forbidden: tuple[str, ...], why: str) -> None:
    files = sources(package)
    assert files, f"no sources under {package}"
    broken = {str(f.relative_to(ROOT)): v for f in files if (v := violations(f.read_text(), forbidden))}
    assert not broken, f"{why}: {broken}"


def test_domain_code_reaches_no_edge_even_through_what_it_imports() -> None:
    """The rules above read each file's own imports; this loads every domain module in a
    fresh interpreter and looks at everything that came with it."""
    probe = ("import importlib, pkgutil, sys, veza.domain\n"
             "for m in pkgutil.iter_modules(veza.domain.__path__):\n"
             "    importlib.import_module('veza.domain.' + m.name)\n"
             "print('\\n'.join(n for n in sys.modules if n.split('.')[0] == 'aiohttp'"
             " or any(n == e or n.startswith(e + '.') for e in %r)))" % (EDGES,))
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == [], "domain code pulls in the edges or aiohttp"


@pytest.mark.parametrize("package", HANDLERS)
def test_handlers_hold_no_sql(package: str) -> None:
    broken = {str(f.relative_to(ROOT)): v for f in sources(package) if (v := sql_in(f.read_text()))}
    assert not broken, f"handlers call the domain or a store, never SQL: {broken}"


@pytest.mark.parametrize(("source", "forbidden", "flagged"), [
    ("from veza.http.errors import NotFound", EDGES, True),
    ("from veza import http", EDGES, True),
    ("import veza.api.users", EDGES, True),
    ("def f():\n    from veza.ws import commands", EDGES, True),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import aiohttp", ("aiohttp",), True),
    ("from aiohttp import web", ("aiohttp",), True),
    ("from veza.domain.errors import NotFound", EDGES, False),
    ("from veza.httpx import thing", EDGES, False),  # a prefix must end at a dot
    ("import msgspec", ("veza", "actors"), False),
    ("from . import sibling", ("veza",), False),
])
def test_the_import_checker_sees_every_kind_of_import(source: str, forbidden: tuple[str, ...], flagged: bool) -> None:
    assert bool(violations(source, forbidden)) is flagged


@pytest.mark.parametrize(("source", "flagged"), [
    ('await conn.fetch("SELECT 1")', True),
    ('q = """\n    UPDATE users SET name = $1"""', True),
    ('await conn.execute(q)', True),
    ('x = "DELETE FROM t"', True),
    ('raise NotFound("Select a stream first")', False),
    ('rows = await store.list_streams(conn, limit=1)', False),
])
def test_the_sql_checker_sees_queries(source: str, flagged: bool) -> None:
    assert bool(sql_in(source)) is flagged
