"""Organizations, memberships, certifications, products and plots: validation and who may see what."""

import uuid
from typing import Any

import asyncpg
import pytest

from tests.support import factories as f
from tests.support.app import concurrently


async def test_farmer_registers_one_household_with_official_commune(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers = await make_user("farmer")
    org = await f.organization(client, headers, former_district="TP Thái Nguyên")
    assert org["commune_name"] == "Xã Tân Cương"
    assert org["province_code"] == 19
    assert org["contact_phone"] == "+84912345678"
    assert org["verification_status"] == "unverified"
    assert await db.fetchval(
        "select organization_id from users where id = $1", uuid.UUID(headers["X-User-Id"])
    ) == uuid.UUID(org["id"])
    again = await client.post(
        "/api/v1/organizations", json={"name": "Hộ 2", "commune_code": f.TAN_CUONG}, headers=headers
    )
    f.assert_problem(again, 409, "already_member")
    coop = await client.post(
        "/api/v1/organizations",
        json={"kind": "cooperative", "name": "HTX", "commune_code": f.TAN_CUONG},
        headers=await make_user(),
    )
    f.assert_problem(coop, 403, "kind_not_allowed")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"commune_code": "00001"}, 422, "unknown_commune"),
        ({"commune_code": "00004"}, 422, "unknown_commune"),  # Phường Ba Đình, Hà Nội: not Thái Nguyên
        ({"lat": 105.76, "lon": 21.56}, 400, "validation_failed"),
        ({"lat": 21.56, "lon": 89.0}, 422, "outside_province"),
        ({"lat": 21.56, "lon": None}, 422, "incomplete_coordinates"),
        ({"contact_phone": "1" * 33}, 400, "validation_failed"),
        ({"contact_phone": "0000 000"}, 422, "invalid_phone"),
        ({"name": "x" * 201}, 400, "validation_failed"),
        ({"name": "\t"}, 400, "validation_failed"),  # trimmed it would be empty
        ({"name": " \u00a0 "}, 400, "validation_failed"),
        ({"name": "Hộ", "parent_id": str(uuid.uuid4())}, 404, "organization_not_found"),
    ],
)
async def test_bad_organization_input(
    client: f.Client, db: asyncpg.Connection, make_user: Any, change: dict[str, Any], status: int, code: str
) -> None:
    headers = await make_user("farmer")
    body = {"name": "Hộ chè", "commune_code": f.TAN_CUONG} | change
    f.assert_problem(await client.post("/api/v1/organizations", json=body, headers=headers), status, code)
    assert await db.fetchval("select count(*) from organizations") == 0


async def test_swapped_coordinates_inside_the_box_are_named(client: f.Client, make_user: Any) -> None:
    headers = await make_user("farmer")
    area_body = {
        "name": "Đồi",
        "commune_code": f.TAN_CUONG,
        "geometry": {"type": "Point", "coordinates": [21.56, 105.76]},
    }
    await f.organization(client, headers)
    f.assert_problem(await client.post("/api/v1/plots", json=area_body, headers=headers), 422, "coordinates_swapped")


async def test_private_data_stays_in_the_organization(client: f.Client, make_user: Any) -> None:
    owner, org = await f.farm(client, make_user)
    stranger, _ = await f.farm(client, make_user)
    inspector = await make_user("inspector")
    f.assert_problem(
        await client.get(f"/api/v1/organizations/{org['id']}", headers=stranger), 404, "organization_not_found"
    )
    f.assert_problem(
        await client.patch(f"/api/v1/organizations/{org['id']}", json={"name": "Của tôi"}, headers=stranger),
        404,
        "organization_not_found",
    )
    assert (await client.get(f"/api/v1/organizations/{org['id']}", headers=inspector)).json()["contact_phone"]
    public = (await client.get(f"/api/v1/producers/{org['id']}")).json()
    assert "contact_phone" not in public
    assert "contact_email" not in public
    listed = (await client.get("/api/v1/organizations", headers=stranger)).json()
    assert org["id"] not in [o["id"] for o in listed]
    changed = await client.patch(f"/api/v1/organizations/{org['id']}", json={"name": "Hộ chè Minh Hạnh"}, headers=owner)
    assert changed.json()["name"] == "Hộ chè Minh Hạnh"


