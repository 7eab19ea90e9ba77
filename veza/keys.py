"""Typed application keys: every shared resource of the app lives under one of these.

No module-level singletons: the app factory puts resources here and handlers read them
from `request.app[...]`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from veza.config import Settings
    from veza.db import Database
    from veza.health import HealthChecks
    from veza.http.auth import Authenticator
    from veza.http.openapi import OpenApiRegistry
    from veza.metrics import Metrics
    from veza.security.passwords import PasswordHasher
    from veza.security.tokens import TokenService

settings: web.AppKey[Settings] = web.AppKey("settings")
db: web.AppKey[Database] = web.AppKey("db")
cpu_pool: web.AppKey[ThreadPoolExecutor] = web.AppKey("cpu_pool")
passwords: web.AppKey[PasswordHasher] = web.AppKey("passwords")
tokens: web.AppKey[TokenService] = web.AppKey("tokens")
authenticators: web.AppKey[list[Authenticator]] = web.AppKey("authenticators")
openapi: web.AppKey[OpenApiRegistry] = web.AppKey("openapi")
metrics: web.AppKey[Metrics] = web.AppKey("metrics")
metrics_registry: web.AppKey[CollectorRegistry] = web.AppKey("metrics_registry")
health_checks: web.AppKey[HealthChecks] = web.AppKey("health_checks")
shutting_down: web.AppKey[dict[str, Any]] = web.AppKey("shutting_down")

if TYPE_CHECKING:
    from veza.session_events import SessionEvents

session_events: web.AppKey[SessionEvents] = web.AppKey("session_events")

if TYPE_CHECKING:
    from veza.cluster.session_reader import SessionReader

# Session lookups of requests and socket upgrades, batched (veza.cluster.session_reader).
session_reader: web.AppKey[SessionReader] = web.AppKey("session_reader")
# Domains add entries to the /health/deep config summary and pre-scrape metric refreshers.
config_summary_extra: web.AppKey[dict[str, Any]] = web.AppKey("config_summary_extra")
metric_refreshers: web.AppKey[list[Any]] = web.AppKey("metric_refreshers")

if TYPE_CHECKING:
    from veza.http.edge.edge import Edge

# The edge every route is wrapped with (its settings, counters and platform controls).
edge: web.AppKey[Edge] = web.AppKey("edge")

# Per-request storage, typed the same way.
if TYPE_CHECKING:
    from veza.http.auth import Principal

client_ip: web.RequestKey[str] = web.RequestKey("client_ip", str)
principal: web.RequestKey[Principal | None] = web.RequestKey("principal", object)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from actors import ActorSystem
    from actors.broker import Broker

actors: web.AppKey[ActorSystem] = web.AppKey("actors")
broker: web.AppKey[Broker] = web.AppKey("broker")

if TYPE_CHECKING:
    from actors.hub import Hub
    from veza.ws.commands import Dispatcher

hub: web.AppKey[Hub] = web.AppKey("hub")
ws_dispatcher: web.AppKey[Dispatcher] = web.AppKey("ws_dispatcher")
# Socket clean-ups in flight (they outlive a cancelled handler; shutdown waits for them).
ws_finishing: web.AppKey[set[Any]] = web.AppKey("ws_finishing")
# Tracks and social (veza/services/storage.py, veza/feeds.py).
if TYPE_CHECKING:
    from veza.services.storage import Storage

storage: web.AppKey[Storage] = web.AppKey("storage")
# Platform controls (veza/controls): limits, audit, API keys, flags, maintenance, privacy.
if TYPE_CHECKING:
    from prometheus_client import Counter

    from veza.controls.control_plane import ControlPlane
    from veza.controls.state import PlatformState
    from veza.security.api_keys import KeyUsage
    from veza.security.counters import Counters
    from veza.security.csrf import CsrfTokens
    from veza.security.login_guard import LoginGuard
    from veza.http.edge.rate_limit import RateLimit
    from veza.security.rate_windows import LocalWindows

counters: web.AppKey[Counters] = web.AppKey("counters")
login_guard: web.AppKey[LoginGuard] = web.AppKey("login_guard")
rate_windows: web.AppKey[LocalWindows] = web.AppKey("rate_windows")
rate_limit: web.AppKey[RateLimit] = web.AppKey("rate_limit")  # absent when RATE_LIMIT_ENABLED=false
platform_state: web.AppKey[PlatformState] = web.AppKey("platform_state")
control_plane: web.AppKey[ControlPlane] = web.AppKey("control_plane")
audit_log: web.AppKey[Any] = web.AppKey("audit_log")  # ActorRef[AuditLog]
api_key_usage: web.AppKey[KeyUsage] = web.AppKey("api_key_usage")
csrf: web.AppKey[CsrfTokens] = web.AppKey("csrf")
# Sec-GPC: 1 on this request (CCPA do-not-sell).
do_not_sell: web.RequestKey[bool] = web.RequestKey("do_not_sell", bool)

if TYPE_CHECKING:
    from actors.live_stream import LiveServices

live: web.AppKey[LiveServices] = web.AppKey("live")

if TYPE_CHECKING:
    from veza.live.webrtc import WebRtcSessions

webrtc: web.AppKey[WebRtcSessions] = web.AppKey("webrtc")

if TYPE_CHECKING:
    from veza.cluster.presence import Presence

# Who is in a room / watching a stream, across every node (in-process without Redis).
presence: web.AppKey[Presence] = web.AppKey("presence")

if TYPE_CHECKING:
    from veza.announcements import AnnouncementSchedule

# Scheduled announcements' pushes at their start (`veza.announcements`).
announcement_schedule: web.AppKey[AnnouncementSchedule] = web.AppKey("announcement_schedule")
# The marketplace (veza/services/payments/setup.py): payment provider, webhook secret, links.
if TYPE_CHECKING:
    from veza.services.payments.setup import Marketplace

marketplace: web.AppKey[Marketplace] = web.AppKey("marketplace")

# Seller payouts (veza/services/stripe_connect/setup.py): Connect, the worker, balances.
if TYPE_CHECKING:
    from veza.domain.payouts import Timing
    from veza.services.stripe_connect.setup import Payouts

payouts: web.AppKey[Payouts] = web.AppKey("payouts")
# Optional, set before start-up: the payout rules' clock and jitter (tests inject a fake clock).
payout_timing: web.AppKey[Timing] = web.AppKey("payout_timing")
