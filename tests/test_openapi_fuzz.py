"""The fuzzing gate: schemathesis drives every operation of the app's own OpenAPI document.

Any 5xx, or a response that contradicts the declared schema, fails the suite. It runs signed in as an
admin so guarded operations are exercised past their guards, against the real database; the EPCIS
operations (/epcis/..., for partners, not users) with a partner API client's credentials (HTTP Basic),
so the fuzzer reaches their handlers too.
"""

import asyncio
from typing import Any, NamedTuple

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from service.app import create_app
from service.auth.guards import build_jwt_auth
from service.auth.schemas import CurrentUser
from service.auth.service import create_user
from service.partners import service as partners
from service.partners.schemas import ClientCreate, PartnerCreate
from service.settings import Settings
from tests.conftest import TEST_JWT_SECRET
from tests.support.epcis import basic


class Credentials(NamedTuple):
    admin: dict[str, str]
    partner: dict[str, str]


@pytest.fixture
def credentials(database_url: str, settings: Settings) -> Credentials:
    import asyncpg

    async def make() -> Credentials:
        conn = await asyncpg.connect(database_url)
        try:
            user = await create_user(
                conn, phone="0900000001", password="fuzz-admin-pass", full_name="Fuzz", role="admin"
            )
            admin = CurrentUser(id=user.id, role="admin")
            partner = await partners.create_partner(conn, admin, PartnerCreate(name="Fuzz partner"))
            api_client = await partners.create_client(conn, partner.id, ClientCreate(scopes=["capture", "query"]))
        finally:
            await conn.close()
        token = build_jwt_auth(settings).create_token(identifier=str(user.id), token_extras={"role": "admin", "ver": 1})
        return Credentials(
            admin={"Authorization": f"Bearer {token}"},
            partner=basic(str(api_client.client_id), api_client.client_secret),
        )

    return asyncio.run(make())


# The OpenAPI document is built without starting the app, so no database is needed to collect the tests;
# each test then calls its own app, wired to its own fresh database.
_schema_app = create_app(
    Settings(env="test", database_url="postgresql://schema-only.invalid/none", jwt_secret=TEST_JWT_SECRET)
)
schema = schemathesis.openapi.from_dict(_schema_app.openapi_schema.to_schema())
schema.app = _schema_app


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_fails_or_contradicts_its_schema(case: Any, app: Litestar, credentials: Credentials) -> None:
    partner_operation = case.path.startswith("/epcis/")
    response = case.call_and_validate(
        app=app,
        headers=credentials.partner if partner_operation else credentials.admin,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
    assert not (partner_operation and response.status_code == 401), "the fuzzer did not get past the partner check"