async def test_verification_by_inspectors_only(client: f.Client, make_user: Any) -> None:
    owner, org = await f.farm(client, make_user)
    f.assert_problem(
        await client.put(f"/api/v1/organizations/{org['id']}/verification", json={"status": "verified"}, headers=owner),
        403,
    )
    inspector = await make_user("inspector")
    done = await client.put(
        f"/api/v1/organizations/{org['id']}/verification", json={"status": "verified"}, headers=inspector
    )
    assert done.status_code == 200
    assert done.json()["verification_status"] == "verified"
    assert done.json()["verified_by"] == inspector["X-User-Id"]
    missing = await client.put(
        f"/api/v1/organizations/{uuid.uuid4()}/verification", json={"status": "verified"}, headers=inspector
    )
    f.assert_problem(missing, 404, "organization_not_found")


async def test_cooperative_members(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    coop_headers, coop = await f.farm(client, make_user, role="cooperative")
    member = await f.organization(client, coop_headers, name="Hộ bà Trần Thị B", parent_id=coop["id"])
    farmer = await make_user("farmer")
    added = await client.post(
        f"/api/v1/organizations/{member['id']}/members", json={"phone": farmer["X-Phone"]}, headers=coop_headers
    )
    assert added.status_code == 200, added.text
    assert (await client.get(f"/api/v1/organizations/{member['id']}", headers=farmer)).status_code == 200
    other_coop, _ = await f.farm(client, make_user, role="cooperative")
    f.assert_problem(
        await client.post(
            f"/api/v1/organizations/{member['id']}/members", json={"phone": farmer["X-Phone"]}, headers=other_coop
        ),
        404,
    )
    foreign_member = await client.post(
        "/api/v1/organizations",
        json={"name": "Hộ C", "commune_code": f.TAN_CUONG, "parent_id": coop["id"]},
        headers=other_coop,
    )
    f.assert_problem(foreign_member, 404, "organization_not_found")


async def test_certifications(client: f.Client, make_user: Any) -> None:
    owner, org = await f.farm(client, make_user)
    url = f"/api/v1/organizations/{org['id']}/certifications"
    ocop = {
        "kind": "ocop",
        "issuer": "UBND tỉnh Thái Nguyên",
        "number": "OCOP-2024-17",
        "valid_from": "2024-03-01",
        "valid_to": "2027-03-01",
        "stars": 4,
        "decision_number": "QĐ 512/QĐ-UBND",
    }
    assert (await client.post(url, json=ocop, headers=owner)).status_code == 201
    f.assert_problem(await client.post(url, json=ocop | {"stars": None}, headers=owner), 422, "ocop_stars_required")
    f.assert_problem(await client.post(url, json=ocop | {"stars": 6}, headers=owner), 400, "validation_failed")
    f.assert_problem(await client.post(url, json=ocop | {"kind": "vietgap"}, headers=owner), 422, "stars_not_allowed")
    f.assert_problem(
        await client.post(url, json=ocop | {"valid_to": "2020-01-01"}, headers=owner), 422, "invalid_validity"
    )
    stranger, _ = await f.farm(client, make_user)
    f.assert_problem(await client.post(url, json=ocop, headers=stranger), 404)
    f.assert_problem(await client.post(url, json=ocop, headers=await make_user("editor")), 403)
    assert len((await client.get(url, headers=owner)).json()) == 1


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"gtin": "8930000000018"}, 422, "invalid_gtin"),
        ({"gtin": "89300000000A9"}, 422, "invalid_gtin"),
        ({"names": {"en": "Tea"}}, 422, "vietnamese_required"),
        ({"names": {"vi": "x" * 201}}, 422, "text_too_long"),
        ({"descriptions": {"vi": "x" * 5001}}, 422, "text_too_long"),
        ({"category": "coffee"}, 400, "validation_failed"),
        ({"ocop_stars": 0}, 400, "validation_failed"),
        ({"organization_id": str(uuid.uuid4())}, 404, "organization_not_found"),
    ],
)
async def test_bad_product_input(
    client: f.Client, db: asyncpg.Connection, make_user: Any, change: dict[str, Any], status: int, code: str
) -> None:
    headers, _ = await f.farm(client, make_user)
    body = {"names": {"vi": "Chè"}, "category": "tea"} | change
    f.assert_problem(await client.post("/api/v1/products", json=body, headers=headers), status, code)
    assert await db.fetchval("select count(*) from products") == 0


