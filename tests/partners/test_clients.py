"""Partner API clients: made by admins only, secrets shown once, Basic or bearer, revocation at once."""

from typing import Any

from tests.support import epcis as e
from tests.support import factories as f


async def test_only_admins_manage_partners(client: f.Client, make_user: Any) -> None:
    farmer = await make_user("farmer")
    f.assert_problem(await client.post("/api/v1/admin/partners", json={"name": "X"}, headers=farmer), 403)
    f.assert_problem(await client.get("/api/v1/admin/partners"), 401)


async def test_a_client_signs_in_with_basic_or_a_token_until_revoked(client: f.Client, make_user: Any) -> None:
    admin = await make_user("admin")
    created, basic = await e.partner_client(client, admin)
    listed = (await client.get(f"/api/v1/admin/partners/{created['partner_id']}/clients", headers=admin)).json()
    assert [c["client_id"] for c in listed] == [created["client_id"]]
    assert "client_secret" not in listed[0]

    assert (await client.get("/epcis/queries", headers=basic)).status_code == 200
    wrong = e.basic(created["client_id"], created["client_secret"] + "x")
    problem = f.assert_problem(await client.get("/epcis/queries", headers=wrong), 401, "partner_unauthorized")
    assert problem["detail"]
    token = (await client.post("/epcis/token", headers=basic)).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 900
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await client.get("/epcis/queries", headers=bearer)).status_code == 200
    tampered = {"Authorization": f"Bearer {token['access_token'][:-2]}AA"}
    f.assert_problem(await client.get("/epcis/queries", headers=tampered), 401)

    revoked = await client.post(
        f"/api/v1/admin/partners/{created['partner_id']}/clients/{created['client_id']}/revoke", headers=admin
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    f.assert_problem(await client.get("/epcis/queries", headers=basic), 401)
    f.assert_problem(await client.get("/epcis/queries", headers=bearer), 401)


async def test_a_client_without_the_capture_scope_cannot_capture(client: f.Client, make_user: Any) -> None:
    admin = await make_user("admin")
    _, reader = await e.partner_client(client, admin, scopes=("query",))
    response = await client.post("/epcis/capture", json=e.document(), headers=reader)
    f.assert_problem(response, 403, "scope_missing")
