"""A lean WebSocket client (an asyncio.Protocol) for load generation.

A benchmark's client must cost the machine far less per frame than the server it
measures, so this one does only what RFC 6455 asks of a client: the upgrade request,
masked outgoing frames, answering pings, and the close handshake. Every peer of a
benchmark is measured through this same client.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from time import monotonic_ns as time_ns  # CLOCK_MONOTONIC: one clock for every process here

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA

# on_message(client, payload, now_ns_of_this_read)
MessageHandler = Callable[["WsClient", bytearray, int], None]


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A masked client frame (clients must mask; the key only has to be fresh)."""
    length = len(payload)
    head = bytearray([(0x80 if fin else 0) | opcode])
    if length < 126:
        head.append(0x80 | length)
    elif length < 1 << 16:
        head.append(0x80 | 126)
        head += struct.pack("!H", length)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", length)
    mask = os.urandom(4)
    if not length:
        return bytes(head) + mask
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    return bytes(head) + mask + masked


class WsClient(asyncio.Protocol):
    """One client socket. Messages go to `on_message` if set, else to `inbox`."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.request = self._upgrade_request(host, port, path, headers or {})
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.on_message: MessageHandler | None = None
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.close_code: int | None = None
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._upgraded = False

    @staticmethod
    def _upgrade_request(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before upgrade: {exc}"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                self.opened.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()  # type: ignore[union-attr]
                return
            del buf[:end + 4]
            self._upgraded = True
            self.opened.set_result(None)
        self._parse(time_ns())

    def _parse(self, now: int) -> None:
        buf, pos, size = self._buf, 0, len(self._buf)
        while size - pos >= 2:
            length, header = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, header = (buf[pos + 2] << 8) | buf[pos + 3], 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, header = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            end = pos + header + length
            if end > size:
                break
            opcode = buf[pos] & 0x0F
            payload = buf[pos + header:end]
            pos = end
            if opcode <= OP_BINARY:  # servers here never fragment, so continuation is not expected
                if self.on_message is not None:
                    self.on_message(self, payload, now)
                else:
                    self.inbox.put_nowait(bytes(payload))
            elif opcode == OP_PING:
                self.send_frame(OP_PONG, bytes(payload))
            elif opcode == OP_CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.send_frame(OP_CLOSE, bytes(payload[:2]))
                self.transport.close()  # type: ignore[union-attr]
        if pos:
            del buf[:pos]

    # -- API ------------------------------------------------------------------------------
    def send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload))

    def send_text(self, payload: bytes | str) -> None:
        self.send_frame(OP_TEXT, payload.encode() if isinstance(payload, str) else payload)

    async def recv(self, timeout: float = 10.0) -> bytes:
        return await asyncio.wait_for(self.inbox.get(), timeout)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    async def close(self, code: int = 1000) -> None:
        self.send_frame(OP_CLOSE, struct.pack("!H", code))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), 2)
        except (asyncio.TimeoutError, ConnectionError):
            self.abort()


async def connect(host: str, port: int, path: str, headers: dict[str, str] | None = None,
                  timeout: float = 30.0, source: str | None = None) -> WsClient:
    """`source`: the local address to connect from (127.0.0.x: each gives ~28,000 ports)."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: WsClient(host, port, path, headers), host, port,
                               local_addr=(source, 0) if source else None), timeout)
    await asyncio.wait_for(asyncio.shield(client.opened), timeout)
    return client
