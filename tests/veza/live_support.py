"""Helpers for live-streaming tests: media-server hook calls as nginx-rtmp sends them."""

from __future__ import annotations

from tests.support import ApiClient, Reply

HOOK_SECRET = "hook-secret-for-tests"


def rtmp_form(name: str, call: str = "publish", clientid: str = "1", **extra: str) -> dict[str, str]:
    return {"app": "live", "flashver": "FMLE/3.0", "swfurl": "", "tcurl": "rtmp://127.0.0.1/live",
            "pageurl": "", "addr": "127.0.0.1", "clientid": clientid, "call": call, "name": name,
            "type": "live", **extra}


async def rtmp_hook(client: ApiClient, hook: str, name: str, call: str, *, clientid: str = "1",
                    secret: str | None = HOOK_SECRET) -> Reply:
    params = {"secret": secret} if secret is not None else {}
    return await client.post(f"/live/hooks/rtmp/{hook}", params=params, data=rtmp_form(name, call, clientid),
                             allow_redirects=False)


async def publish_rtmp(client: ApiClient, key: str, clientid: str = "1") -> Reply:
    return await rtmp_hook(client, "publish", key, "publish", clientid=clientid)


async def publish_done(client: ApiClient, key: str, clientid: str = "1") -> Reply:
    return await rtmp_hook(client, "publish_done", key, "publish_done", clientid=clientid)
