"""Settings, read once from the environment, typed; errors name the bad key.

Every variable is listed in README.md and .env.example. `Settings.from_env()` is the only
place that reads `os.environ`; the rest of the code receives a `Settings`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def default_hash_workers() -> int:
    """One per CPU, at most 8: each argon2id hash holds ARGON2_MEMORY_KIB while it runs."""
    return min(os.cpu_count() or 2, 8)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Audio formats a track may be uploaded as (names match veza.services.audio).
AUDIO_FORMATS = ("mp3", "flac", "wav", "ogg", "m4a", "aac")


# Who takes the marketplace's payments (veza.services.payments).
PAYMENT_PROVIDERS = ("sandbox", "hyperswitch")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message starts with the variable's name."""


def _int(env: Mapping[str, str], key: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key}: expected an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{key}: must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{key}: expected a number, got {raw!r}") from None


def _positive(env: Mapping[str, str], key: str, default: float) -> float:
    value = _float(env, key, default)
    if value <= 0:
        raise ConfigError(f"{key}: must be > 0, got {value}")
    return value


def _nonnegative(env: Mapping[str, str], key: str, default: float) -> float:
    value = _float(env, key, default)
    if value < 0:
        raise ConfigError(f"{key}: must be >= 0, got {value}")
    return value


def _fraction(env: Mapping[str, str], key: str, default: float) -> float:
    value = _float(env, key, default)
    if not 0 <= value < 1:
        raise ConfigError(f"{key}: must be >= 0 and < 1, got {value}")
    return value


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key}: expected true/false, got {raw!r}")


