"""Settings from the environment: defaults, parsing, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from veza.config import ConfigError, Settings

PROD = {"APP_ENV": "production", "JWT_SECRET": "s" * 40, "DATABASE_URL": "postgresql://db/veza",
        "PAYMENTS_PROVIDER": "hyperswitch", "HYPERSWITCH_API_KEY": "snd_key", "HYPERSWITCH_WEBHOOK_SECRET": "w" * 40,
        "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_" + "s" * 32}


def test_defaults_make_a_complete_development_node() -> None:
    settings = Settings.from_env({})
    assert settings.app_env == "development" and not settings.production
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.app_domain == "http://localhost:8080"
    assert settings.data_dir == Path("data")
    assert settings.database_url is None and settings.redis_url is None and settings.jwt_secret is None
    assert settings.jwt_secret_set is False
    assert settings.access_token_ttl == 3600
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.allowed_origins == ()
    assert 1 <= settings.hash_workers <= 8 and settings.cpu_worker_niceness == 10


def test_every_variable_is_read() -> None:
    env = {
        "APP_ENV": "test", "HOST": "127.0.0.1", "PORT": "9090", "APP_DOMAIN": "https://veza.example",
        "VEZA_DATA_DIR": "/var/lib/veza", "NODE_ID": "node-a", "DATABASE_URL": "postgresql://x/y",
        "DB_POOL_MIN": "3", "DB_POOL_MAX": "7", "REDIS_URL": "redis://r:6379/1", "JWT_SECRET": "secret",
        "ACCESS_TOKEN_TTL": "600", "REFRESH_TOKEN_TTL": "86400", "CHAT_TOKEN_TTL": "120",
        "ARGON2_TIME_COST": "2", "ARGON2_MEMORY_KIB": "32768", "ARGON2_PARALLELISM": "2", "HASH_WORKERS": "3",
        "CPU_WORKER_NICENESS": "5",
        "MAX_BODY_BYTES": "2048", "ALLOWED_ORIGINS": "https://a.example, https://b.example,",
        "TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1", "LOG_LEVEL": "debug", "SHUTDOWN_TIMEOUT": "4.5",
        "REDIS_PREFIX": "c1:", "PRESENCE_TTL": "12", "CLUSTER_GAP_WAIT": "0.5",
    }
    s = Settings.from_env(env)
    assert (s.app_env, s.host, s.port, s.app_domain, s.data_dir, s.node_id) == (
        "test", "127.0.0.1", 9090, "https://veza.example", Path("/var/lib/veza"), "node-a")
    assert (s.database_url, s.db_pool_min, s.db_pool_max, s.redis_url) == ("postgresql://x/y", 3, 7, "redis://r:6379/1")
    assert (s.jwt_secret, s.access_token_ttl, s.refresh_token_ttl, s.chat_token_ttl) == ("secret", 600, 86400, 120)
    assert (s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism, s.hash_workers) == (2, 32768, 2, 3)
    assert s.cpu_worker_niceness == 5
    assert s.max_body_bytes == 2048
    assert s.allowed_origins == ("https://a.example", "https://b.example")
    assert s.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    assert (s.log_level, s.shutdown_timeout) == ("DEBUG", 4.5)
    assert (s.redis_prefix, s.presence_ttl, s.cluster_gap_wait) == ("c1:", 12.0, 0.5)


def test_every_variable_is_documented_in_env_example_and_readme() -> None:
    root = Path(__file__).resolve().parents[2]
    example = (root / ".env.example").read_text()
    readme = (root / "README.md").read_text()
    documented = {line.split("=", 1)[0].lstrip("# ") for line in example.splitlines() if "=" in line}
    source = (root / "veza" / "config.py").read_text()
    import re

    read = set(re.findall(r'_(?:int|float|bool|str|list)\(env, "([A-Z0-9_]+)"', source))
    assert read, "no variables found in config.py?"
    assert read - documented == set(), "missing from .env.example"
    assert {v for v in read if f"`{v}`" not in readme} == set(), "missing from README"


def test_port_follows_into_the_default_domain() -> None:
    assert Settings.from_env({"PORT": "9000"}).app_domain == "http://localhost:9000"


def test_overrides_win_over_the_environment() -> None:
    s = Settings.from_env({"PORT": "9000"}, port=7000, data_dir=Path("/tmp/x"))
    assert s.port == 7000 and s.data_dir == Path("/tmp/x")


@pytest.mark.parametrize(("env", "key"), [
    ({"PORT": "eighty"}, "PORT"),
    ({"PORT": "-1"}, "PORT"),
    ({"DB_POOL_MAX": "0"}, "DB_POOL_MAX"),
    ({"ACCESS_TOKEN_TTL": "1.5"}, "ACCESS_TOKEN_TTL"),
    ({"SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"),
    ({"MAX_BODY_BYTES": "10"}, "MAX_BODY_BYTES"),
    ({"APP_ENV": "staging"}, "APP_ENV"),
    ({"CPU_WORKER_NICENESS": "20"}, "CPU_WORKER_NICENESS"),
    ({"HASH_WORKERS": "0"}, "HASH_WORKERS"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
])
def test_bad_values_name_the_variable(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert str(err.value).startswith(key + ":"), err.value


def test_production_refuses_without_secret_and_database_naming_both() -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"APP_ENV": "production"})
    assert "JWT_SECRET" in str(err.value) and "DATABASE_URL" in str(err.value)


@pytest.mark.parametrize("missing", ["JWT_SECRET", "DATABASE_URL"])
def test_production_names_the_one_missing_variable(missing: str) -> None:
    env = {k: v for k, v in PROD.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    message = str(err.value)
    assert message.startswith(missing)
    other = ({"JWT_SECRET", "DATABASE_URL"} - {missing}).pop()
    assert other not in message


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="^JWT_SECRET: must be at least 32"):
        Settings.from_env({**PROD, "JWT_SECRET": "short"})


def test_production_with_everything_set_starts() -> None:
    settings = Settings.from_env(PROD)
    assert settings.production and settings.jwt_secret_set


def test_empty_values_mean_unset() -> None:
    settings = Settings.from_env({"DATABASE_URL": "", "REDIS_URL": "", "JWT_SECRET": "", "PORT": ""})
    assert settings.database_url is None and settings.redis_url is None and settings.jwt_secret is None
    assert settings.port == 8080


def test_payments_default_to_the_sandbox_outside_production() -> None:
    settings = Settings.from_env({})
    assert settings.payments_provider == "sandbox" and settings.order_payment_timeout == 900
    assert settings.platform_fee_rate == 0.1


def test_production_refuses_the_sandbox_and_a_missing_webhook_secret() -> None:
    with pytest.raises(ConfigError, match="^PAYMENTS_PROVIDER"):
        Settings.from_env({**PROD, "PAYMENTS_PROVIDER": "sandbox"})
    env = {k: v for k, v in PROD.items() if k != "HYPERSWITCH_WEBHOOK_SECRET"}
    with pytest.raises(ConfigError, match="^HYPERSWITCH_WEBHOOK_SECRET"):
        Settings.from_env(env)


@pytest.mark.parametrize("env, name", [
    ({"PAYMENTS_PROVIDER": "stripe"}, "PAYMENTS_PROVIDER"),
    ({"PAYMENTS_PROVIDER": "hyperswitch"}, "HYPERSWITCH_API_KEY"),
    ({"PLATFORM_FEE_RATE": "1.5"}, "PLATFORM_FEE_RATE"),
    ({"PLATFORM_FEE_RATE": "-0.1"}, "PLATFORM_FEE_RATE"),
    ({"ORDER_PAYMENT_TIMEOUT": "0"}, "ORDER_PAYMENT_TIMEOUT"),
    ({"HYPERSWITCH_TIMEOUT": "0"}, "HYPERSWITCH_TIMEOUT"),
])
def test_bad_payment_settings_name_the_variable(env: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}"):
        Settings.from_env(env)
