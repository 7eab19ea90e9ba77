"""static/live.html in headless Chromium: live state, viewer count and the stream chat follow the server."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import async_playwright, expect

from tests.support import ApiClient
from tests.veza.live_support import HOOK_SECRET, publish_done, publish_rtmp
from tests.veza.ws.test_live import watcher
from veza.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_hook_secret=HOOK_SECRET, live_viewers_interval=0.2)


async def test_live_page_shows_state_and_viewer_count(client: ApiClient) -> None:
    owner = await client.register()
    stream = (await client.post("/live/streams", json={"title": "Browser watch"}, user=owner)).data
    base = f"http://127.0.0.1:{client.raw.server.port}"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{base}/static/live.html?stream={stream['id']}")
            await expect(page.locator("#title")).to_have_text("Browser watch")
            await expect(page.locator("#status")).to_have_attribute("data-live", "false")
            await expect(page.locator("#viewers")).to_have_text("1")
            assert await page.evaluate("typeof Hls === 'function' && Hls.isSupported !== undefined")

            other, _ = await watcher(client, stream["id"])  # a second viewer elsewhere
            await expect(page.locator("#viewers")).to_have_text("2")
            assert (await publish_rtmp(client, stream["stream_key"])).status == 302
            await expect(page.locator("#status")).to_have_attribute("data-live", "true")
            await expect(page.locator("#status")).to_have_text("Live")
            await client.put(f"/live/streams/{stream['id']}", json={"title": "Renamed live"}, user=owner)
            await expect(page.locator("#title")).to_have_text("Renamed live")
            await other.ws.close()
            await expect(page.locator("#viewers")).to_have_text("1")
            await publish_done(client, stream["stream_key"])
            await expect(page.locator("#status")).to_have_attribute("data-live", "false")
            assert stream["stream_key"] not in await page.content()
            assert errors == []
        finally:
            await browser.close()


async def test_signed_in_viewer_chats_on_the_live_page(client: ApiClient) -> None:
    owner, fan = await client.register(), await client.register()
    stream = (await client.post("/live/streams", json={"title": "Chat along"}, user=owner)).data
    base = f"http://127.0.0.1:{client.raw.server.port}"
    auth = json.dumps({"access_token": fan.access_token, "user": {"id": fan.id, "username": fan.username}})
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.add_init_script(f"sessionStorage.setItem('veza.chat.auth', {json.dumps(auth)});")
            await page.goto(f"{base}/static/live.html?stream={stream['id']}")
            await expect(page.locator("#chat-form")).to_be_visible()
            await expect(page.locator("#viewers")).to_have_text("1")
            await page.fill("#chat-input", "hello from the browser")
            await page.click("#chat-form button")
            await expect(page.locator("#messages li")).to_have_text([f"{fan.username}hello from the browser"])
            # Another viewer's message arrives live too.
            other = await watcher(client, stream["id"], owner)
            await other[0].ws.send_json({"type": "join", "room": stream["chat_room_id"]})
            await other[0].next("joined")
            await other[0].ws.send_json({"type": "message", "room": stream["chat_room_id"], "content": "welcome!",
                                         "client_id": "o1"})
            await expect(page.locator("#messages li").nth(1)).to_have_text(f"{owner.username}welcome!")
            await other[0].ws.close()
        finally:
            await browser.close()
