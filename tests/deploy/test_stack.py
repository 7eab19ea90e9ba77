"""The production stack files: docker-compose.yml is coherent (Docker cannot run here), and
deploy/proxy.conf really proxies HTTP and WebSocket upgrades, checked with a real nginx."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.support import ApiClient

ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARS = set(re.findall(r'_(?:int|float|bool|str|list)\(env, "([A-Z0-9_]+)"',
                             (ROOT / "veza" / "config.py").read_text()))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_whole_stack_with_health_checks(compose: dict) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    nodes = {name: s for name, s in services.items() if s.get("command", [])[:2] == ["veza", "serve"]}
    assert len(nodes) == 2
    assert len({s["image"] for s in nodes.values()}) == 1  # one image, every node the same
    assert len({s["environment"]["NODE_ID"] for s in nodes.values()}) == 2
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx")
    assert any(v.startswith("./deploy/proxy.conf:") for v in proxy["volumes"])
    assert set(proxy["depends_on"]) == set(nodes)


def test_compose_nodes_use_real_settings_and_reach_the_services(compose: dict) -> None:
    for name, service in compose["services"].items():
        if service.get("command", [])[:2] != ["veza", "serve"]:
            continue
        env = service["environment"]
        assert set(env) <= CONFIG_VARS, f"{name}: unknown settings {set(env) - CONFIG_VARS}"
        assert env["APP_ENV"] == "production"
        assert "@postgres:5432/" in env["DATABASE_URL"] and env["REDIS_URL"].startswith("redis://redis:")
        assert "JWT_SECRET" in env
        assert {"postgres", "redis"} <= set(service["depends_on"])
        for condition in service["depends_on"].values():
            assert condition["condition"] == "service_healthy"


def test_dockerfile_runs_veza_serve() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]", dockerfile, re.M)
    assert 'CMD ["veza", "serve"]' in dockerfile and "HEALTHCHECK" in dockerfile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def backend(client: ApiClient) -> ApiClient:
    """The real app (REST and the WebSocket gateway) behind the proxy."""
    return client


@pytest.fixture
async def proxy(backend: ApiClient, tmp_path: Path) -> AsyncIterator[str]:
    """Real nginx running deploy/proxy.conf, with both upstream nodes pointed at the test server."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (scripts/install-system-deps installs it)")
    port = _free_port()
    upstream = f"127.0.0.1:{backend.raw.server.port}"
    conf = (ROOT / "deploy" / "proxy.conf").read_text()
    conf = conf.replace("veza-1:8080", upstream).replace("veza-2:8080", upstream)
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    (tmp_path / "proxy.conf").write_text(conf)
    temp = tmp_path / "temp"
    temp.mkdir()
    (tmp_path / "nginx.conf").write_text(f"""
daemon off; master_process off; worker_processes 1;
pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    include {tmp_path}/proxy.conf;
}}
""")
    check = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([nginx, "-c", str(tmp_path / "nginx.conf")], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
async def test_proxy_forwards_http_with_the_request_id(proxy: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(proxy + "/api/v1/health", headers={"X-Request-ID": "trace-proxy-1"}) as resp:
            assert resp.status == 200 and (await resp.json())["data"]["status"] == "ok"
            assert resp.headers["X-Request-ID"] == "trace-proxy-1"
            assert resp.headers["X-Frame-Options"] == "DENY"
        async with http.get(proxy + "/healthz") as resp:  # the proxy's own health check path
            assert resp.status == 200
        async with http.get(proxy + "/api/v1/health") as resp:  # no id from the client: nginx mints one
            assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])
        async with http.post(proxy + "/api/v1/auth/login", data=b"{", headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == "invalid"


@pytest.mark.slow
async def test_proxy_upgrades_websockets_on_both_paths(proxy: str) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/ws", "/api/v1/ws"):
            async with http.ws_connect(proxy.replace("http", "ws") + path) as ws:
                await ws.send_json({"type": "ping", "ref": path})
                reply = await ws.receive_json(timeout=5)
                assert reply["type"] == "pong" and reply["ref"] == path, reply
