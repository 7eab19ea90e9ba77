"""`create_app(settings)`: the one place that wires the application together.

Resources live in `cleanup_ctx` pairs so teardown mirrors setup, in reverse order; every
one of them is in `RESOURCES`, in dependency order, and no setup function adds another.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry

from veza import keys, rooms
from veza.announcements import announcements_ctx
from veza.api.cloud_setup import cloud_ctx
from veza.api.exports import exports_ctx
from veza.api import ROUTERS
from veza.cluster.rooms import cluster_rooms_ctx
from veza.cluster.setup import cluster_ctx
from veza.config import Settings
from veza.cpu import cpu_pool
from veza.controls.setup import controls_ctx, setup_controls
from veza.db import Database, migrate
from veza.health import CheckResult, HealthChecks, disk_check
from veza.heap import frozen_startup_heap, trimmed_heap
from veza.http.edge.edge import Edge
from veza.http.edge.unmatched import add_catch_all
from veza.http.favicon import add_favicon
from veza.http.openapi import OpenApiRegistry
from veza.http.static_files import add_static_files
from veza.http.swagger import mount_swagger
from veza.live.service import live_ctx
from veza.logging_setup import log_lifecycle
from veza.metrics import Metrics
from veza.feeds import feeds_ctx
from veza.realtime import actor_system_ctx
from veza.services.payments.setup import marketplace_ctx
from veza.services.stripe_connect.setup import payouts_ctx
from veza.services.storage import storage_ctx
from veza.security.authenticators import bearer_jwt
from veza.security.passwords import PasswordHasher
from veza.security.tokens import TokenService, load_or_create_dev_secret
from veza.session_events import SessionEvents
from veza.ws import gateway as ws_gateway

log = logging.getLogger("veza.app")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


async def _cpu_pool(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    pool = cpu_pool(settings.hash_workers, settings.cpu_worker_niceness)
    app[keys.cpu_pool] = pool
    app[keys.passwords] = PasswordHasher(
        pool, time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism, max_concurrent=settings.hash_workers * 2,
    )
    yield
    pool.shutdown(wait=False, cancel_futures=True)


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    dsn = settings.database_url
    if dsn is None:
        raise RuntimeError("DATABASE_URL is not set and no embedded database was started (use `veza serve`)")
    db = await Database.connect(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    async with db.connection() as conn:
        applied = await migrate(conn)
    if applied:
        log.info("migrations applied: %s", ", ".join(applied))
    app[keys.db] = db

    async def database_check() -> CheckResult:
        await db.fetchval("SELECT 1")
        return CheckResult("ok")

    app[keys.health_checks].add("database", database_check, critical=True)
    yield
    await db.close()


def _token_service(settings: Settings) -> TokenService:
    secret = settings.jwt_secret or load_or_create_dev_secret(settings.data_dir)
    return TokenService(secret, access_ttl=settings.access_token_ttl, refresh_ttl=settings.refresh_token_ttl,
                        chat_ttl=settings.chat_token_ttl)


# Set up top to bottom, torn down bottom to top: each entry may use what is above it.
RESOURCES = (
    _cpu_pool,  # the CPU thread pool and the password hasher
    _database,  # the pool, migrated
    cluster_ctx,  # with Redis: its broker and presence (before the actors: they use the broker)
    actor_system_ctx,  # the actor system and broker (its teardown drains the actors before the pool closes)
    storage_ctx,
    cloud_ctx,  # frees stored bytes of deleted cloud files and gear documents (storage, the db)
    ws_gateway.gateway_ctx,  # the hub (after the actors: sockets close before actors drain)
    feeds_ctx,  # the Feed and Inbox actors' services (they hold the hub)
    rooms.rooms_ctx,  # the ChatRoom actors' services (the hub, cluster presence)
    announcements_ctx,  # scheduled pushes (the hub)
    controls_ctx,  # rate limits, control plane, audit writer (flushed before the actors drain)
    live_ctx,  # the LiveStream actors' services and WebRTC sessions (the hub)
    cluster_rooms_ctx,  # with Redis: rooms delivered in seq order across nodes (the hub)
    marketplace_ctx,  # payment provider, order expiry, live pushes of orders and sales (the hub, the db)
    exports_ctx,  # the GDPR export worker (the db, storage, the cloud collector, the Inbox actors)
    payouts_ctx,  # Stripe Connect, the PayoutWorker and its ticker (the actors, the db, the feeds' inboxes)
    trimmed_heap,  # freed heap memory back to the kernel, every HEAP_TRIM_INTERVAL seconds
    frozen_startup_heap,  # last: everything started is long-lived
)


def create_app(settings: Settings, *, edge: bool = True) -> web.Application:
    """The app; `edge=False` registers the handlers bare (only the middleware benchmark's
    baseline: no request ids, security headers, controls or envelope for 404s)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[keys.settings] = settings
    app[keys.shutting_down] = {"value": False}
    registry = CollectorRegistry()
    app[keys.metrics_registry] = registry
    app[keys.metrics] = Metrics(registry)
    app[keys.metric_refreshers] = []
    app[keys.config_summary_extra] = {}
    app[keys.health_checks] = HealthChecks()
    app[keys.health_checks].add("disk", disk_check(settings.data_dir), critical=False)
    app[keys.openapi] = OpenApiRegistry()
    app[keys.tokens] = _token_service(settings)
    app[keys.authenticators] = [bearer_jwt]
    app[keys.session_events] = SessionEvents()
    app[keys.edge] = Edge(settings.allowed_origins, app[keys.metrics].requests, settings.production, enabled=edge,
                          access=settings.access_log)

    setup_controls(app)
    app.cleanup_ctx.extend(RESOURCES)
    ws_gateway.setup(app)

    for router in ROUTERS:
        router.add_to(app)
    mount_swagger(app)
    if STATIC_DIR.is_dir():
        add_static_files(app, "/static", STATIC_DIR)
        add_favicon(app, STATIC_DIR)
    if edge:
        add_catch_all(app)  # last

    async def mark_shutting_down(app: web.Application) -> None:
        app[keys.shutting_down]["value"] = True

    app.on_shutdown.insert(0, mark_shutting_down)
    log_lifecycle(app)
    return app
