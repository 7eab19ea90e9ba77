"""ACCESS_LOG: one `veza.access` line per request (request id, method, route template,
status, duration), none when off; and the server says when it stops."""

from __future__ import annotations

import logging
import re

import pytest

from tests.support import ApiClient
from veza.app import create_app
from veza.config import Settings

LINE = re.compile(r"^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\S+) (\d{3}) (\d+\.\d)ms$")


def _access(caplog) -> list[logging.LogRecord]:  # type: ignore[no-untyped-def]
    return [r for r in caplog.records if r.name == "veza.access"]


async def test_each_request_is_one_line_with_its_id_route_status_and_duration(client: ApiClient, caplog) -> None:
    caplog.set_level(logging.INFO, logger="veza.access")
    user = await client.register()
    caplog.clear()
    reply = await client.get(f"/users/{user.id}", headers={"X-Request-ID": "trace-me-1"})
    assert reply.status == 200
    missing = await client.get("/no/such/route?token=secret")
    assert missing.status == 404
    records = _access(caplog)
    assert len(records) == 2, [r.getMessage() for r in records]
    found, unmatched = records
    assert LINE.match(found.getMessage()), found.getMessage()
    assert found.getMessage().startswith("GET /api/v1/users/{id} 200 ")  # the template, not the id
    assert found.request_id == "trace-me-1"
    assert unmatched.getMessage().startswith("GET /api/v1/no/such/route 404 ")  # no query string
    assert "secret" not in unmatched.getMessage()
    assert unmatched.request_id == missing.headers["X-Request-ID"]


async def test_a_percent_encoded_newline_in_an_unmatched_path_stays_encoded(client: ApiClient, caplog) -> None:
    caplog.set_level(logging.INFO, logger="veza.access")
    async with client.raw.get("/api/v1/x%0Afake%20line") as resp:
        assert resp.status == 404
        assert (await resp.json())["code"] == "not_found"  # the catch-all matches it too
    (record,) = _access(caplog)
    assert "\n" not in record.getMessage() and "%0A" in record.getMessage()


@pytest.fixture
def quiet_settings(settings: Settings) -> Settings:
    return settings.replace(access_log=False)


async def test_access_log_false_writes_no_line(aiohttp_client, quiet_settings: Settings, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    client = ApiClient(await aiohttp_client(create_app(quiet_settings)))
    assert (await client.get("/health")).status == 200
    assert _access(caplog) == []


def test_access_log_setting_reads_true_and_false() -> None:
    assert Settings.from_env({}).access_log is True
    assert Settings.from_env({"ACCESS_LOG": "false"}).access_log is False
    assert Settings.from_env({"ACCESS_LOG": "true"}).access_log is True


async def test_the_server_logs_when_it_stops(aiohttp_client, settings: Settings, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="veza.app")
    raw = await aiohttp_client(create_app(settings))
    await raw.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "veza.app"]
    assert any(line.startswith("Veza stopping") for line in lines), lines
    assert lines[-1].startswith("Veza stopped after "), lines
