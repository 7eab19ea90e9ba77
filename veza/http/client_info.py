"""Facts about the caller's connection: IP (honouring X-Forwarded-For only from trusted
proxies), user agent, and client text made fit to store."""

from __future__ import annotations

import functools
import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from aiohttp import web

from veza import keys

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES parsed once (entries that are not addresses or networks are skipped)."""
    networks = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: web.Request, proxies: tuple[str, ...] | None = None) -> str:
    """`proxies`: TRUSTED_PROXIES, when the caller has them at hand (else read from the app)."""
    if proxies is None:
        proxies = request.app[keys.settings].trusted_proxies
    if not proxies:  # the common case, on every request: the peer is the client
        return request.remote or ""
    try:
        return request[keys.client_ip]
    except KeyError:
        pass
    networks = _networks(proxies)
    ip = request.remote or ""
    addr = _address(ip)
    if addr is not None and any(addr in net for net in networks):
        # Every X-Forwarded-For line, in order: a proxy may append a line of its own rather
        # than extend the client's, and the client's own lines come first. Walk right to
        # left: the first address not itself a trusted proxy is the client; something that
        # is not an address ends the walk at the proxy that passed it on.
        hops = ",".join(request.headers.getall("X-Forwarded-For", ())).split(",")
        for hop in reversed(hops):
            addr = _address(hop)
            if addr is None:
                if hop.strip():
                    break
                continue
            ip = str(addr)
            if not any(addr in net for net in networks):
                break
    request[keys.client_ip] = ip  # resolved once per request
    return ip


# What PostgreSQL text refuses: NUL (`%00` in a path), and lone surrogates (the bytes of a
# header value that are not UTF-8, as aiohttp decodes them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """Whether a text column takes `text` as it is (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(text) is None


def storable(text: str, limit: int) -> str:
    """Client-supplied text as a text column takes it: unstorable characters replaced by
    U+FFFD, at most `limit` characters. Callers check `text.isascii()` and NUL first (both
    C-level) and call this only when either trips."""
    return _UNSTORABLE.sub("\ufffd", text[:limit])


def user_agent(request: web.Request) -> str:
    agent = request.headers.get("User-Agent", "")
    return agent[:512] if agent.isascii() else storable(agent, 512)  # headers cannot hold NUL
