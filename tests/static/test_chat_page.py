"""static/chat.html in headless Chromium: two people talk, type, see each other, survive a drop.

The page is served by the real app (test server, real PostgreSQL); each browser reaches it
through its own TCP proxy so the test can cut one person's network for real.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest

from tests.support import PASSWORD
from tests.tcp_proxy import TcpProxy

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
expect = playwright_api.expect


async def _register(page, name: str) -> None:  # type: ignore[no-untyped-def]
    await page.fill("#register-username", name)
    await page.fill("#register-email", f"{name}@example.com")
    await page.fill("#register-password", PASSWORD)
    await page.click("#register-form button[type=submit]")
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.locator("#status")).to_have_text("online")


def _messages(page):  # type: ignore[no-untyped-def]
    return page.locator("#messages .message:not(.pending) .content")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
async def test_two_people_chat_live_and_one_recovers_after_a_network_drop(aiohttp_server, app):  # type: ignore[no-untyped-def]
    server = await aiohttp_server(app)
    proxies = [await TcpProxy(server.port).start() for _ in range(2)]
    alice_name, bob_name = f"alice_{uuid.uuid4().hex[:6]}", f"bob_{uuid.uuid4().hex[:6]}"
    console_errors: list[str] = []
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            alice_ctx, bob_ctx = await browser.new_context(), await browser.new_context()
            alice, bob = await alice_ctx.new_page(), await bob_ctx.new_page()
            for page in (alice, bob):
                page.on("pageerror", lambda exc: console_errors.append(str(exc)))
            await alice.goto(f"http://127.0.0.1:{proxies[0].port}/static/chat.html")
            await _register(alice, alice_name)
            await alice.fill("#room-name", "Listening party")
            await alice.click("#create-room button[type=submit]")
            await expect(alice.locator("#room-title")).to_have_text("Listening party")
            await expect(alice.locator("#message-input")).to_be_enabled()
            room_id = re.search(r"room=([0-9a-f-]{36})", alice.url).group(1)  # type: ignore[union-attr]

            # Bob follows the room link, signs up, and lands in the room.
            await bob.goto(f"http://127.0.0.1:{proxies[1].port}/static/chat.html#room={room_id}")
            await _register(bob, bob_name)
            await expect(bob.locator("#message-input")).to_be_enabled()
            await expect(bob.locator("#room-title")).to_have_text("Listening party")
            await expect(alice.locator("#presence")).to_contain_text(bob_name)
            await expect(bob.locator("#presence")).to_contain_text(alice_name)

            # Typing, then messages both ways.
            await bob.type("#message-input", "hey")
            await expect(alice.locator("#typing")).to_contain_text(f"{bob_name} is typing")
            await bob.fill("#message-input", "hi alice, are you listening?")
            await bob.press("#message-input", "Enter")
            await expect(_messages(alice)).to_have_text(["hi alice, are you listening?"])
            await alice.fill("#message-input", "yes! track 3 is great")
            await alice.click("#send")
            await expect(_messages(bob)).to_have_text(["hi alice, are you listening?", "yes! track 3 is great"])

            # Bob's network drops; alice keeps talking; bob's page reconnects and recovers.
            proxies[1].hold()
            assert proxies[1].cut() >= 1
            await expect(bob.locator("#status")).to_contain_text("reconnecting")
            ARTIFACTS.mkdir(exist_ok=True)
            await bob.screenshot(path=str(ARTIFACTS / "chat-bob-offline.png"))
            await expect(alice.locator("#presence")).not_to_contain_text(bob_name)
            for text in ("bob, you there?", "you missed the drop"):
                await alice.fill("#message-input", text)
                await alice.press("#message-input", "Enter")
            await expect(_messages(alice)).to_have_count(4)
            proxies[1].release()
            await expect(bob.locator("#status")).to_have_text("online", timeout=20_000)
            expected = ["hi alice, are you listening?", "yes! track 3 is great", "bob, you there?", "you missed the drop"]
            await expect(_messages(bob)).to_have_text(expected)
            await expect(alice.locator("#presence")).to_contain_text(bob_name)
            await bob.fill("#message-input", "back! caught up")
            await bob.press("#message-input", "Enter")
            await expect(_messages(alice)).to_have_text([*expected, "back! caught up"])

            await alice.screenshot(path=str(ARTIFACTS / "chat-alice.png"))
            await bob.screenshot(path=str(ARTIFACTS / "chat-bob.png"))

            # Signing out and in again: the room list comes from GET /conversations.
            await alice.click("#sign-out")
            await expect(alice.locator("#login-form")).to_be_visible()
            await alice.fill("#login-email", f"{alice_name}@example.com")
            await alice.fill("#login-password", PASSWORD)
            await alice.click("#login-form button[type=submit]")
            await expect(alice.locator("#rooms li")).to_contain_text(["Listening party"])
            await expect(_messages(alice)).to_have_text([*expected, "back! caught up"])
        finally:
            await browser.close()
            for proxy in proxies:
                await proxy.close()
    assert not console_errors, console_errors
