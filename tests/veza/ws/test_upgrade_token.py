"""The upgrade's `?token=` is read off the raw query (nothing parsed is kept per socket)."""

from __future__ import annotations

import time
import uuid

from aiohttp.test_utils import make_mocked_request

from veza.config import Settings
from veza.ws.connection import Connection, ConnectionLimits, Identity
from veza.ws.gateway import _query_token, _receive_timeout


def test_the_token_is_read_from_the_raw_query_decoded() -> None:
    def token(path: str) -> str | None:
        return _query_token(make_mocked_request("GET", path))

    assert token("/api/v1/ws?token=a.b-c_d") == "a.b-c_d"
    assert token("/api/v1/ws?x=1&token=a%2Bb%3D&y=2") == "a+b="
    assert token("/api/v1/ws?token=&x=1") is None
    assert token("/api/v1/ws?notatoken=1") is None
    assert token("/api/v1/ws") is None
    assert token("/api/v1/ws?mytoken=x&token=y") == "y"  # the name itself, not a suffix of another
    assert token("/api/v1/ws?token=a+b") == "a b"  # "+" as parse_qsl reads it
    assert token("/api/v1/ws?token=abc#frag") == "abc"
    assert token("/api/v1/ws?token=first&token=second") == "first"


def test_the_read_loop_keeps_its_idle_clock_only_when_the_heartbeat_is_slower(settings: Settings) -> None:
    assert _receive_timeout(settings.replace(ws_heartbeat=25.0, ws_idle_timeout=60.0)) is None
    assert _receive_timeout(settings.replace(ws_heartbeat=30.0, ws_idle_timeout=0.5)) == 0.5
    assert _receive_timeout(settings.replace(ws_heartbeat=0.0, ws_idle_timeout=60.0)) == 60.0


def test_the_inbound_bucket_starts_full_and_refills_at_its_rate() -> None:
    """The bucket is kept only from the first frame on (an idle socket holds no numbers), and
    still starts full: `burst` frames at once, then it refills at `rate`."""
    conn = Connection(None, None, ConnectionLimits(rate=10.0, burst=3))  # type: ignore[arg-type]
    assert [conn.take_token() for _ in range(4)] == [True, True, True, False]
    time.sleep(0.15)  # at least 1.5 frames' worth at 10/s (a slow machine only refills more)
    assert conn.take_token()
    assert conn.state == {} and conn.state is conn.state  # made once, on first use


def test_a_connection_keeps_who_it_is_and_takes_a_new_role() -> None:
    user, session = uuid.uuid4(), uuid.uuid4()
    conn = Connection(None, Identity(user, "ada", "user", session), ConnectionLimits())  # type: ignore[arg-type]
    assert conn.authenticated and conn.identity == Identity(user, "ada", "user", session)
    conn.set_role("creator")
    assert conn.role == "creator" and conn.identity == Identity(user, "ada", "creator", session)
    anonymous = Connection(None, None, ConnectionLimits())  # type: ignore[arg-type]
    anonymous.set_role("admin")  # nobody to promote
    assert not anonymous.authenticated and anonymous.identity is None and anonymous.role is None
