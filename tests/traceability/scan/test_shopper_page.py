"""The shopper page: what a phone camera opens after one redirect."""

import asyncio
import gzip
import json
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.support.factories import BASE, GTIN, stored_batch, stored_event, stored_organization, stored_units

pytestmark = pytest.mark.redirects_not_followed  # a phone's scanner sees the 307 itself


async def test_one_redirect_from_the_scanned_url_to_a_vietnamese_page(
    client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    scanned = await client.get(f"/01/{GTIN}/10/TC-2025%2F07")
    assert scanned.status_code == 307
    page = await client.get(scanned.headers["location"])
    assert page.status_code == 200  # the page itself never redirects again
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="vi">' in html
    assert "Chè Tân Cương đặc biệt" in html
    assert "HTX Chè Tân Cương" in html and "đã được xác minh" in html
    assert "Xã Tân Cương" in html and "openstreetmap.org/?mlat=21.59420" in html
    assert "02/07/2025" in html  # harvest date
    assert "OCOP 4 sao" in html and "hiệu lực đến 01/01/2027" in html
    assert "Thu hoạch, tạo lô" in html  # the timeline in plain words, with the place named, never a URI
    assert "Bày bán tại <strong>Cửa hàng Đặc sản Thái Nguyên" in html
    assert "Cửa hàng Đặc sản Thái Nguyên" in html  # where to buy
    assert "02/07/2026" in html  # expiry
    assert "<script>" not in html and 'id="recall"' not in html


async def test_english_by_accept_language_or_query(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    url = f"/trace/{batch['code']}"
    by_header = await client.get(url, headers={"Accept-Language": "en-GB,en;q=0.9,vi;q=0.5"})
    assert '<html lang="en">' in by_header.text and "Tan Cuong special green tea" in by_header.text
    assert "Harvested, lot created" in by_header.text
    by_query = await client.get(url + "?lang=en", headers={"Accept-Language": "vi"})
    assert '<html lang="en">' in by_query.text
    assert '<html lang="vi">' in (await client.get(url, headers={"Accept-Language": "fr"})).text


async def _page_once_notified(client: AsyncTestClient[Litestar], url: str, expected: str) -> str:
    """The page after a change written by another process: it shows once the change notification arrives
    (milliseconds; on a loaded test machine up to a few hundred). A worker that records the change itself
    drops its copy at once (tested in test_hot_paths.py)."""
    html = ""
    for _ in range(100):
        html = (await client.get(url)).text
        if expected in html:
            break
        await asyncio.sleep(0.03)
    return html


async def test_recall_shows_on_the_very_next_scan(
    client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    url = f"/trace/{batch['code']}"
    assert 'id="recall"' not in (await client.get(url)).text  # now cached
    await db.execute(
        "update batches set status = 'recalled', recall_reason = 'Dư lượng thuốc BVTV vượt ngưỡng', "
        "recalled_at = now(), updated_at = now() where id = $1",
        batch["id"],
    )
    html = await _page_once_notified(client, url, 'id="recall"')  # written elsewhere: the notification drops the cache
    banner = html.index('id="recall"')
    assert banner < html.index("<h1>")  # at the top
    assert "THU HỒI" in html and "Dư lượng thuốc BVTV vượt ngưỡng" in html


async def test_new_event_shows_on_the_next_view(
    client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    url = f"/trace/{batch['code']}"
    assert "Kiểm tra chất lượng" not in (await client.get(url)).text
    await stored_event(db, batch["id"], "inspecting", None, "2025-07-05T10:00:00+07:00")
    assert "Kiểm tra chất lượng" in await _page_once_notified(client, url, "Kiểm tra chất lượng")


async def test_counterfeit_banner_only_on_a_confirmed_unit(
    client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    ok, flagged = await stored_units(db, batch["id"], 2)
    await db.execute(
        "update units set flagged_at = now(), flag_reason = 'impossible_travel', scan_count = 7 where serial = $1",
        flagged,
    )  # what oversight writes once an inspector confirmed a counterfeit
    genuine = (await client.get(f"/trace/{batch['code']}/{ok}")).text
    assert 'id="counterfeit"' not in genuine and "Mã này có trong hệ thống" in genuine
    warned = (await client.get(f"/trace/{batch['code']}/{flagged}")).text
    assert 'id="counterfeit"' in warned and "HÀNG GIẢ" in warned
    assert warned.index('id="counterfeit"') < warned.index("<h1>")
    assert (await client.get(f"/trace/{batch['code']}/ZZZZZZZZZZZZZ")).status_code == 404


async def test_user_fields_are_escaped(client: AsyncTestClient[Litestar], db: Any) -> None:
    org = await stored_organization(db, name="<script>alert('org')</script>")
    evil = await stored_batch(db, org, gtin=None, product_name="Trà </script><script>alert(1)</script>")
    response = await client.get(f"/trace/{evil['code']}")
    html = response.text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;org&#x27;)&lt;/script&gt;" in html
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert ld is not None
    assert json.loads(ld.group(1))["name"] == "Trà </script><script>alert(1)</script>"
    assert html.count("</script>") == 1  # only the JSON-LD element's own end tag


async def test_json_ld_product_and_security_headers(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    response = await client.get(f"/trace/{batch['code']}")
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', response.text, re.S).group(1))  # type: ignore[union-attr]
    assert ld["@type"] == "Product" and ld["gtin14"] == GTIN and ld["manufacturer"]["name"] == "HTX Chè Tân Cương"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'none'" in csp and "'unsafe-inline'" not in csp


async def test_weight_budget(client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]) -> None:
    """At most 30 KB of HTML+CSS on the wire, with a long timeline (gzip, as the app sends it)."""
    for day in range(1, 28):
        await stored_event(
            db,
            batch["id"],
            "storing",
            f"Kho số {day}, Phường Phan Đình Phùng, Thái Nguyên",
            f"2025-08-{day:02d}T08:00:00+07:00",
        )
    response = await client.get(f"/trace/{batch['code']}", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
    assert len(gzip.compress(response.content)) <= 30 * 1024
    assert len(response.content) <= 60 * 1024  # even uncompressed it stays small
    assert "<script src" not in response.text  # readable without JavaScript


async def test_json_for_apps(client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]) -> None:
    (serial,) = await stored_units(db, batch["id"], 1)
    response = await client.get(f"/trace/{batch['code']}/{serial}", headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["lot"] == "TC-2025/07" and body["status"] == "active"
    assert body["producer"]["verified"] is True
    assert body["unit"]["serial"] == serial and body["unit"]["counterfeit"] is None
    assert body["unit"]["claim"] == {"kind": "derived", "by": "Thái Nguyên Trace & Tour", "at": None}
    assert [e["biz_step"] for e in body["events"]] == ["commissioning", "retail_selling"]
    assert {e["claim"]["kind"] for e in body["events"]} == {"declared"}
    assert body["events"][0]["claim"]["by"] == "HTX Chè Tân Cương"
    assert body["ocop_stars"] == 4 and body["ocop_claim"]["kind"] == "verified"
    assert body["ocop_claim"]["by"] == "Sở Nông nghiệp và Môi trường Thái Nguyên"
    assert body["chain"]["claim"]["kind"] == "derived"


async def test_etag_revalidation(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    first = await client.get(f"/trace/{batch['code']}")
    again = await client.get(f"/trace/{batch['code']}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_product_page_for_a_bare_gtin(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    response = await client.get(f"/p/{GTIN}")
    assert response.status_code == 200 and "Chè Tân Cương đặc biệt" in response.text
    assert (await client.get("/p/08935049510011")).status_code == 400


async def test_nearby_heritage_sites_from_the_injected_dependency(
    settings: Settings, db: Any, batch: dict[str, Any]
) -> None:
    """service/crosslinks.py wires `nearby_sites`; here a stand-in is provided the same way."""
    from service.traceability.ports import PlaceRef

    class Sites:
        async def near(self, lat: float, lon: float, lang: str, limit: int) -> list[PlaceRef]:
            return [PlaceRef(name="Đền Đuổm <b>", url="https://trace.example.vn/sites/den-duom", distance_km=12.3)]

    wired = _wired_with(settings, Sites())
    async with AsyncTestClient(app=wired, base_url=BASE) as client:
        html = (await client.get(f"/trace/{batch['code']}")).text
    assert "Di tích gần vùng trồng" in html and "Đền Đuổm &lt;b&gt;" in html and "12.3 km" in html


def _wired_with(settings: Settings, sites: Any) -> Litestar:
    """The scan routes with `sites` as the tourism side's `nearby_sites` (as service/crosslinks.py wires it)."""
    from litestar.di import Provide

    from service.traceability.scan.routes import route_handlers

    app = create_app(settings)
    return Litestar(
        route_handlers=list(route_handlers),
        dependencies={**app.dependencies, "nearby_sites": Provide(lambda: sites, sync_to_thread=False)},
        lifespan=app._lifespan_managers,
        exception_handlers=app.exception_handlers,
        on_app_init=[],
    )


async def test_nearby_sites_that_failed_are_asked_again_and_then_shown(
    settings: Settings, db: Any, batch: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tourism side failing once must not hide heritage sites from a cached page for its whole lifetime."""
    from service.traceability.ports import PlaceRef
    from service.traceability.scan import pages

    calls: list[str] = []

    class FlakySites:
        async def near(self, lat: float, lon: float, lang: str, limit: int) -> list[PlaceRef]:
            calls.append(lang)
            if len(calls) == 1:
                raise ConnectionError("tourism side briefly away")
            return [PlaceRef(name="Đền Đuổm", url="https://trace.example.vn/sites/den-duom", distance_km=12.3)]

    wired = _wired_with(settings, FlakySites())
    page = f"/trace/{batch['code']}"
    async with AsyncTestClient(app=wired, base_url=BASE) as client:
        async with asyncio.timeout(5):
            await wired.state.change_feed.wait_healthy()
        first = await client.get(page)
        assert first.status_code == 200 and "Đền Đuổm" not in first.text
        assert wired.state.trace_caches.pages.get(batch["code"]) is not None, "the page is kept meanwhile"
        again = await client.get(page)
        assert "Đền Đuổm" not in again.text and len(calls) == 1, "not asked again before the retry is due"
        monkeypatch.setattr(pages, "NEARBY_RETRY_SECONDS", 0.0)
        later = await client.get(page, headers={"If-None-Match": first.headers["etag"]})
        assert later.status_code == 200 and "Đền Đuổm" in later.text, "asked again, and the page shows them"
        assert later.headers["etag"] != first.headers["etag"]
        assert len(calls) == 2
        assert "Đền Đuổm" in (await client.get(page)).text and len(calls) == 2, "kept once it worked"
