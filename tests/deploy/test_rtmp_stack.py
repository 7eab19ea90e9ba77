"""The media server of the compose stack fills every placeholder of deploy/nginx-rtmp.conf,
and the rendered config is valid for the real nginx with the rtmp module."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from veza.live.nginx import PLACEHOLDERS, TEMPLATE, render

ROOT = Path(__file__).resolve().parents[2]


def test_template_names_exactly_the_documented_placeholders() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)\}", TEMPLATE.read_text()))
    assert used == set(PLACEHOLDERS)


def test_compose_and_image_fill_every_placeholder() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    rtmp = compose["services"]["rtmp"]
    dockerfile = (ROOT / rtmp["build"]["dockerfile"]).read_text()
    from_image = set(re.findall(r"\b([A-Z_]+)=", dockerfile))
    assert set(PLACEHOLDERS) <= from_image | set(rtmp["environment"])
    substituted = set(re.findall(r"\$\{([A-Z_]+)\}", dockerfile.split("envsubst", 1)[1].split("<", 1)[0]))
    assert substituted == set(PLACEHOLDERS)  # envsubst restricted to them: nginx's $vars survive
    assert rtmp["environment"]["VEZA_HOOK_URL"].endswith("/api/v1/live/hooks/rtmp")
    nodes = [s for s in compose["services"].values() if s.get("command", [])[:2] == ["veza", "serve"]]
    for node in nodes:
        assert "LIVE_HOOK_SECRET" in node["environment"]


def test_rendered_config_passes_nginx_t(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render({"NGINX_PREFIX": tmp_path, "RTMP_LISTEN": "127.0.0.1:1935", "RTMP_PORT": 1935,
                            "HTTP_LISTEN": "127.0.0.1:8088", "HLS_DIR": tmp_path / "hls",
                            "VEZA_HOOK_URL": "http://127.0.0.1:8080/api/v1/live/hooks/rtmp",
                            "LIVE_HOOK_SECRET": "s", "UPDATE_INTERVAL": 10}))
    check = subprocess.run(["/usr/sbin/nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_render_refuses_a_missing_value() -> None:
    import pytest

    with pytest.raises(KeyError, match="RTMP_PORT"):
        render({name: "x" for name in PLACEHOLDERS if name != "RTMP_PORT"})
