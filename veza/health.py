"""Health checks that domains register; /health/deep, /readyz and /status read them.

A critical check failing makes the node unhealthy/not ready; a non-critical one (Redis,
which the node can live without for a while) only degrades it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any


@dataclasses.dataclass(slots=True)
class CheckResult:
    status: str  # "ok" | "degraded" | "error"
    details: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.details:
            out["details"] = self.details
        if self.error:
            out["error"] = self.error
        return out


CheckFn = Callable[[], Awaitable[CheckResult]]


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    name: str
    run: CheckFn
    critical: bool


class HealthChecks:
    def __init__(self, timeout: float = 2.0) -> None:
        self._checks: list[Check] = []
        self._timeout = timeout

    def add(self, name: str, run: CheckFn, *, critical: bool) -> None:
        self._checks.append(Check(name, run, critical))

    async def run_all(self) -> tuple[str, dict[str, dict[str, Any]]]:
        """Returns ("healthy" | "degraded" | "unhealthy", {name: result})."""
        results = await asyncio.gather(*(self._run(c) for c in self._checks))
        overall = "healthy"
        for check, result in zip(self._checks, results):
            if result.status == "ok":
                continue
            if check.critical and result.status == "error":
                overall = "unhealthy"
            elif overall == "healthy":
                overall = "degraded"
        return overall, {c.name: r.as_dict() for c, r in zip(self._checks, results)}

    async def _run(self, check: Check) -> CheckResult:
        try:
            return await asyncio.wait_for(check.run(), self._timeout)
        except TimeoutError:
            return CheckResult("error", error="timed out")
        except Exception as exc:  # a check must report, never raise
            return CheckResult("error", error=type(exc).__name__)


def disk_check(path: Path, min_free_gb: float = 1.0) -> CheckFn:
    async def run() -> CheckResult:
        usage = await asyncio.to_thread(shutil.disk_usage, path if path.exists() else Path("."))
        free_gb = round(usage.free / 1024**3, 1)
        return CheckResult("ok" if free_gb >= min_free_gb else "degraded", {"free_gb": free_gb})

    return run
