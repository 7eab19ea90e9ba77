"""Facts about the caller's connection: IP (honouring X-Forwarded-For only from trusted proxies)."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from veza import keys


def _trusted(addr: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for entry in proxies:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


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
    peer = request.remote or ""
    ip = peer
    if _trusted(peer, proxies):
        # Walk right to left: the first address not itself a trusted proxy is the client.
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        for hop in reversed(hops):
            ip = hop
            if not _trusted(hop, proxies):
                break
    request[keys.client_ip] = ip  # resolved once per request
    return ip


def user_agent(request: web.Request) -> str:
    return request.headers.get("User-Agent", "")[:512]
