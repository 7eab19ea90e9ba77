"""Instructions per request of a server process, counted by valgrind's callgrind.

Wall-clock throughput on a shared 2-core machine moves 10-20% between runs; the number of
user-space instructions a server executes per request does not (the same count to 0.01%
whatever else runs). It misses what the kernel does (syscalls) and cache misses, so it
complements the wrk figures rather than replacing them.

    with callgrind_server([sys.executable, "server.py", ...], port) as server:
        per_request = server.count(raw_request, warmup=200, requests=1000)

The server starts under callgrind with instrumentation off (start-up is slow enough
without it), is warmed up, then instrumentation goes on, the counters are zeroed, and a
plain blocking socket client sends `requests` keep-alive requests one after another.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def available() -> bool:
    return shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None


class KeepAliveClient:
    """One HTTP/1.1 connection, one request at a time (no client library on the measured path)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, raw: bytes) -> int:
        """Send one request; read its whole answer; return the status."""
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self.buffer:
            self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if length is None:
            raise RuntimeError(f"no Content-Length in {head!r}")
        size = int(length.group(1))
        while len(self.buffer) < size:
            self._recv()
        self.buffer = self.buffer[size:]
        return int(head.split(b" ", 2)[1])

    def _recv(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


class CallgrindServer:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc, self.port = proc, port

    def _control(self, *args: str) -> str:
        done = subprocess.run(["callgrind_control", *args, str(self.proc.pid)], capture_output=True, text=True,
                              timeout=120)
        if done.returncode:
            raise RuntimeError(f"callgrind_control {args}: {done.stdout} {done.stderr}")
        return done.stdout

    def wait_ready(self, raw: bytes, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server under callgrind exited with {self.proc.returncode}")
            try:
                client = KeepAliveClient(self.port)
                try:
                    client.exchange(raw)
                    return
                finally:
                    client.close()
            except OSError:
                time.sleep(1.0)
        raise TimeoutError("server under callgrind did not answer")

    def count(self, raw: bytes, *, warmup: int = 200, requests: int = 1000, status: int = 200) -> float:
        """Instructions per request over `requests` exchanges on one keep-alive connection."""
        client = KeepAliveClient(self.port)
        try:
            for _ in range(warmup):
                client.exchange(raw)
            self._control("--instr=on")
            self._control("--zero")
            for _ in range(requests):
                got = client.exchange(raw)
                if got != status:
                    raise RuntimeError(f"answered {got}, expected {status}")
            out = self._control("-e", "Ir")  # the totals since the zero
            self._control("--instr=off")
        finally:
            client.close()
        per_thread = re.findall(r"^\s*Th\s+\d+\s+([\d,]+)", out, re.M)
        if not per_thread:
            raise RuntimeError(f"no instruction count in: {out}")
        return sum(int(n.replace(",", "")) for n in per_thread) / requests


@contextlib.contextmanager
def callgrind_server(argv: list[str], port: int, cwd: Path = ROOT) -> Iterator[CallgrindServer]:
    # A fixed hash seed: set and dict layouts, and so the counts, repeat from run to run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
                             *argv], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield CallgrindServer(proc, port)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
