"""Builders for the tests, one style: `async def <what>(<client or db>, ..., **overrides) -> the record`.

Two kinds, named so a reader knows which path a test takes:
- `organization`, `product`, `plot`, `batch`, `event`, `farm`: through the real HTTP API with a signed-in
  user (every rule applies), returning the JSON answer;
- `stored_organization`, `stored_batch`, `stored_event`, `stored_units`, `join_organization`: rows written
  with plain SQL into the test's own database, for the scan side, whose tests need a batch in a given
  state (a retail event at a fixed time, thousands of units) faster than the API gives it. Their chain
  hashes are placeholders: tests of the chain itself use the HTTP builders.
"""

import json
import uuid
from datetime import date
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.traceability.identifiers.gs1 import random_code

BASE = "https://trace.example.vn"
GTIN = "08935049510017"  # valid check digit
TAN_CUONG = "05503"  # Xã Tân Cương (official 2025 code, vietnam-provinces)
TAN_CUONG_POINT = {"type": "Point", "coordinates": [105.7626, 21.5638]}  # [lon, lat]
PROBLEM = "application/problem+json"
AUTHORITY = "Sở Nông nghiệp và Môi trường Thái Nguyên"

Client = AsyncTestClient[Litestar]


# --- through the HTTP API ---------------------------------------------------------------------------


