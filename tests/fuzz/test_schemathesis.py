"""A bounded schemathesis run in the suite: every operation of /api/v1/openapi.json, a few
examples each, anonymously, as a user and as an admin, against a real server; nothing
may answer a 5xx. The long run with every check is `make fuzz` (tests/fuzz/run.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.db import TestDatabase

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_no_operation_answers_a_server_error(test_database: TestDatabase) -> None:
    st = Path(sys.executable).with_name("st")
    if not st.exists() and shutil.which("st") is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    env = {**os.environ, "DATABASE_URL": test_database.admin_dsn}
    done = subprocess.run([sys.executable, "-m", "tests.fuzz.run", "--max-examples", "3", "--checks",
                           "not_a_server_error", "--seed", "20"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)  # a guard against a hung run, not a speed check: ~130 s quiet
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert output.count("== schemathesis as") == 3, output[-3000:]
