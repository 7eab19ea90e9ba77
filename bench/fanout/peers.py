"""The three servers of the fan-out benchmark, each seen through the same lean client.

A peer knows how to start its server, how a subscriber joins the one room, how the
publisher sends, and which frames are its own control traffic. Every published payload
carries `@T<monotonic ns>@` in its content so any subscriber can time it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import uuid
from typing import ClassVar

import aiohttp

from bench import procs
from bench.wsclient import WsClient, connect

HOST = "127.0.0.1"
PAD = "x" * 96  # makes a delivered frame ~330 bytes for every peer (a short chat line)


def content(t_ns: int) -> str:
    return f"@T{t_ns}@ {PAD}"


def veza_shaped_event(room: str, seq: int, t_ns: int) -> dict:
    """What Veza broadcasts for a message; the other peers carry the same bytes' worth."""
    return {"type": "message", "room": room, "message": {
        "id": str(uuid.uuid4()), "seq": seq, "author": {"id": str(uuid.uuid4()), "username": "bench_publisher"},
        "content": content(t_ns), "client_id": f"bench-{seq}",
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")}}


class Peer:
    name: ClassVar[str]

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.setup: dict = {}
        self.publisher_errors: dict[str, int] = {}
        self.acks = 0

    # -- harness side ---------------------------------------------------------------------
    async def start(self) -> None:
        raise NotImplementedError

    async def prepare(self) -> dict:
        return {}

    async def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc)

    async def pub_open(self) -> WsClient:
        raise NotImplementedError

    def pub_frame(self, seq: int, t_ns: int) -> bytes:
        raise NotImplementedError

    # -- subscriber-process side (static: runs with only `setup`) ---------------------------
    @staticmethod
    def sub_path(setup: dict, index: int) -> str:
        raise NotImplementedError

    @staticmethod
    async def sub_join(client: WsClient, setup: dict, index: int) -> None:
        return None

    @staticmethod
    def on_control(client: WsClient, payload: bytearray) -> None:
        return None


class Bare(Peer):
    name = "bare"

    async def start(self) -> None:
        self.proc = procs.start(["-m", "bench.peers.bare_broadcast", "--port", str(self.port)], log_name="bare")
        await procs.wait_http(self.port, "/nothing", self.proc)

    async def pub_open(self) -> WsClient:
        return await connect(HOST, self.port, "/pub")

    def pub_frame(self, seq: int, t_ns: int) -> bytes:
        return json.dumps(veza_shaped_event("bench", seq, t_ns)).encode()

    @staticmethod
    def sub_path(setup: dict, index: int) -> str:
        return "/sub"


class SocketIO(Peer):
    """Speaks engine.io v4's websocket transport directly: no polling, same client as the others."""

    name = "socketio"

    async def start(self) -> None:
        self.proc = procs.start(["-m", "bench.peers.socketio_server", "--port", str(self.port)], log_name="socketio")
        await procs.wait_http(self.port, "/nothing", self.proc)

    @staticmethod
    async def _handshake(client: WsClient) -> None:
        opened = await client.recv()
        assert opened.startswith(b"0{"), opened  # engine.io OPEN
        client.send_text(b"40")  # socket.io CONNECT to "/"
        connected = await client.recv()
        assert connected.startswith(b"40"), connected

    async def pub_open(self) -> WsClient:
        client = await connect(HOST, self.port, "/socket.io/?EIO=4&transport=websocket&role=pub")
        await self._handshake(client)
        client.on_message = lambda c, payload, now: self.on_control(c, payload)
        return client

    def pub_frame(self, seq: int, t_ns: int) -> bytes:
        return b"42" + json.dumps(["publish", veza_shaped_event("bench", seq, t_ns)]).encode()

    @staticmethod
    def sub_path(setup: dict, index: int) -> str:
        return "/socket.io/?EIO=4&transport=websocket"

    @staticmethod
    async def sub_join(client: WsClient, setup: dict, index: int) -> None:
        await SocketIO._handshake(client)

    @staticmethod
    def on_control(client: WsClient, payload: bytearray) -> None:
        if payload == b"2":  # engine.io PING -> PONG, or the server drops us after 20 s
            client.send_text(b"3")


class Veza(Peer):
    """The real server: `veza serve`, real PostgreSQL (fresh database), persisted sends."""

    name = "veza"
    database_url: str = ""

    async def start(self) -> None:
        env = procs.veza_env(self.database_url, WS_RATE="100000", WS_BURST="100000")
        self.proc = procs.start(["-m", "veza", "serve", "--host", HOST, "--port", str(self.port)], env=env,
                                log_name="veza")
        await procs.wait_http(self.port, "/healthz", self.proc)

    async def prepare(self) -> dict:
        base = f"http://{HOST}:{self.port}/api/v1"
        name = f"bench_{uuid.uuid4().hex[:8]}"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/auth/register", json={
                    "username": name, "email": f"{name}@example.com", "password": "SecureP@ssw0rd"}) as resp:
                access = (await resp.json())["data"]["access_token"]
            headers = {"Authorization": f"Bearer {access}"}
            async with http.post(f"{base}/conversations", json={"name": "fan-out", "type": "public"},
                                 headers=headers) as resp:
                body = await resp.json()
                assert resp.status == 201, body
                room = body["data"]["id"]
            async with http.get(f"{base}/chat/token", headers=headers) as resp:
                token = (await resp.json())["data"]["token"]
        self.setup = {"room": room, "token": token}
        return self.setup

    async def pub_open(self) -> WsClient:
        client = await connect(HOST, self.port, f"/api/v1/ws?token={self.setup['token']}")
        await self.sub_join(client, self.setup, -1)
        client.on_message = self._on_publisher_frame
        return client

    def _on_publisher_frame(self, client: WsClient, payload: bytearray, now: int) -> None:
        if payload.startswith(b'{"type":"ack"'):
            self.acks += 1
        elif b'"type":"error"' in payload:
            code = json.loads(payload).get("code", "?")
            self.publisher_errors[code] = self.publisher_errors.get(code, 0) + 1

    def pub_frame(self, seq: int, t_ns: int) -> bytes:
        return json.dumps({"type": "message", "room": self.setup["room"], "content": content(t_ns),
                           "client_id": f"bench-{seq}", "ref": seq}).encode()

    @staticmethod
    def sub_path(setup: dict, index: int) -> str:
        return "/api/v1/ws"  # anonymous readers of a public room, like a live stream's audience

    @staticmethod
    async def sub_join(client: WsClient, setup: dict, index: int) -> None:
        client.send_text(json.dumps({"type": "join", "room": setup["room"]}))
        while True:
            frame = json.loads(await client.recv(30))
            if frame.get("type") == "joined":
                return
            if frame.get("type") == "error":
                raise RuntimeError(f"join failed: {frame}")


