"""Every kind of human page, opened in headless Chromium at 360x740 as a phone would: no script errors (a CSP
violation is one), no sideways scroll, at most 30 KB of HTML before images, no serious or critical axe-core
violations. Screenshots land in tests/artifacts/ (git-ignored) for a person to look at.
"""

import asyncpg
import pytest
from playwright.async_api import async_playwright

from service.core.db import init_connection
from service.seed import seed_demo
from service.settings import Settings
from service.storage import build_media_store
from tests.support.browser import AXE, CHROMIUM, CHROMIUM_ARGS, PAGE_BUDGET, check_page, live_server

# Lazy images below the fold load when asked; decode() fails for a missing or broken image.
LOAD_EVERY_IMAGE = """async () => {
    const broken = [];
    for (const img of document.images) {
        img.loading = 'eager';
        try { await img.decode(); } catch (error) { broken.push(img.currentSrc || img.src); }
    }
    return broken;
}"""


@pytest.fixture
async def demo(db: asyncpg.Connection, settings: Settings) -> dict[str, str]:
    """The demo seed, and the addresses of one page of each kind in it."""
    if not CHROMIUM.is_file() or not AXE.is_file():
        pytest.fail("the browser tests need Debian's chromium and tools/axe: run `make install`")
    await init_connection(db)
    async with build_media_store(settings) as store:  # the live server reads the same media directory
        await seed_demo(db, settings, store)
    tea = await db.fetchval("select code from batches where lot = 'CD2505-DEMO'")
    recalled = await db.fetchval("select code from batches where status = 'recalled' limit 1")
    coop = await db.fetchval("select id from organizations where name like 'HTX chè Tân Cương%'")
    dinh = await db.fetchval("select gtin14 from products where names ->> 'vi' like 'Chè đinh%'")
    site, point = await db.fetchrow(
        """
        select s.slug, p.slug from tourism_sites s join tourism_points p on p.site_id = s.id
        join tourism_tracks t on t.point_id = p.id
        where s.status = 'published' order by s.slug, p.ord limit 1
        """
    )
    return {
        "shopper": f"/trace/{tea}",
        "shopper-recalled": f"/trace/{recalled}",
        "shopper-en": f"/trace/{tea}?lang=en",
        "product": f"/p/{dinh}",
        "producer": f"/producers/{coop}",
        "site": f"/g/{site}",
        "point": f"/g/{site}/{point}",
        "point-en": f"/g/{site}/{point}?lang=en",
    }


async def test_every_page_kind_reads_well_on_a_phone(demo: dict[str, str], settings: Settings) -> None:
    with live_server(settings) as origin:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for name, path in demo.items():
                    report, page = await check_page(browser, origin + path, name)
                    print(f"{name}: {report.html_bytes} bytes of HTML, scrollWidth {report.scroll_width}")
                    assert report.status == 200, report
                    assert report.errors == [], report
                    assert report.scroll_width <= 360, report
                    assert report.html_bytes <= PAGE_BUDGET, report
                    assert report.serious_violations == [], report
                    assert "/api/v1/" not in await page.inner_text("body"), "no raw API address a person reads"
                    # every page of the demo shows photos; each has its box reserved and loads
                    assert await page.locator("img[width][height]").count() >= 1, name
                    assert await page.evaluate(LOAD_EVERY_IMAGE) == [], name
                    if name.startswith("point"):
                        audio = page.locator("audio")
                        assert await audio.get_attribute("preload") == "none"
                        assert await audio.evaluate("a => a.paused && !a.autoplay")  # nothing plays by itself
                        # the captions load from the WebVTT file (readyState 2 = LOADED)
                        await page.wait_for_function("document.querySelector('track').readyState === 2")
                        cues = await page.evaluate("document.querySelector('track').track.cues.length")
                        assert cues > 0
                        # the audio is playable when asked (the player's own controls would do this)
                        duration = await audio.evaluate(
                            """a => new Promise((done, failed) => {
                                a.addEventListener('loadedmetadata', () => done(a.duration));
                                a.addEventListener('error', () => failed(String(a.error && a.error.code)));
                                a.preload = 'metadata'; a.load();
                            })"""
                        )
                        assert duration > 1
                        # lock-screen controls: the same-origin script described the stop to the Media Session
                        title = await audio.get_attribute("data-title")
                        assert await page.evaluate("navigator.mediaSession.metadata.title") == title
                        assert await page.evaluate("navigator.mediaSession.metadata.artwork.length") == 1
                    await page.context.close()
            finally:
                await browser.close()
