"""``/api/docs`` works without internet: in a real Chromium whose every request beyond Herald is
refused, Swagger UI loads from Herald's own assets and renders the OpenAPI 3.1 document."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Route, expect

from tests.console.test_browser import WAIT_MS, browser  # noqa: F401 - the shared fixture
from tests.live_herald import Live

pytestmark = pytest.mark.e2e


async def test_the_docs_page_renders_the_document_offline(
    browser: Browser,  # noqa: F811 - the fixture imported above
    live: Live,
) -> None:
    herald = urlsplit(str(live.herald.base_url)).netloc
    refused: list[str] = []

    async def only_herald(route: Route) -> None:
        if urlsplit(route.request.url).netloc == herald:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    context = await browser.new_context()
    try:
        await context.route("**/*", only_herald)
        page = await context.new_page()
        page.set_default_timeout(WAIT_MS)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        await page.goto(f"{live.herald.base_url}/api/docs")
        await expect(page.locator(".info .title")).to_contain_text("Herald")
        send = page.locator(".opblock-summary-path", has_text="/api/v2/whatsapp/templates/")
        await expect(send.first).to_be_visible()
        await expect(page.locator(".opblock-tag", has_text="callbacks")).to_be_visible()
        # Swagger UI 4 and older answer an OpenAPI 3.1 document with this instead.
        await expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
        assert problems == []
        assert refused == [], "the page reached beyond Herald"
    finally:
        await context.close()
