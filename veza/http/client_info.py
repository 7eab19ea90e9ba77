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


def client_ip(request: web.Request) -> str:
    try:
        return request[keys.client_ip]
    except KeyError:  # (request.get is the slow generic Mapping.get; this runs on every request)
        pass
    peer = request.remote or ""
    proxies = request.app[keys.settings].trusted_proxies
    ip = peer
    if proxies and _trusted(peer, proxies):
        # Walk right to left: the first address not itself a trusted proxy is the client.
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        for hop in reversed(hops):
            ip = hop
            if not _trusted(hop, proxies):
                break
    request[keys.client_ip] = ip
    return ip


def user_agent(request: web.Request) -> str:
    return request.headers.get("User-Agent", "")[:512]
