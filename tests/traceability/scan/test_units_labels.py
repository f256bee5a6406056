"""Serialized units and label sheets: owners only, random serials, ranges, and fast rendering."""

import re
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.core.qr import matrix_image, qr_matrix
from service.settings import Settings
from service.traceability.identifiers.gs1 import random_code
from service.traceability.scan.labels import (
    COLS,
    LABEL_H,
    LABEL_W,
    PAGE_W,
    QR_MM,
    ROWS,
    TOP,
    Label,
    LabelSheet,
    render_label_sheet,
)
from tests.support.app import UserFactory
from tests.support.factories import BASE, GTIN, join_organization, stored_batch, stored_organization


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


async def test_owner_creates_units_with_random_serials(
    client: AsyncTestClient[Litestar], db: Any, make_user: UserFactory
) -> None:
    org = await stored_organization(db)
    batch = await stored_batch(db, org)
    owner = await make_user("cooperative")
    await join_organization(db, owner, org)
    response = await client.post(f"/api/v1/batches/{batch['id']}/units", json={"count": 50}, headers=owner)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["first_seq"], body["last_seq"]) == (1, 50)
    serials = [u["serial"] for u in body["units"]]
    assert len(set(serials)) == 50
    assert all(re.fullmatch(r"[23456789A-HJ-NP-Z]{13}", s) for s in serials)  # 65 bits, no 0/O/1/I/l
    assert body["units"][0]["uri"] == f"{BASE}/01/{GTIN}/10/TC-2025%2F07/21/{serials[0]}"
    more = await client.post(f"/api/v1/batches/{batch['id']}/units", json={"count": 2}, headers=owner)
    assert more.json()["first_seq"] == 51


@pytest.mark.parametrize("body", [{"count": 0}, {"count": 10_001}, {"count": "many"}, {"count": 5, "extra": 1}, {}])
async def test_unit_counts_are_bounded(
    client: AsyncTestClient[Litestar], db: Any, make_user: UserFactory, body: dict[str, Any]
) -> None:
    org = await stored_organization(db)
    batch = await stored_batch(db, org)
    owner = await make_user("farmer")
    await join_organization(db, owner, org)
    response = await client.post(f"/api/v1/batches/{batch['id']}/units", json=body, headers=owner)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_other_organizations_cannot_create_units_or_print_labels(
    client: AsyncTestClient[Litestar], db: Any, make_user: UserFactory
) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    stranger = await make_user("farmer")
    await join_organization(db, stranger, await stored_organization(db, name="Another farm"))
    inspector = await make_user("inspector")
    url = f"/api/v1/batches/{batch['id']}"
    assert (await client.post(f"{url}/units", json={"count": 1}, headers=stranger)).status_code == 404
    assert (await client.post(f"{url}/units", json={"count": 1}, headers=inspector)).status_code == 403
    assert (await client.get(f"{url}/labels.pdf", headers=stranger)).status_code == 404
    assert (await client.post(f"{url}/units", json={"count": 1})).status_code == 401
    assert await db.fetchval("select count(*) from units") == 0


async def test_label_sheet_for_a_range(client: AsyncTestClient[Litestar], db: Any, make_user: UserFactory) -> None:
    org = await stored_organization(db)
    batch = await stored_batch(db, org)
    owner = await make_user("cooperative")
    await join_organization(db, owner, org)
    await client.post(f"/api/v1/batches/{batch['id']}/units", json={"count": 60}, headers=owner)
    response = await client.get(f"/api/v1/batches/{batch['id']}/labels.pdf?from=11&to=40", headers=owner)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", response.content)) == 2  # 30 labels, 24 per page
    bad = await client.get(f"/api/v1/batches/{batch['id']}/labels.pdf?from=50&to=70", headers=owner)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_range"
    assert (await client.get(f"/api/v1/batches/{batch['id']}/labels.pdf?from=0", headers=owner)).status_code == 400


def test_a_thousand_labels_make_one_sheet_of_42_pages() -> None:
    """The time budget of a 1,000-label sheet is measured by `make bench`, not by a timed unit test."""
    labels = [Label(f"{BASE}/01/{GTIN}/10/TC-2025%2F07/21/{s}", s) for s in (random_code(13) for _ in range(1000))]
    sheet = LabelSheet(
        product_name="Chè Tân Cương đặc biệt – Hợp tác xã Trà Tân Cương", lot="TC-2025/07", labels=labels
    )
    pdf = render_label_sheet(sheet)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 42
    # the font is embedded (Vietnamese glyphs), not a base-14 font without them
    assert b"DejaVu" in pdf


def test_label_codes_decode() -> None:
    uri = f"{BASE}/q/ABCDEFGHJKLMN/ABCDEFGHJKLMP"
    assert zxingcpp.read_barcodes(matrix_image(qr_matrix(uri, quiet_zone=2, fast=True), 4))[0].text == uri


def test_printed_labels_decode_to_their_own_units() -> None:
    """The sheet rendered to pixels at printer resolution: every code on a page reads back as its unit's URI."""
    serials = [random_code(13) for _ in range(30)]
    labels = [Label(f"{BASE}/01/{GTIN}/10/TC-2025%2F07/21/{s}", s) for s in serials]
    pdf = pdfium.PdfDocument(render_label_sheet(LabelSheet(product_name="Chè", lot="TC-2025/07", labels=labels)))
    read: list[str] = []
    for page in pdf:
        image = page.render(scale=300 / 72).to_pil()
        px_per_mm = image.width / PAGE_W
        for slot in range(COLS * ROWS):
            x, y = (slot % COLS) * LABEL_W, TOP + (slot // COLS) * LABEL_H
            box = (x, y, x + QR_MM + 4, y + LABEL_H)
            crop = image.crop(tuple(round(v * px_per_mm) for v in box))
            read.extend(code.text for code in zxingcpp.read_barcodes(crop))
    assert read == [label.uri for label in labels]


async def test_label_sheet_names_its_file_per_rfc_6266(
    client: AsyncTestClient[Litestar], db: Any, make_user: UserFactory
) -> None:
    org = await stored_organization(db)
    batch = await stored_batch(db, org, lot='A";x=1')  # GS1 lots may hold " and ;
    owner = await make_user("cooperative")
    await join_organization(db, owner, org)
    await client.post(f"/api/v1/batches/{batch['id']}/units", json={"count": 1}, headers=owner)
    response = await client.get(f"/api/v1/batches/{batch['id']}/labels.pdf", headers=owner)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition == "inline; filename=\"labels-A__x=1.pdf\"; filename*=UTF-8''labels-A%22%3Bx%3D1.pdf"