async def test_products_need_an_organization_and_gtins_are_unique(client: f.Client, make_user: Any) -> None:
    lonely = await make_user("farmer")
    response = await client.post("/api/v1/products", json={"names": {"vi": "Chè"}, "category": "tea"}, headers=lonely)
    f.assert_problem(response, 409, "no_organization")
    headers, _ = await f.farm(client, make_user)
    await f.product(client, headers, gtin="08930000000019")
    dup = await client.post(
        "/api/v1/products", json={"names": {"vi": "Chè"}, "category": "tea", "gtin": "8930000000019"}, headers=headers
    )
    f.assert_problem(dup, 409, "gtin_taken")


async def test_products_of_others_are_invisible(client: f.Client, make_user: Any) -> None:
    owner, _ = await f.farm(client, make_user)
    prod = await f.product(client, owner)
    stranger, _ = await f.farm(client, make_user)
    f.assert_problem(await client.get(f"/api/v1/products/{prod['id']}", headers=stranger), 404, "product_not_found")
    f.assert_problem(
        await client.patch(f"/api/v1/products/{prod['id']}", json={"ocop_stars": 5}, headers=stranger),
        404,
        "product_not_found",
    )
    updated = await client.patch(f"/api/v1/products/{prod['id']}", json={"ocop_stars": 4, "gtin": None}, headers=owner)
    assert updated.json()["ocop_stars"] == 4


async def test_plots_and_inputs(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    ring = [[105.76, 21.56], [105.77, 21.56], [105.77, 21.57], [105.76, 21.56]]
    area = await f.plot(client, headers, geometry={"type": "Polygon", "coordinates": [ring]}, area_m2="5400")
    assert 21.56 < area["lat"] < 21.57
    bad_geometries = [
        {"type": "Polygon", "coordinates": [ring[:-1]]},
        {"type": "LineString", "coordinates": ring},
        {"type": "Point", "coordinates": [105.7, "21.5"]},
        {"type": "Point", "coordinates": [105.7, 21.5], "crs": "x"},
    ]
    for geometry in bad_geometries:
        body = {"name": "Đồi", "commune_code": f.TAN_CUONG, "geometry": geometry}
        f.assert_problem(await client.post("/api/v1/plots", json=body, headers=headers), 422, "invalid_geometry")
    url = f"/api/v1/plots/{area['id']}/inputs"
    f.assert_problem(
        await client.post(url, json={"applied_on": "2999-01-01", "product_name": "Phân bón"}, headers=headers),
        422,
        "date_in_future",
    )
    f.assert_problem(
        await client.post(url, json={"applied_on": "2025-01-01", "product_name": "P", "phi_days": -1}, headers=headers),
        400,
    )
    stranger, _ = await f.farm(client, make_user)
    f.assert_problem(
        await client.post(url, json={"applied_on": "2025-01-01", "product_name": "P"}, headers=stranger),
        404,
        "plot_not_found",
    )
    f.assert_problem(await client.get(url, headers=stranger), 404, "plot_not_found")
    f.assert_problem(
        await client.post(
            f"/api/v1/plots/{uuid.uuid4()}/inputs",
            json={"applied_on": "2025-01-01", "product_name": "P"},
            headers=headers,
        ),
        404,
    )
    assert await db.fetchval("select count(*) from plot_inputs") == 0
    assert await db.fetchval("select count(*) from plots") == 1


async def test_two_parallel_creations_by_one_user_leave_no_orphan(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers = await make_user("farmer")
    body = {"kind": "household", "commune_code": f.TAN_CUONG}
    answers = await concurrently(
        client,
        [
            ("POST", "/api/v1/organizations", {"json": {**body, "name": f"Hộ chè {i}"}, "headers": headers})
            for i in range(4)
        ],
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    created = next(a.json() for a in answers if a.status_code == 201)
    assert await db.fetchval("select count(*) from organizations") == 1, "an organization nobody belongs to"
    linked = await db.fetchval("select organization_id from users where id = $1", uuid.UUID(headers["X-User-Id"]))
    assert str(linked) == created["id"]
