"""A cooperative manager, a site editor and an official sign in with a phone browser (360x740, headless
Chromium, the page's own CSP, no script): asked for the statistics page, sent to the form, a wrong password, then
the right one, landing on the charts; then signing out. Without a `next` each lands on their own page.
Screenshots land in tests/artifacts/sign-in-*.png."""

from datetime import timedelta

import asyncpg
import pytest
from playwright.async_api import async_playwright

from service.auth.service import create_user
from service.core import clock
from service.settings import Settings
from tests.support.browser import ARTIFACTS, AXE, CHROMIUM, CHROMIUM_ARGS, PAGE_BUDGET, PHONE, check_page, live_server
from tests.support.factories import stored_batch, stored_organization
from tests.support.statistics import stored_daily_scans, stored_household, stored_site_with_plays

PASSWORD = "mật-khẩu-an-toàn-1"


@pytest.fixture
async def cooperative(db: asyncpg.Connection) -> str:
    """A cooperative's manager (phone 0911 000 010) with a member farm and 30 days of scans."""
    if not CHROMIUM.is_file() or not AXE.is_file():
        pytest.fail("the browser tests need Debian's chromium and tools/axe: run `make install`")
    user = await create_user(db, phone="0911000010", password=PASSWORD, full_name="Chị Lan", role="cooperative")
    coop = await stored_organization(db, name="HTX Chè Tân Cương")
    await db.execute("update users set organization_id = $2 where id = $1", user.id, coop)
    farm = await stored_household(db, coop, "Hộ ông Bình", ("05503", "Xã Tân Cương"))
    batch = await stored_batch(db, farm, gtin=None, lot="TC-1", product_name="Chè búp Tân Cương")
    today = clock.today()
    await stored_daily_scans(db, batch["id"], {today - timedelta(days=d): d % 9 + 3 for d in range(30)})
    return "0911 000 010"


async def test_a_manager_signs_in_on_a_phone_and_lands_on_the_charts(cooperative: str, settings: Settings) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(settings) as origin:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                report, form_page = await check_page(browser, origin + "/sign-in?next=/stats/producer", "sign-in-form")
                assert report.status == 200 and report.errors == [], report
                assert report.scroll_width <= PHONE["width"] and report.serious_violations == [], report
                await form_page.context.close()

                context = await browser.new_context(viewport=PHONE, device_scale_factor=1, locale="vi-VN")
                page = await context.new_page()
                errors: list[str] = []
                page.on(  # a 401 form answer is logged as a failed load: that one is expected
                    "console",
                    lambda msg: (
                        errors.append(msg.text) if msg.type == "error" and "status of 401" not in msg.text else None
                    ),
                )
                await page.goto(origin + "/stats/producer?days=30")
                assert page.url == origin + "/sign-in?next=/stats/producer%3Fdays%3D30"

                await page.get_by_label("Số điện thoại").fill(cooperative)
                await page.get_by_label("Mật khẩu").fill("không-phải-mật-khẩu")
                await page.get_by_role("button", name="Đăng nhập").click()
                await page.wait_for_load_state()
                assert await page.get_by_role("alert").inner_text() == "Số điện thoại hoặc mật khẩu không đúng."
                assert await page.get_by_label("Số điện thoại").input_value() == cooperative
                assert await page.get_by_label("Mật khẩu").input_value() == ""
                await page.screenshot(path=str(ARTIFACTS / "sign-in-wrong-password.png"), full_page=True)

                await page.get_by_label("Mật khẩu").fill(PASSWORD)
                await page.get_by_role("button", name="Đăng nhập").click()
                await page.wait_for_url(origin + "/stats/producer?days=30")
                assert await page.get_by_role("heading", level=1).inner_text() == "Ai quét mã sản phẩm của tôi"
                assert await page.locator("svg[role=img]").count() >= 2
                assert await page.get_by_text("Đã đăng nhập: Chị Lan (hợp tác xã)").count() == 1
                assert int(await page.evaluate("document.documentElement.scrollWidth")) <= PHONE["width"]
                await page.screenshot(path=str(ARTIFACTS / "sign-in-landed.png"), full_page=True)
                cookies = await context.cookies()
                session = next(c for c in cookies if c["name"] == "tt_session")
                assert session["httpOnly"] and session["sameSite"] == "Lax"

                signed_in = {"Cookie": f"tt_session={session['value']}"}
                report, audited = await check_page(browser, origin + "/stats/producer", "sign-in-stats", signed_in)
                assert report.status == 200 and report.errors == [], report
                assert report.serious_violations == [] and report.html_bytes <= PAGE_BUDGET, report
                await audited.context.close()

                await page.get_by_role("button", name="Đăng xuất").click()
                await page.wait_for_url(origin + "/sign-in?lang=vi&signed_out=1")
                assert await page.get_by_role("status").inner_text() == "Bạn đã đăng xuất."
                await page.screenshot(path=str(ARTIFACTS / "sign-in-signed-out.png"), full_page=True)
                await page.goto(origin + "/stats/producer")
                assert page.url.startswith(origin + "/sign-in?next=")
                assert errors == []
                await context.close()
            finally:
                await browser.close()


@pytest.mark.parametrize(
    ("role", "phone", "landing", "heading"),
    [
        ("editor", "0911000020", "/stats/sites", "Thống kê di tích"),
        ("inspector", "0911000030", "/stats/province", "Tổng quan toàn tỉnh"),
    ],
)
async def test_an_editor_and_an_official_sign_in_and_land_on_their_own_charts(
    db: asyncpg.Connection, settings: Settings, role: str, phone: str, landing: str, heading: str
) -> None:
    """Without a `next`, the form takes each person to their own page: a site editor to the plays of their sites,
    an official to the province overview."""
    user = await create_user(db, phone=phone, password=PASSWORD, full_name="Anh Minh", role=role)  # type: ignore[arg-type]
    await stored_site_with_plays(db, user.id)  # the official sees every site; the editor the sites they made
    farm = await stored_organization(db, name="Hộ chè Tân Cương")
    batch = await stored_batch(db, farm, gtin=None, lot="TC-9", product_name="Chè búp Tân Cương")
    await stored_daily_scans(db, batch["id"], {clock.today() - timedelta(days=d): d % 7 + 5 for d in range(30)})
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(settings) as origin:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport=PHONE, device_scale_factor=1, locale="vi-VN")
                page = await context.new_page()
                errors: list[str] = []
                page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
                await page.goto(origin + "/sign-in")
                await page.get_by_label("Số điện thoại").fill(phone)
                await page.get_by_label("Mật khẩu").fill(PASSWORD)
                await page.get_by_role("button", name="Đăng nhập").click()
                await page.wait_for_url(origin + landing)
                assert heading in await page.get_by_role("heading", level=1).inner_text()
                assert await page.locator("svg[role=img]").count() >= 1
                assert await page.get_by_text("Đã đăng nhập: Anh Minh").count() == 1
                assert int(await page.evaluate("document.documentElement.scrollWidth")) <= PHONE["width"]
                await page.screenshot(path=str(ARTIFACTS / f"sign-in-{role}.png"), full_page=True)
                assert errors == []
                await context.close()
            finally:
                await browser.close()