class NodeWs(Bare):
    """Node.js `ws` 8 broadcasting each published frame to every subscriber (bench/peers/node)."""

    name = "node-ws"

    async def start(self) -> None:
        import shutil

        folder = procs.node_peers()
        self.proc = procs.start([str(folder / "ws_broadcast.js"), "--port", str(self.port)], log_name="node-ws",
                                program=shutil.which("node"))
        await procs.wait_http(self.port, "/nothing", self.proc)


class NodeSocketIO(SocketIO):
    """Node.js socket.io 4, one room (bench/peers/node): the same engine.io v4 client as python-socketio's."""

    name = "node-socketio"

    async def start(self) -> None:
        import shutil

        folder = procs.node_peers()
        self.proc = procs.start([str(folder / "socketio_server.js"), "--port", str(self.port)],
                                log_name="node-socketio", program=shutil.which("node"))
        await procs.wait_http(self.port, "/nothing", self.proc)


PEERS: dict[str, type[Peer]] = {peer.name: peer for peer in (Bare, SocketIO, NodeWs, NodeSocketIO, Veza)}


class VezaIdle(Veza):
    """Authenticated sockets that only stay open (memory benchmark): one user and session each."""

    name = "veza-idle"

    async def prepare(self) -> dict:
        return self.setup  # the tokens are minted by the benchmark before the clients start

    @staticmethod
    def sub_path(setup: dict, index: int) -> str:
        return f"/api/v1/ws?token={setup['tokens'][index]}"

    @staticmethod
    async def sub_join(client: WsClient, setup: dict, index: int) -> None:
        return None


PEERS[VezaIdle.name] = VezaIdle
