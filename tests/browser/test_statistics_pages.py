"""The statistics pages as a producer, a site editor and an official see them on a phone (360x740, headless
Chromium): signed in, no script errors, no sideways scroll, charts drawn as inline SVG, no serious or critical
axe-core violations. Screenshots land in tests/artifacts/stats-*.png."""

import uuid
from datetime import timedelta

import asyncpg
import pytest
from playwright.async_api import async_playwright

from service.auth.guards import build_jwt_auth
from service.auth.service import create_user
from service.core import clock
from service.settings import Settings
from service.traceability.registry.commune_centres import commune_centres
from tests.support.browser import AXE, CHROMIUM, CHROMIUM_ARGS, PAGE_BUDGET, check_page, live_server
from tests.support.factories import stored_batch, stored_organization
from tests.support.statistics import (
    stored_commune_scans,
    stored_daily_scans,
    stored_household,
    stored_site_with_plays,
)


async def signed_in(
    db: asyncpg.Connection, settings: Settings, role: str, phone: str
) -> tuple[uuid.UUID, dict[str, str]]:
    user = await create_user(db, phone=phone, password="mật-khẩu-an-toàn-1", full_name=f"Thử {role}", role=role)  # type: ignore[arg-type]
    token = build_jwt_auth(settings).create_token(identifier=str(user.id), token_extras={"role": role, "ver": 1})
    return user.id, {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def pages(db: asyncpg.Connection, settings: Settings) -> dict[str, tuple[str, dict[str, str]]]:
    """A cooperative with two member farms and a year of scans, an editor's site with plays, an official."""
    if not CHROMIUM.is_file() or not AXE.is_file():
        pytest.fail("the browser tests need Debian's chromium and tools/axe: run `make install`")
    coop_user, coop_auth = await signed_in(db, settings, "cooperative", "0911000001")
    coop = await stored_organization(db, name="HTX Chè Tân Cương")
    await db.execute("update users set organization_id = $2 where id = $1", coop_user, coop)
    today = clock.today()
    farms = [("Hộ ông Nguyễn Văn Bình", ("05503", "Xã Tân Cương")), ("Hộ bà Hoa", ("05488", "Xã Phúc Xuân"))]
    for n, (name, commune) in enumerate(farms):
        member = await stored_household(db, coop, name, commune)
        batch = await stored_batch(
            db, member, gtin=None, lot=f"TC-{n}", product_name=f"Chè búp Tân Cương loại {n + 1} đặc biệt thượng hạng"
        )
        await stored_daily_scans(
            db, batch["id"], {today - timedelta(days=d): (d * 7 + n * 5) % 23 + 1 for d in range(365)}
        )
        # where the phones were: a dozen communes across the province, and some scans without a position
        places = [c.code for c in commune_centres()[n::8]] + [""]
        await stored_commune_scans(
            db, batch["id"], {(today - timedelta(days=d), code): (d + 2, d % 5 + 1) for d, code in enumerate(places)}
        )

    editor, editor_auth = await signed_in(db, settings, "editor", "0911000002")
    await stored_site_with_plays(db, editor)
    _, official_auth = await signed_in(db, settings, "inspector", "0911000003")
    return {
        "stats-producer": ("/stats/producer", coop_auth),
        "stats-producer-en-year": ("/stats/producer?days=365&lang=en", coop_auth),
        "stats-sites": ("/stats/sites", editor_auth),
        "stats-province": ("/stats/province", official_auth),
    }


async def test_statistics_pages_read_well_on_a_phone(
    pages: dict[str, tuple[str, dict[str, str]]], settings: Settings
) -> None:
    with live_server(settings) as origin:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for name, (path, auth) in pages.items():
                    report, page = await check_page(browser, origin + path, name, headers=auth)
                    print(f"{name}: {report.html_bytes} bytes of HTML, scrollWidth {report.scroll_width}")
                    assert report.status == 200, report
                    assert report.errors == [], report
                    assert report.scroll_width <= 360, report
                    assert report.html_bytes <= PAGE_BUDGET, report
                    assert report.serious_violations == [], report
                    assert await page.locator("svg[role=img]").count() >= 2
                    if name.startswith("stats-producer"):  # the first-scan map: 92 centres, a circle per commune
                        assert await page.locator("svg circle[r='2.2']").count() == 92
                        assert await page.locator("svg circle[fill-opacity]").count() >= 12
                    if name in ("stats-sites", "stats-province"):  # sites by their names, not their slugs
                        assert await page.get_by_text("Đền thử").count() >= 1
                        assert await page.get_by_text("den-thu", exact=True).count() == 0
                    await page.context.close()
                context = await browser.new_context()
                anonymous = await (await context.new_page()).goto(origin + "/stats/province")
                assert anonymous is not None and anonymous.url == origin + "/sign-in?next=/stats/province"
                await context.close()
            finally:
                await browser.close()
