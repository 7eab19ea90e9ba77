"""`.env.example` says it lists the defaults: copied as it is, it must give the defaults,
so a fresh machine runs the embedded PostgreSQL and the in-process broker."""

from __future__ import annotations

from pathlib import Path

from veza.config import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"


def _active_settings() -> dict[str, str]:
    """The variables `.env.example` sets (its uncommented lines), as a shell would read them."""
    env = {}
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def test_the_example_leaves_the_database_and_broker_to_their_embedded_defaults() -> None:
    env = _active_settings()
    assert "DATABASE_URL" not in env and "REDIS_URL" not in env
    settings = Settings.from_env({k: v for k, v in env.items() if v})
    assert settings.database_url is None and settings.redis_url is None


def test_the_commented_out_urls_say_what_unset_means() -> None:
    lines = EXAMPLE.read_text().splitlines()
    for key, meaning in (("DATABASE_URL", "embedded PostgreSQL"), ("REDIS_URL", "in-process broker")):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"# {key}="))
        comment = " ".join(lines[max(0, at - 3):at])
        assert "unset" in comment and meaning in comment, key
