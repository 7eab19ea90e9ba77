"""static/sell.html in headless Chromium, on the sandbox Connect: a creator signs in, sets
up payouts on the sandbox's onboarding page, comes back, and watches a sale arrive live:
the chart, the live list, the payout row and the balance follow."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from tests.static.test_checkout_page import CHROMIUM, CHROMIUM_ARGS
from tests.support import PASSWORD, ApiClient
from tests.veza.api.market_helpers import seller_with_product
from tests.veza.payouts.helpers import buy
from veza.app import create_app

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

expect = playwright_api.expect


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
async def test_a_seller_onboards_and_sees_a_sale_arrive_live(aiohttp_server, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from aiohttp.test_utils import TestClient

    port = _free_port()
    settings_domain = f"http://127.0.0.1:{port}"  # APP_DOMAIN: where onboarding returns to
    server = await aiohttp_server(create_app(settings.replace(transfer_poll_interval=0.05, app_domain=settings_domain)),
                                  port=port)
    client = ApiClient(TestClient(server))
    await client.raw.start_server()
    try:
        seller, product = await seller_with_product(client, title="Night Drive (stems)", price_cents=2999)
        errors: list[str] = []
        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1100, "height": 900})
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(f"{settings_domain}/static/sell.html")
                await page.fill("#login-email", seller.email)
                await page.fill("#login-password", PASSWORD)
                await page.click("#login-form button[type=submit]")
                await expect(page.locator("#account-state")).to_have_text("not set up")
                await expect(page.locator("#transfers-empty")).to_be_visible()
                await page.click("#onboard")
                await page.wait_for_url("**/static/connect-sandbox.html?**")
                await page.click("#enable")
                await page.wait_for_url("**/static/sell.html?onboarding=return")
                await expect(page.locator("#account-state")).to_have_text("payouts enabled")
                await expect(page.locator("#onboard")).to_be_hidden()
                await expect(page.locator("#live")).to_have_text("online")
                await buy(client, product)
                await expect(page.locator("#live-sales li").first).to_contain_text("Night Drive (stems) × 1")
                await expect(page.locator("#chart rect.bar.today")).to_have_attribute("data-gross", "2999")
                await expect(page.locator("#sales-orders")).to_have_text("1")
                await expect(page.locator("#transfers tr .status")).to_have_text("completed", timeout=10_000)
                # The page reads the balance again once the payout row is there (a payout
                # makes the cached balance stale at once).
                await page.reload()
                await expect(page.locator("#transfers tr .status")).to_have_text("completed")
                await expect(page.locator("#available")).to_contain_text("26.99")
                await buy(client, product)  # and one more, live, for the screenshot
                await expect(page.locator("#live-sales li")).to_have_count(1)
                await expect(page.locator("#sales-orders")).to_have_text("2")
                shot = Path(os.environ.get("VEZA_SCREENSHOT_DIR", str(tmp_path))) / "sell-page.png"
                await page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
            finally:
                await browser.close()
        assert errors == []
    finally:
        await client.raw.close()
        await asyncio.sleep(0)
