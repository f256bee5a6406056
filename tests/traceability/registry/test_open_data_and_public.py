"""Open data CSVs, and the public read functions tourism builds on."""

import csv
import io
import uuid
from typing import Any

import asyncpg
import pytest

from service.core.db import init_connection
from service.traceability import public
from service.traceability.registry.communes import fold_for_search
from service.traceability.registry.datasets import _cell
from tests.support import factories as f


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def test_open_data_csv_keeps_vietnamese_and_no_personal_data(client: f.Client, make_user: Any) -> None:
    headers, org = await f.farm(client, make_user)
    await f.product(
        client,
        headers,
        names={"vi": "Chè đinh Tân Cương", "en": "Tân Cương needle tea"},
        ocop_stars=5,
        gtin="8930000000019",
    )
    await f.product(client, headers, names={"vi": '=HYPERLINK("x")'}, category="other")
    products = await client.get("/open-data/products.csv")
    assert products.status_code == 200
    assert products.headers["content-type"].startswith("text/csv")
    rows = read_csv(products.content)
    assert {r["name_vi"] for r in rows} == {"Chè đinh Tân Cương", '\'=HYPERLINK("x")'}
    tea = next(r for r in rows if r["gtin14"])
    assert tea["ocop_stars"] == ""  # typed in by the producer: not published as a rating
    ocop = {"kind": "ocop", "issuer": "UBND tỉnh Thái Nguyên", "number": "OCOP-1", "valid_from": "2024-01-01"}
    cert = await client.post(
        f"/api/v1/organizations/{org['id']}/certifications",
        json=ocop | {"stars": 5, "product_id": tea["product_id"]},
        headers=headers,
    )
    inspector = await make_user("inspector")
    await client.post(
        f"/api/v1/certifications/{cert.json()['id']}/reviews", json={"decision": "verified"}, headers=inspector
    )
    tea = next(r for r in read_csv((await client.get("/open-data/products.csv")).content) if r["gtin14"])
    assert tea["ocop_stars"] == "5"
    assert tea["commune_name"] == "Xã Tân Cương"
    producers = await client.get("/open-data/producers.csv")
    text = producers.content.decode("utf-8-sig")
    assert "+84912345678" not in text
    assert "0912" not in text
    assert "ho.che@example.vn" not in text
    [row] = read_csv(producers.content)
    assert row["producer_id"] == org["id"]
    assert row["product_count"] == "2"
    assert "phone" not in ",".join(row)
    catalog = (await client.get("/open-data/catalog.json")).json()
    ids = {d["id"]: d for d in catalog["datasets"]}
    assert ids["traceability-products"]["url"] == "https://trace.example.vn/open-data/products.csv"
    assert ids["traceability-products"]["last_updated"] is not None
    assert ids["traceability-producers"]["licence"] == "CC-BY-4.0"


async def test_public_producers_near_and_product_search(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers, org = await f.farm(client, make_user)
    prod = await f.product(client, headers, ocop_stars=4, gtin="8930000000019")
    area = await f.plot(client, headers)
    await client.post(
        f"/api/v1/organizations/{org['id']}/certifications",
        json={"kind": "vietgap", "issuer": "Sở NN&PTNT", "number": "VG-1", "valid_from": "2024-01-01"},
        headers=headers,
    )
    await client.post(
        f"/api/v1/organizations/{org['id']}/certifications",
        json={
            "kind": "organic",
            "issuer": "X",
            "number": "EXPIRED",
            "valid_from": "2020-01-01",
            "valid_to": "2021-01-01",
        },
        headers=headers,
    )
    lot = await f.batch(client, headers, prod["id"], plot_id=area["id"], lot="TC01")
    await f.event(client, headers, lot["id"], biz_step="packing")
    await init_connection(db)  # jsonb as Python values, as on the app's pooled connections
    near = await public.producers_near(db, 21.57, 105.76, 5, "vi", 10)
    assert [p.id for p in near] == [uuid.UUID(org["id"])]
    assert near[0].products == ["Chè búp Tân Cương"]
    assert await public.producers_near(db, 22.5, 106.2, 5, "vi", 10) == []
    hits = await public.search_products(db, fold_for_search("CHE BUP"), "en", 10)
    assert [h.name for h in hits] == ["Tân Cương tea buds"]
    assert await public.search_products(db, "%", "vi", 10) == []


@pytest.mark.parametrize("text", ["=1+1", "+1+cmd", "-2+3", "@SUM(A1)", "\t=1+1", "\r=HYPERLINK(x)", "\tplain"])
def test_csv_cells_that_a_spreadsheet_would_run_stay_text(text: str) -> None:
    assert _cell(text) == "'" + text


@pytest.mark.parametrize("text", ["-5", "+84912345678", "1.5", "Chè Tân Cương", "a=b"])
def test_numbers_and_ordinary_text_are_left_alone(text: str) -> None:
    assert _cell(text) == text


async def test_open_data_csv_names_its_file_per_rfc_6266(client: f.Client) -> None:
    response = await client.get("/open-data/products.csv")
    assert response.headers["content-disposition"] == "inline; filename=\"products.csv\"; filename*=UTF-8''products.csv"
