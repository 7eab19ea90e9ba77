"""Real media tools for tests: nginx-rtmp from `deploy/nginx-rtmp.conf`, and ffmpeg pushing RTMP."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from veza.live.nginx import render

NGINX = "/usr/sbin/nginx"
FFMPEG = "/usr/bin/ffmpeg"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


def tools_missing() -> str | None:
    for path in (NGINX, FFMPEG, str(RTMP_MODULE)):
        if not os.path.exists(path):
            return f"{path} not installed (scripts/install-system-deps)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MediaServer:
    rtmp_port: int
    http_port: int
    hls_dir: Path
    prefix: Path

    def publish_url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key}"

    def hls_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.http_port}/hls/{name}.m3u8"

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text() if path.exists() else ""


async def stop(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> None:
    """Signal (nginx: SIGQUIT stops the master and its workers), then kill if it lingers."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def nginx_rtmp(hook_url: str, secret: str, update_interval: int = 1) -> AsyncIterator[MediaServer]:
    """nginx with the deploy config on free loopback ports; stopped (with its workers) on exit."""
    # Not under pytest's 0700 tmp: nginx workers run as an unprivileged user and write HLS here.
    prefix = Path(tempfile.mkdtemp(prefix="veza-nginx-"))
    prefix.chmod(0o755)
    server = MediaServer(free_port(), free_port(), prefix / "hls", prefix)
    conf = prefix / "nginx.conf"
    conf.write_text(render({
        "NGINX_PREFIX": prefix, "RTMP_LISTEN": f"127.0.0.1:{server.rtmp_port}", "RTMP_PORT": server.rtmp_port,
        "HTTP_LISTEN": f"127.0.0.1:{server.http_port}", "HLS_DIR": server.hls_dir, "VEZA_HOOK_URL": hook_url,
        "LIVE_HOOK_SECRET": secret, "UPDATE_INTERVAL": update_interval,
    }))
    proc = await asyncio.create_subprocess_exec(NGINX, "-p", str(prefix), "-c", str(conf),
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await _wait_listening(server.rtmp_port, proc)
        yield server
    finally:
        await stop(proc, signal.SIGQUIT)
        shutil.rmtree(prefix, ignore_errors=True)


async def _wait_listening(port: int, proc: asyncio.subprocess.Process, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if proc.returncode is not None:
                err = await proc.stderr.read() if proc.stderr else b""
                raise RuntimeError(f"nginx exited: {err.decode(errors='replace')}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)


async def ffmpeg_push(url: str, seconds: float = 4.0) -> asyncio.subprocess.Process:
    """Start pushing a test pattern and a tone, in real time, to `url`."""
    proc = await asyncio.create_subprocess_exec(
        FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin",
        "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
        "-re", "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", url,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    return proc


async def finish(proc: asyncio.subprocess.Process, timeout: float = 30.0) -> int:
    try:
        return await asyncio.wait_for(proc.wait(), timeout)
    finally:
        await stop(proc)
