"""Wire the platform controls into an app: the per-request controls the edge
calls, the API-key authenticator, and one cleanup_ctx that owns the counters, the control
plane and the audit writer."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from veza import keys
from veza.controls.audit import start_audit
from veza.controls.control_plane import ControlPlane
from veza.controls.state import PlatformState
from veza.health import CheckResult
from veza.http.edge.controls import RequestControls
from veza.http.edge.rate_limit import RateLimit
from veza.security.api_keys import KeyUsage, api_key_authenticator
from veza.security.counters import RedisCounters, counters_for
from veza.security.csrf import CsrfTokens
from veza.security.rate_windows import LocalWindows, SyncedWindows
from veza.security.tokens import load_or_create_dev_secret
from veza.security.login_guard import LoginGuard


def setup_controls(app: web.Application) -> None:
    """Call from create_app after the authenticators are set up; `controls_ctx` is listed
    in create_app's resources (after the actor system)."""
    app[keys.authenticators].append(api_key_authenticator)
    app[keys.platform_state] = PlatformState()
    settings = app[keys.settings]
    app[keys.csrf] = CsrfTokens(settings.jwt_secret or load_or_create_dev_secret(settings.data_dir))


async def controls_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    counters = counters_for(settings)
    app[keys.counters] = counters
    app[keys.login_guard] = LoginGuard.from_settings(counters, settings)
    windows = (SyncedWindows(settings.rate_limit_window, counters, settings.rate_limit_sync_interval)
               if isinstance(counters, RedisCounters) else LocalWindows(settings.rate_limit_window))
    await windows.start()
    app[keys.rate_windows] = windows
    if settings.rate_limit_enabled:
        app[keys.rate_limit] = RateLimit(windows, per_ip=settings.rate_limit_per_ip, total=settings.rate_limit_global,
                                         window=settings.rate_limit_window)
    if isinstance(counters, RedisCounters):
        async def counters_check() -> CheckResult:
            await counters.ping()
            return CheckResult("ok")

        app[keys.health_checks].add("rate_limit_store", counters_check, critical=False)
    app[keys.api_key_usage] = usage = KeyUsage(app[keys.db])
    control = ControlPlane(app[keys.platform_state], app[keys.db], app[keys.broker], settings.platform_refresh_interval)
    await control.start()
    app[keys.control_plane] = control
    edge = app[keys.edge]
    audit = start_audit(app)
    edge.controls = RequestControls(app.get(keys.rate_limit), app[keys.platform_state], audit,
                                    settings.trusted_proxies)
    yield
    edge.controls = None
    audit.flush()  # before the actor system drains (its cleanup runs after this one)
    await control.stop()
    await usage.close()
    await windows.close()
    await counters.close()

