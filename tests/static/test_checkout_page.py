"""static/checkout.html in headless Chromium: a buyer signs in, sees the order the server
priced, presses Pay, and the sandbox's signed webhook makes it paid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import PASSWORD, ApiClient
from tests.veza.api.market_helpers import checkout, seller_with_product

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
expect = playwright_api.expect


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
@pytest.mark.parametrize("button, status", [("#pay", "paid"), ("#decline", "failed")])
async def test_the_buyer_pays_or_declines_on_the_checkout_page(aiohttp_server, app, button: str,  # type: ignore[no-untyped-def]
                                                               status: str) -> None:
    from aiohttp.test_utils import TestClient

    server = await aiohttp_server(app)
    client = ApiClient(TestClient(server))
    await client.raw.start_server()
    try:
        _, product = await seller_with_product(client, title="Tape Loops Vol. 2", price_cents=1250, stock=3)
        buyer = await client.register()
        order = (await checkout(client, buyer, product["id"], 2)).data
        errors: list[str] = []
        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await browser.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(f"http://127.0.0.1:{server.port}{order['checkout_url']}")
                await page.fill("#login-email", buyer.email)
                await page.fill("#login-password", PASSWORD)
                await page.click("#login-form button[type=submit]")
                await expect(page.locator("#order-id")).to_have_text(order["id"])
                await expect(page.locator("#lines tr td").first).to_have_text("Tape Loops Vol. 2")
                await expect(page.locator("#order-status")).to_have_text("pending")
                await expect(page.locator("#total")).to_contain_text("25")
                await page.click(button)
                await expect(page.locator("#order-status")).to_have_text(status)
                await expect(page.locator("#actions")).to_be_hidden()
            finally:
                await browser.close()
        assert errors == []
        reply = await client.get(f"/marketplace/orders/{order['id']}", user=buyer)
        assert reply.data["status"] == status
    finally:
        await client.raw.close()
