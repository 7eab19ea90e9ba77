"""The client's address: X-Forwarded-For only from TRUSTED_PROXIES, every line of it."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from veza.http.client_info import client_ip

PROXIES = ("127.0.0.1", "10.0.0.0/8")


class _Peer(asyncio.Transport):
    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.address, 40000) if name == "peername" else default


def _ip(peer: str, *forwarded: str) -> str:
    headers = CIMultiDict(("X-Forwarded-For", line) for line in forwarded)
    return client_ip(make_mocked_request("GET", "/", headers=headers, transport=_Peer(peer)), PROXIES)


def test_the_peer_is_the_client_unless_it_is_a_trusted_proxy() -> None:
    assert _ip("198.51.100.1", "203.0.113.9") == "198.51.100.1"
    assert _ip("127.0.0.1", "203.0.113.9") == "203.0.113.9"
    assert _ip("127.0.0.1") == "127.0.0.1"


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    # What the client wrote itself comes first; each trusted proxy appends.
    assert _ip("127.0.0.1", "6.6.6.6, 203.0.113.9, 10.1.2.3") == "203.0.113.9"


def test_a_line_the_proxy_appends_counts_not_only_the_clients_first_line() -> None:
    # HAProxy's `option forwardfor` adds a header line of its own after the client's.
    assert _ip("127.0.0.1", "6.6.6.6", "203.0.113.9") == "203.0.113.9"
    assert _ip("127.0.0.1", "6.6.6.6", "203.0.113.9, 10.0.0.5") == "203.0.113.9"


def test_something_not_an_address_ends_the_walk_at_the_proxy_that_passed_it() -> None:
    assert _ip("127.0.0.1", "203.0.113.9, unknown") == "127.0.0.1"
    assert _ip("127.0.0.1", "203.0.113.9, unknown, 10.0.0.5") == "10.0.0.5"
    assert _ip("127.0.0.1", " , 203.0.113.9 ,") == "203.0.113.9"  # empty items are skipped
    assert _ip("127.0.0.1", "2001:db8::1") == "2001:db8::1"