async def organization(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "household",
        "name": f"Hộ chè {uuid.uuid4().hex[:6]}",
        "commune_code": TAN_CUONG,
        "lat": 21.5638,
        "lon": 105.7626,
        "contact_phone": "0912 345 678",
        "contact_email": "ho.che@example.vn",
    } | overrides
    response = await client.post("/api/v1/organizations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def product(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"names": {"vi": "Chè búp Tân Cương", "en": "Tân Cương tea buds"}, "category": "tea"} | overrides
    response = await client.post("/api/v1/products", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def plot(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"name": "Đồi chè số 1", "commune_code": TAN_CUONG, "geometry": TAN_CUONG_POINT, "crops": ["chè"]}
    response = await client.post("/api/v1/plots", json=body | overrides, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def batch(client: Client, headers: dict[str, str], product_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"product_id": product_id, "quantity": "120.5", "unit": "kg", "harvest_date": "2025-06-01"} | overrides
    response = await client.post("/api/v1/batches", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def event(client: Client, headers: dict[str, str], batch_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/batches/{batch_id}/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def farm(client: Client, make_user: Any, role: str = "farmer") -> tuple[dict[str, str], dict[str, Any]]:
    """A signed-in user with their own organization."""
    headers = await make_user(role)
    kind = "cooperative" if role == "cooperative" else "household"
    return headers, await organization(client, headers, kind=kind)


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = dict(response.json())
    if code is not None:
        assert body["code"] == code, body
    return body


# --- rows written directly (scan-side arrangements) ------------------------------------------------


async def stored_organization(
    db: asyncpg.Connection, *, name: str = "HTX Chè Tân Cương", verified: bool = True, parent: uuid.UUID | None = None
) -> uuid.UUID:
    org_id: uuid.UUID = await db.fetchval(
        """
        insert into organizations (kind, name, parent_id, province_code, province_name, commune_code, commune_name,
                                   lat, lon, verification_status)
        values ('cooperative', $1, $2, 19, 'Thái Nguyên', '05503', 'Xã Tân Cương', 21.5942, 105.7718, $3)
        returning id
        """,
        name,
        parent,
        "verified" if verified else "unverified",
    )
    return org_id


async def stored_batch(
    db: asyncpg.Connection,
    org_id: uuid.UUID,
    *,
    gtin: str | None = GTIN,
    lot: str = "TC-2025/07",
    product_name: str = "Chè Tân Cương đặc biệt",
    english_name: str = "Tan Cuong special green tea",
    ocop_stars: int | None = 4,
) -> dict[str, Any]:
    """An organization's product and batch, with a harvest and a retail event and an OCOP certificate."""
    product_id = await db.fetchval(
        """
        insert into products (organization_id, gtin14, names, descriptions, category, ocop_stars)
        values ($1, $2, $3::jsonb, '{"vi": "Chè búp hái tay", "en": "Hand-picked buds"}'::jsonb, 'tea', $4)
        returning id
        """,
        org_id,
        gtin,
        f'{{"vi": {json.dumps(product_name)}, "en": {json.dumps(english_name)}}}',
        ocop_stars,
    )
    code = random_code(13)
    batch_id = await db.fetchval(
        """
        insert into batches (product_id, organization_id, lot, code, quantity, quantity_available, unit,
                             harvest_date, expiry_date)
        values ($1, $2, $3, $4, 120, 120, 'kg', '2025-07-02', '2026-07-02')
        returning id
        """,
        product_id,
        org_id,
        lot,
        code,
    )
    await stored_event(db, batch_id, "commissioning", None, "2025-07-02T08:00:00+07:00")
    await stored_event(
        db, batch_id, "retail_selling", "Cửa hàng Đặc sản Thái Nguyên, 12 Hoàng Văn Thụ", "2025-07-10T09:00:00+07:00"
    )
    cert_id = await db.fetchval(
        """
        insert into certifications (organization_id, product_id, kind, issuer, number, valid_from, valid_to, stars)
        values ($1, $2, 'ocop', 'UBND tỉnh Thái Nguyên', 'QĐ 1234/QĐ-UBND', '2024-01-01', $3, 4)
        returning id
        """,
        org_id,
        product_id,
        date(2027, 1, 1),
    )
    await stored_verification(db, cert_id)
    return {"id": batch_id, "code": code, "lot": lot, "gtin": gtin, "product_id": product_id, "org_id": org_id}


async def stored_authority(db: asyncpg.Connection, name: str = AUTHORITY) -> uuid.UUID:
    authority_id: uuid.UUID = await db.fetchval(
        "insert into authorities (name) values ($1) on conflict (name) do update set name = excluded.name returning id",
        name,
    )
    return authority_id


async def join_authority(db: asyncpg.Connection, user_id: uuid.UUID, name: str = AUTHORITY) -> uuid.UUID:
    authority_id = await stored_authority(db, name)
    await db.execute("update users set authority_id = $2 where id = $1", user_id, authority_id)
    return authority_id


async def stored_verification(db: asyncpg.Connection, cert_id: uuid.UUID) -> None:
    """An inspector of the test authority verified the certificate (a stored inspector account signs it)."""
    authority_id = await stored_authority(db)
    inspector_id = await db.fetchval(
        """
        insert into users (phone, password_hash, full_name, role, authority_id, is_active)
        values ('+84299999999', '!', 'Cán bộ kiểm tra', 'inspector', $1, false)
        on conflict (phone) do update set authority_id = excluded.authority_id
        returning id
        """,
        authority_id,
    )
    await db.execute(
        "insert into certification_reviews (certification_id, decision, authority_id, reviewer_id) "
        "values ($1, 'verified', $2, $3)",
        cert_id,
        authority_id,
        inspector_id,
    )


async def stored_event(db: asyncpg.Connection, batch_id: uuid.UUID, step: str, place: str | None, at: str) -> None:
    """Append an event the way the chain does (seq, hash fields) and bump the batch's head."""
    seq = await db.fetchval(
        "update batches set last_seq = last_seq + 1, updated_at = now() where id = $1 returning last_seq", batch_id
    )
    await db.execute(
        """
        insert into events (batch_id, seq, event_type, action, biz_step, event_time, details, prev_hash, hash)
        values ($1, $2, 'ObjectEvent', 'OBSERVE', $3, $4::text::timestamptz, $5::jsonb,
                repeat('0', 64), repeat('1', 64))
        """,
        batch_id,
        seq,
        step,
        at,
        "{}" if place is None else '{"destination": ' + json.dumps(place) + "}",
    )


async def join_organization(db: asyncpg.Connection, user_headers: dict[str, str], org_id: uuid.UUID) -> None:
    await db.execute(
        "update users set organization_id = $2 where id = $1", uuid.UUID(user_headers["X-User-Id"]), org_id
    )


async def stored_units(db: asyncpg.Connection, batch_id: uuid.UUID, count: int) -> list[str]:
    serials = [random_code(13) for _ in range(count)]
    await db.execute(
        "insert into units (batch_id, serial, seq) select $1, s, o from unnest($2::text[]) with ordinality as t(s, o)",
        batch_id,
        serials,
    )
    return serials


async def scan_count(db: asyncpg.Connection) -> int:
    value: int = await db.fetchval("select count(*) from scans")
    return value