def _list(env: Mapping[str, str], key: str) -> tuple[str, ...]:
    raw = env.get(key, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _audio_types(env: Mapping[str, str], key: str) -> tuple[str, ...]:
    types = tuple(t.lower() for t in _list(env, key)) or AUDIO_FORMATS
    unknown = [t for t in types if t not in AUDIO_FORMATS]
    if unknown:
        raise ConfigError(f"{key}: unknown audio types {unknown}; known: {', '.join(AUDIO_FORMATS)}")
    return types


def _str(env: Mapping[str, str], key: str, default: str | None = None) -> str | None:
    raw = env.get(key)
    return raw if raw not in (None, "") else default


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    app_env: str = "development"
    host: str = "0.0.0.0"
    port: int = 8080
    app_domain: str = "http://localhost:8080"
    data_dir: Path = Path("data")
    node_id: str = ""

    database_url: str | None = None
    db_pool_min: int = 2
    db_pool_max: int = 20
    redis_url: str | None = None
    # Cluster: key/channel prefix in Redis, presence expiry, how long an out-of-order room
    # event waits for the missing ones before they are read from PostgreSQL.
    redis_prefix: str = "veza:"
    presence_ttl: float = 25.0
    cluster_gap_wait: float = 0.25

    jwt_secret: str | None = None
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 30 * 24 * 3600
    chat_token_ttl: int = 300

    # argon2id cost; RFC 9106's second recommended profile by default.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 1
    # CPU worker threads (argon2id, parsing); they run at a lower priority than the loop.
    hash_workers: int = dataclasses.field(default_factory=lambda: default_hash_workers())
    cpu_worker_niceness: int = 10

    max_body_bytes: int = 1024 * 1024
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    log_level: str = "INFO"
    shutdown_timeout: float = 8.0
    access_log: bool = True  # one line per request (veza.access)
    heap_trim_interval: float = 60.0  # seconds between returns of freed heap memory to the kernel (0: never)

    # WebSocket: per-socket outbound queue cap, inbound token bucket, keep-alive.
    ws_outbox_bytes: int = 1024 * 1024
    ws_rate: float = 10.0
    ws_burst: int = 30
    ws_heartbeat: float = 25.0
    ws_idle_timeout: float = 60.0
    # Track uploads: one source for what POST /tracks enforces and /upload/limits reports.
    upload_max_bytes: int = 100 * 1024 * 1024
    upload_allowed_types: tuple[str, ...] = AUDIO_FORMATS
    # File storage: local disk under data_dir unless an S3 bucket is configured.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # Platform controls (rate limits, brute-force guard, audit, control-plane refresh).
    rate_limit_enabled: bool = True
    rate_limit_global: int = 1000
    rate_limit_per_ip: int = 100
    rate_limit_window: float = 1.0
    rate_limit_key_prefix: str = "veza:rl:"
    rate_limit_sync_interval: float = 0.05
    login_max_failures: int = 10
    login_failure_window: int = 900
    register_max_per_ip: int = 20
    register_window: int = 3600
    validate_rate_limit: int = 30
    validate_rate_window: int = 60
    platform_refresh_interval: float = 30.0

    # Sessions, login throttling and request bodies (issue 20: security hardening).
    refresh_reuse_grace: float = 10.0
    sessions_max_per_user: int = 50
    login_max_failures_per_ip: int = 100
    login_max_failures_per_account: int = 100
    login_delay_after: int = 20
    login_max_delay: int = 60
    body_read_timeout: float = 900.0
    body_min_rate: int = 1024
    body_rate_window: float = 10.0

    # Live streaming: where publishers push and viewers play, and the media-server hooks.
    live_rtmp_url: str = "rtmp://localhost:1935/live"
    live_hls_url: str = "http://localhost:8088/hls"
    # Shared secret the media server sends with every hook (?secret= or X-Hook-Secret);
    # unset means every hook is refused.
    live_hook_secret: str | None = None
    # A live RTMP stream with no on_update heartbeat for this long is ended.
    live_ingest_timeout: float = 60.0
    # stream_viewers is sent at most once per this many seconds per stream.
    live_viewers_interval: float = 1.0

    # Cloud files and gear documents (veza/domain/cloud.py, veza/domain/inventory.py).
    cloud_quota_bytes: int = 5 * 1024**3
    cloud_max_file_bytes: int = 2 * 1024**3
    cloud_max_versions: int = 50
    # Share-link lookups (GET /cloud/shared/:token and its download) per IP and window.
    cloud_share_rate_limit: int = 60
    cloud_share_rate_window: int = 60
    gear_document_max_bytes: int = 10 * 1024**2
    # Marketplace: who takes payments (the in-process sandbox, or Hyperswitch), how long a
    # pending order holds its stock, the platform's cut of each sale, purchase link lifetime.
    payments_provider: str = "sandbox"
    hyperswitch_base_url: str = "https://sandbox.hyperswitch.io"
    hyperswitch_api_key: str | None = None
    # Hyperswitch's payment_response_hash_key; unset in development = generated in data_dir.
    hyperswitch_webhook_secret: str | None = None
    hyperswitch_timeout: float = 10.0
    order_payment_timeout: int = 900
    platform_fee_rate: float = 0.1
    download_link_ttl: int = 300
    # GDPR data exports (issue 18): how often one may be asked for, how long an archive is
    # kept, jobs run at once per node, and how often the worker looks for due work.
    export_min_interval: int = 24 * 3600
    export_retention: int = 7 * 24 * 3600
    export_concurrency: int = 1
    export_poll_interval: float = 30.0
    # Seller payouts (issue 16): Stripe Connect, or the sandbox Connect without a key
    # outside production; the payout worker's retry schedule, poll interval and lease.
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None  # unset in development = generated in data_dir
    stripe_api_base: str | None = None  # another address for Stripe's API (a local fake in tests)
    stripe_timeout: float = 10.0
    platform_currency: str = "EUR"
    transfer_retry_enabled: bool = True
    transfer_max_retries: int = 8
    transfer_retry_base: float = 30.0
    transfer_retry_cap: float = 6 * 3600.0
    transfer_poll_interval: float = 5.0
    transfer_lease: float = 120.0
    balance_cache_ttl: float = 30.0

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def jwt_secret_set(self) -> bool:
        """True when the secret came from configuration rather than the dev fallback."""
        return self.jwt_secret is not None

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        app_env = (_str(env, "APP_ENV", "development") or "development").lower()
        if app_env not in {"development", "test", "production"}:
            raise ConfigError(f"APP_ENV: expected development, test or production, got {app_env!r}")
        port = _int(env, "PORT", 8080, minimum=0)
        settings = cls(
            app_env=app_env,
            host=_str(env, "HOST", "0.0.0.0"),
            port=port,
            app_domain=_str(env, "APP_DOMAIN", f"http://localhost:{port}"),
            data_dir=Path(_str(env, "VEZA_DATA_DIR", "data")),
            node_id=_str(env, "NODE_ID", "") or "",
            database_url=_str(env, "DATABASE_URL"),
            db_pool_min=_int(env, "DB_POOL_MIN", 2, minimum=1),
            db_pool_max=_int(env, "DB_POOL_MAX", 20, minimum=1),
            redis_url=_str(env, "REDIS_URL"),
            redis_prefix=_str(env, "REDIS_PREFIX", "veza:") or "veza:",
            presence_ttl=_float(env, "PRESENCE_TTL", 25.0),
            cluster_gap_wait=_float(env, "CLUSTER_GAP_WAIT", 0.25),
            jwt_secret=_str(env, "JWT_SECRET"),
            access_token_ttl=_int(env, "ACCESS_TOKEN_TTL", 3600, minimum=1),
            refresh_token_ttl=_int(env, "REFRESH_TOKEN_TTL", 30 * 24 * 3600, minimum=1),
            chat_token_ttl=_int(env, "CHAT_TOKEN_TTL", 300, minimum=1),
            argon2_time_cost=_int(env, "ARGON2_TIME_COST", 3, minimum=1),
            argon2_memory_kib=_int(env, "ARGON2_MEMORY_KIB", 65536, minimum=8),
            argon2_parallelism=_int(env, "ARGON2_PARALLELISM", 1, minimum=1),
            hash_workers=_int(env, "HASH_WORKERS", default_hash_workers(), minimum=1),
            cpu_worker_niceness=_int(env, "CPU_WORKER_NICENESS", 10, minimum=0),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            allowed_origins=_list(env, "ALLOWED_ORIGINS"),
            trusted_proxies=_list(env, "TRUSTED_PROXIES"),
            log_level=(_str(env, "LOG_LEVEL", "INFO") or "INFO").upper(),
            shutdown_timeout=_float(env, "SHUTDOWN_TIMEOUT", 8.0),
            access_log=_bool(env, "ACCESS_LOG", True),
            heap_trim_interval=_nonnegative(env, "HEAP_TRIM_INTERVAL", 60.0),
            ws_outbox_bytes=_int(env, "WS_OUTBOX_BYTES", 1024 * 1024, minimum=4096),
            ws_rate=_float(env, "WS_RATE", 10.0),
            ws_burst=_int(env, "WS_BURST", 30, minimum=1),
            ws_heartbeat=_float(env, "WS_HEARTBEAT", 25.0),
            ws_idle_timeout=_float(env, "WS_IDLE_TIMEOUT", 60.0),
            upload_max_bytes=_int(env, "UPLOAD_MAX_BYTES", 100 * 1024 * 1024, minimum=1024),
            upload_allowed_types=_audio_types(env, "UPLOAD_ALLOWED_TYPES"),
            s3_bucket=_str(env, "S3_BUCKET"),
            s3_endpoint_url=_str(env, "S3_ENDPOINT_URL"),
            s3_region=_str(env, "S3_REGION", "us-east-1") or "us-east-1",
            s3_access_key_id=_str(env, "S3_ACCESS_KEY_ID"),
            s3_secret_access_key=_str(env, "S3_SECRET_ACCESS_KEY"),
            rate_limit_enabled=_bool(env, "RATE_LIMIT_ENABLED", True),
            rate_limit_global=_int(env, "RATE_LIMIT_GLOBAL", 1000, minimum=1),
            rate_limit_per_ip=_int(env, "RATE_LIMIT_PER_IP", 100, minimum=1),
            rate_limit_window=_positive(env, "RATE_LIMIT_WINDOW", 1.0),
            rate_limit_key_prefix=_str(env, "RATE_LIMIT_KEY_PREFIX", "veza:rl:") or "veza:rl:",
            rate_limit_sync_interval=_positive(env, "RATE_LIMIT_SYNC_INTERVAL", 0.05),
            login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 10, minimum=1),
            login_failure_window=_int(env, "LOGIN_FAILURE_WINDOW", 900, minimum=1),
            register_max_per_ip=_int(env, "REGISTER_MAX_PER_IP", 20, minimum=1),
            register_window=_int(env, "REGISTER_WINDOW", 3600, minimum=1),
            validate_rate_limit=_int(env, "VALIDATE_RATE_LIMIT", 30, minimum=1),
            validate_rate_window=_int(env, "VALIDATE_RATE_WINDOW", 60, minimum=1),
            platform_refresh_interval=_positive(env, "PLATFORM_REFRESH_INTERVAL", 30.0),
            refresh_reuse_grace=_nonnegative(env, "REFRESH_REUSE_GRACE", 10.0),
            sessions_max_per_user=_int(env, "SESSIONS_MAX_PER_USER", 50, minimum=1),
            login_max_failures_per_ip=_int(env, "LOGIN_MAX_FAILURES_PER_IP", 100, minimum=1),
            login_max_failures_per_account=_int(env, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 100, minimum=1),
            login_delay_after=_int(env, "LOGIN_DELAY_AFTER", 20, minimum=0),
            login_max_delay=_int(env, "LOGIN_MAX_DELAY", 60, minimum=1),
            body_read_timeout=_positive(env, "BODY_READ_TIMEOUT", 900.0),
            body_min_rate=_int(env, "BODY_MIN_RATE", 1024, minimum=0),
            body_rate_window=_positive(env, "BODY_RATE_WINDOW", 10.0),

            live_rtmp_url=_str(env, "LIVE_RTMP_URL", "rtmp://localhost:1935/live"),
            live_hls_url=(_str(env, "LIVE_HLS_URL", "http://localhost:8088/hls") or "").rstrip("/"),
            live_hook_secret=_str(env, "LIVE_HOOK_SECRET"),
            live_ingest_timeout=_float(env, "LIVE_INGEST_TIMEOUT", 60.0),
            live_viewers_interval=_float(env, "LIVE_VIEWERS_INTERVAL", 1.0),

            cloud_quota_bytes=_int(env, "CLOUD_QUOTA_BYTES", 5 * 1024**3, minimum=0),
            cloud_max_file_bytes=_int(env, "CLOUD_MAX_FILE_BYTES", 2 * 1024**3, minimum=1),
            cloud_max_versions=_int(env, "CLOUD_MAX_VERSIONS", 50, minimum=1),
            cloud_share_rate_limit=_int(env, "CLOUD_SHARE_RATE_LIMIT", 60, minimum=1),
            cloud_share_rate_window=_int(env, "CLOUD_SHARE_RATE_WINDOW", 60, minimum=1),
            gear_document_max_bytes=_int(env, "GEAR_DOCUMENT_MAX_BYTES", 10 * 1024**2, minimum=1),
            payments_provider=(_str(env, "PAYMENTS_PROVIDER", "sandbox") or "sandbox").lower(),
            hyperswitch_base_url=(_str(env, "HYPERSWITCH_BASE_URL", "https://sandbox.hyperswitch.io") or "").rstrip("/"),
            hyperswitch_api_key=_str(env, "HYPERSWITCH_API_KEY"),
            hyperswitch_webhook_secret=_str(env, "HYPERSWITCH_WEBHOOK_SECRET"),
            hyperswitch_timeout=_positive(env, "HYPERSWITCH_TIMEOUT", 10.0),
            order_payment_timeout=_int(env, "ORDER_PAYMENT_TIMEOUT", 900, minimum=1),
            platform_fee_rate=_fraction(env, "PLATFORM_FEE_RATE", 0.1),
            download_link_ttl=_int(env, "DOWNLOAD_LINK_TTL", 300, minimum=1),
            export_min_interval=_int(env, "EXPORT_MIN_INTERVAL", 24 * 3600, minimum=0),
            export_retention=_int(env, "EXPORT_RETENTION", 7 * 24 * 3600, minimum=60),
            export_concurrency=_int(env, "EXPORT_CONCURRENCY", 1, minimum=1),
            export_poll_interval=_positive(env, "EXPORT_POLL_INTERVAL", 30.0),
            stripe_secret_key=_str(env, "STRIPE_SECRET_KEY"),
            stripe_webhook_secret=_str(env, "STRIPE_WEBHOOK_SECRET"),
            stripe_api_base=(_str(env, "STRIPE_API_BASE") or "").rstrip("/") or None,
            stripe_timeout=_positive(env, "STRIPE_TIMEOUT", 10.0),
            platform_currency=(_str(env, "PLATFORM_CURRENCY", "EUR") or "EUR").upper(),
            transfer_retry_enabled=_bool(env, "TRANSFER_RETRY_ENABLED", True),
            transfer_max_retries=_int(env, "TRANSFER_MAX_RETRIES", 8, minimum=0),
            transfer_retry_base=_positive(env, "TRANSFER_RETRY_BASE", 30.0),
            transfer_retry_cap=_positive(env, "TRANSFER_RETRY_CAP", 6 * 3600.0),
            transfer_poll_interval=_positive(env, "TRANSFER_POLL_INTERVAL", 5.0),
            transfer_lease=_positive(env, "TRANSFER_LEASE", 120.0),
            balance_cache_ttl=_nonnegative(env, "BALANCE_CACHE_TTL", 30.0),
        )
        if overrides:
            settings = settings.replace(**overrides)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unsafe production configurations, naming every missing variable."""
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if self.cpu_worker_niceness > 19:
            raise ConfigError(f"CPU_WORKER_NICENESS: must be between 0 and 19, got {self.cpu_worker_niceness}")
        if self.payments_provider not in PAYMENT_PROVIDERS:
            raise ConfigError(f"PAYMENTS_PROVIDER: expected one of {', '.join(PAYMENT_PROVIDERS)}, "
                              f"got {self.payments_provider!r}")
        if self.payments_provider == "hyperswitch" and not self.hyperswitch_api_key:
            raise ConfigError("HYPERSWITCH_API_KEY: required when PAYMENTS_PROVIDER=hyperswitch")
        self._check_payouts()
        if not self.production:
            return
        missing = [name for name, value in (("JWT_SECRET", self.jwt_secret), ("DATABASE_URL", self.database_url)) if not value]
        if missing:
            raise ConfigError(f"{', '.join(missing)}: required when APP_ENV=production")
        if self.jwt_secret and len(self.jwt_secret) < 32:
            raise ConfigError("JWT_SECRET: must be at least 32 characters in production")
        if self.payments_provider == "sandbox":
            raise ConfigError("PAYMENTS_PROVIDER: the sandbox takes no real payments; set hyperswitch "
                              "when APP_ENV=production")
        if not self.hyperswitch_webhook_secret:
            raise ConfigError("HYPERSWITCH_WEBHOOK_SECRET: required when APP_ENV=production")
        if not self.stripe_secret_key:
            raise ConfigError("STRIPE_SECRET_KEY: required when APP_ENV=production (the sandbox Connect pays "
                              "no one; sellers are paid through Stripe Connect)")
        if not self.stripe_webhook_secret:
            raise ConfigError("STRIPE_WEBHOOK_SECRET: required when APP_ENV=production")

    def _check_payouts(self) -> None:
        if len(self.platform_currency) != 3 or not self.platform_currency.isalpha():
            raise ConfigError(f"PLATFORM_CURRENCY: expected an ISO 4217 code, got {self.platform_currency!r}")
        if self.balance_cache_ttl > 30:
            raise ConfigError(f"BALANCE_CACHE_TTL: at most 30 seconds, got {self.balance_cache_ttl}")
        if self.transfer_retry_cap < self.transfer_retry_base:
            raise ConfigError("TRANSFER_RETRY_CAP: must be >= TRANSFER_RETRY_BASE")
        if self.transfer_lease < 2 * self.stripe_timeout:
            raise ConfigError(f"TRANSFER_LEASE: must be at least twice STRIPE_TIMEOUT ({2 * self.stripe_timeout}s), "
                              "or a slow attempt's row could be taken over while Stripe still works on it")
