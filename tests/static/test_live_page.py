"""static/live.html in headless Chromium: live state and viewer count follow the server."""

from __future__ import annotations

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
