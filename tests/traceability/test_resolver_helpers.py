"""Shared arrangements for the scan-side tests: rows written with plain SQL, and the app with the scan lifespan.

The lead wires `scan_side_lifespan` into create_app; until then (and harmlessly after) the `scan_app`
helper appends it, so every test runs the real buffer-and-flush path.
"""

import uuid
from datetime import date
from typing import Any

import asyncpg
from litestar import Litestar

from service.app import create_app
from service.settings import Settings
from service.traceability.gs1 import random_code

BASE = "https://trace.example.vn"
GTIN = "08935049510017"  # valid check digit


def scan_app(settings: Settings) -> Litestar:
    return create_app(settings)


async def make_org(
    db: asyncpg.Connection, *, name: str = "HTX Chè Tân Cương", verified: bool = True, parent: uuid.UUID | None = None
) -> uuid.UUID:
    org_id: uuid.UUID = await db.fetchval(
        """
        insert into organizations (kind, name, parent_id, province_code, province_name, commune_code, commune_name,
                                   lat, lon, verification_status)
        values ('cooperative', $1, $2, 19, 'Thái Nguyên', '05443', 'Xã Tân Cương', 21.5942, 105.7718, $3)
        returning id
        """,
        name,
        parent,
        "verified" if verified else "unverified",
    )
    return org_id


async def make_batch(
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
        f'{{"vi": {_json(product_name)}, "en": {_json(english_name)}}}',
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
    await add_event(db, batch_id, "commissioning", None, "2025-07-02T08:00:00+07:00")
    await add_event(
        db, batch_id, "retail_selling", "Cửa hàng Đặc sản Thái Nguyên, 12 Hoàng Văn Thụ", "2025-07-10T09:00:00+07:00"
    )
    await db.execute(
        """
        insert into certifications (organization_id, product_id, kind, issuer, number, valid_from, valid_to, stars)
        values ($1, $2, 'ocop', 'UBND tỉnh Thái Nguyên', 'QĐ 1234/QĐ-UBND', '2024-01-01', $3, 4)
        """,
        org_id,
        product_id,
        date(2027, 1, 1),
    )
    return {"id": batch_id, "code": code, "lot": lot, "gtin": gtin, "product_id": product_id, "org_id": org_id}


def _json(value: str) -> str:
    import json

    return json.dumps(value)


async def add_event(db: asyncpg.Connection, batch_id: uuid.UUID, step: str, place: str | None, at: str) -> None:
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
        "{}" if place is None else '{"destination": ' + _json(place) + "}",
    )


async def join_org(db: asyncpg.Connection, user_headers: dict[str, str], org_id: uuid.UUID) -> None:
    await db.execute(
        "update users set organization_id = $2 where id = $1", uuid.UUID(user_headers["X-User-Id"]), org_id
    )


async def add_units(db: asyncpg.Connection, batch_id: uuid.UUID, count: int) -> list[str]:
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
