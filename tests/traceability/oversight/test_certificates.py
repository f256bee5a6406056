"""Certificates go through verification: declared by the producer until an inspector of an authority decides."""

import hashlib
import io
import uuid
from typing import Any

import asyncpg
import pytest
from PIL import Image

from tests.support import factories as f
from tests.support.app import UserFactory

VIETGAP = {
    "kind": "vietgap",
    "issuer": "Trung tâm Chứng nhận phù hợp",
    "number": "VG-2025-0042",
    "valid_from": "2025-01-01",
}


async def shopper_page(client: f.Client, headers: dict[str, str], product_id: str) -> tuple[str, dict[str, Any]]:
    lot = await f.batch(client, headers, product_id, lot=uuid.uuid4().hex[:8].upper())
    code = lot["code"]
    html = (await client.get(f"/trace/{code}")).text
    body = (await client.get(f"/trace/{code}", headers={"Accept": "application/json"})).json()
    return html, body


async def upload_certificate_photo(client: f.Client, headers: dict[str, str]) -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (250, 250, 240)).save(out, format="JPEG")
    data = out.getvalue()
    declared = await client.post(
        "/api/v1/media",
        json={
            "purpose": "certificate",
            "content_type": "image/jpeg",
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        headers=headers,
    )
    assert declared.status_code == 201, declared.text
    target = declared.json()
    put = await client.request(target["method"], target["upload_url"], content=data, headers=target["headers"])
    assert put.status_code == 204
    assert (await client.post(f"/api/v1/media/{target['id']}/complete", headers=headers)).status_code == 200
    return str(target["id"])


async def test_a_self_declared_certificate_shows_as_declared_until_verified(
    client: f.Client, make_user: UserFactory
) -> None:
    owner, org = await f.farm(client, make_user)
    prod = await f.product(client, owner)
    document = await upload_certificate_photo(client, owner)
    created = await client.post(
        f"/api/v1/organizations/{org['id']}/certifications",
        json=VIETGAP | {"document_media_id": document},
        headers=owner,
    )
    assert created.status_code == 201, created.text
    cert = created.json()
    assert cert["status"] == "declared" and cert["reviewed_by_authority"] is None
    assert cert["document_media_id"] == document

    html, body = await shopper_page(client, owner, prod["id"])
    (shown,) = body["certifications"]
    assert shown["status"] == "declared" and shown["claim"]["kind"] == "declared"
    assert shown["claim"]["by"] == org["name"]
    assert "Nhà sản xuất tự khai, chờ xác minh" in html and 'id="tu-khai"' in html

    inspector = await make_user("inspector")
    queue = (await client.get("/api/v1/inspections/queue", headers=inspector)).json()
    (pending,) = queue["certificates"]
    assert pending["id"] == cert["id"] and pending["document_url"].endswith(f"/api/v1/media/{document}")
    verified = await client.post(
        f"/api/v1/certifications/{cert['id']}/reviews", json={"decision": "verified"}, headers=inspector
    )
    assert verified.status_code == 201, verified.text
    assert verified.json()["status"] == "verified"
    assert verified.json()["reviewed_by_authority"] == f.AUTHORITY
    assert (await client.get("/api/v1/inspections/queue", headers=inspector)).json()["certificates"] == []

    html, body = await shopper_page(client, owner, prod["id"])
    (shown,) = body["certifications"]
    assert shown["status"] == "verified" and shown["claim"]["kind"] == "verified"
    assert shown["claim"]["by"] == f.AUTHORITY and shown["claim"]["at"] is not None
    assert f"✓ {f.AUTHORITY} xác nhận" in html and 'id="verified"' in html


async def test_rejection_needs_a_reason_and_hides_the_claim(
    client: f.Client, make_user: UserFactory, db: asyncpg.Connection
) -> None:
    owner, org = await f.farm(client, make_user)
    prod = await f.product(client, owner)
    cert = (await client.post(f"/api/v1/organizations/{org['id']}/certifications", json=VIETGAP, headers=owner)).json()
    inspector = await make_user("inspector")
    url = f"/api/v1/certifications/{cert['id']}/reviews"
    f.assert_problem(await client.post(url, json={"decision": "rejected"}, headers=inspector), 422, "reason_required")
    f.assert_problem(await client.post(url, json={"decision": "verified"}, headers=owner), 403)
    no_authority = await make_user("inspector", authority=None)
    f.assert_problem(await client.post(url, json={"decision": "verified"}, headers=no_authority), 403, "no_authority")
    rejected = await client.post(
        url,
        json={"decision": "rejected", "reason": "Số chứng nhận không có trong sổ của tổ chức cấp"},
        headers=inspector,
    )
    assert rejected.status_code == 201 and rejected.json()["status"] == "rejected"
    trail = (await client.get(url, headers=owner)).json()
    assert [(r["decision"], r["authority_name"]) for r in trail] == [("rejected", f.AUTHORITY)]
    _, body = await shopper_page(client, owner, prod["id"])
    assert body["certifications"] == []
    with pytest.raises(asyncpg.exceptions.RestrictViolationError):
        await db.execute("update certification_reviews set decision = 'verified'")


async def test_ocop_stars_come_only_from_a_verified_unexpired_ocop_certificate(
    client: f.Client, make_user: UserFactory
) -> None:
    owner, org = await f.farm(client, make_user)
    prod = await f.product(client, owner, ocop_stars=5)  # typed in: not a public claim
    html, body = await shopper_page(client, owner, prod["id"])
    assert body["ocop_stars"] is None and "OCOP 5 sao" not in html
    certs = f"/api/v1/organizations/{org['id']}/certifications"
    ocop = {
        "kind": "ocop",
        "issuer": "UBND tỉnh Thái Nguyên",
        "number": "OCOP-2025-17",
        "valid_from": "2025-01-01",
        "valid_to": "2028-01-01",
        "stars": 4,
        "product_id": prod["id"],
    }
    cert = (await client.post(certs, json=ocop, headers=owner)).json()
    _, body = await shopper_page(client, owner, prod["id"])
    assert body["ocop_stars"] is None  # declared, not yet verified
    inspector = await make_user("inspector")
    await client.post(f"/api/v1/certifications/{cert['id']}/reviews", json={"decision": "verified"}, headers=inspector)
    html, body = await shopper_page(client, owner, prod["id"])
    assert body["ocop_stars"] == 4 and body["ocop_claim"]["by"] == f.AUTHORITY
    assert "OCOP 4 sao" in html

    expired = ocop | {"number": "OCOP-2019-01", "valid_from": "2019-01-01", "valid_to": "2022-01-01", "stars": 5}
    old = (await client.post(certs, json=expired, headers=owner)).json()
    await client.post(f"/api/v1/certifications/{old['id']}/reviews", json={"decision": "verified"}, headers=inspector)
    html, body = await shopper_page(client, owner, prod["id"])
    assert body["ocop_stars"] == 4  # the expired 5-star certificate gives no stars
    assert {c["number"]: c["status"] for c in body["certifications"]} == {
        "OCOP-2025-17": "verified",
        "OCOP-2019-01": "expired",
    }
    assert "ĐÃ HẾT HIỆU LỰC" in html


async def test_authorities_and_their_inspectors_are_managed_by_admins(client: f.Client, make_user: UserFactory) -> None:
    admin = await make_user("admin")
    farmer = await make_user("farmer")
    body = {"name": "Chi cục Trồng trọt và Bảo vệ thực vật Thái Nguyên"}
    f.assert_problem(await client.post("/api/v1/authorities", json=body, headers=farmer), 403)
    created = await client.post("/api/v1/authorities", json=body, headers=admin)
    assert created.status_code == 201
    f.assert_problem(await client.post("/api/v1/authorities", json=body, headers=admin), 409, "authority_exists")
    for blank in ("\t", "  ", "\r\n"):  # found by the OpenAPI fuzz: a TAB trimmed to nothing was a 500
        f.assert_problem(await client.post("/api/v1/authorities", json={"name": blank}, headers=admin), 400)
    authority = created.json()
    members = f"/api/v1/authorities/{authority['id']}/inspectors"
    newcomer = await make_user("inspector", authority=None)
    joined = await client.post(members, json={"phone": newcomer["X-Phone"]}, headers=admin)
    assert joined.status_code == 200 and joined.json()["authority_id"] == authority["id"]
    f.assert_problem(
        await client.post(members, json={"phone": farmer["X-Phone"]}, headers=admin), 422, "not_an_inspector"
    )
    elsewhere = await make_user("inspector")
    f.assert_problem(
        await client.post(members, json={"phone": elsewhere["X-Phone"]}, headers=admin), 409, "already_in_authority"
    )
    names = [a["name"] for a in (await client.get("/api/v1/authorities", headers=farmer)).json()]
    assert body["name"] in names
