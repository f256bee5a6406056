"""Admin routes for partners and their API clients, and the partner's own credentials -> token exchange."""

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from service.auth.guards import CurrentUserDep, requires_role
from service.core.db import DB
from service.partners import service
from service.partners.schemas import ClientCreate, ClientCreated, ClientRead, Partner, PartnerCreate, PartnerRead

PartnerDep = NamedDependency[Partner]


async def provide_partner(request: Request[Any, Any, Any], db: DB) -> Partner:
    """The `partner` dependency of /epcis routes: HTTP Basic or a partner bearer token, checked on every request."""
    return await service.authenticate(
        db, request.headers.get("authorization", ""), request.app.state.settings.jwt_secret
    )


class PartnerAdminController(Controller):
    path = "/api/v1/admin/partners"
    tags = ["admin", "epcis"]
    guards = [requires_role("admin")]

    @post("/", operation_id="admin_create_partner", status_code=201)
    async def create_partner(self, current_user: CurrentUserDep, db: DB, data: JSONBody[PartnerCreate]) -> PartnerRead:
        """Register a partner organization (an exporter, a supermarket chain, the national portal)."""
        return await service.create_partner(db, current_user, data)

    @get("/", operation_id="admin_list_partners")
    async def list_partners(self, db: DB) -> list[PartnerRead]:
        """Every partner organization."""
        return await service.list_partners(db)

    @post("/{partner_id:uuid}/clients", operation_id="admin_create_partner_client", status_code=201)
    async def create_client(
        self, db: DB, partner_id: FromPath[uuid.UUID], data: JSONBody[ClientCreate]
    ) -> ClientCreated:
        """A new API client; its secret is shown in this answer only."""
        return await service.create_client(db, partner_id, data)

    @get("/{partner_id:uuid}/clients", operation_id="admin_list_partner_clients")
    async def list_clients(self, db: DB, partner_id: FromPath[uuid.UUID]) -> list[ClientRead]:
        """The partner's clients, revoked ones included (never their secrets)."""
        return await service.list_clients(db, partner_id)

    @post(
        "/{partner_id:uuid}/clients/{client_id:uuid}/revoke",
        operation_id="admin_revoke_partner_client",
        status_code=200,
    )
    async def revoke_client(
        self, db: DB, partner_id: FromPath[uuid.UUID], client_id: FromPath[uuid.UUID]
    ) -> ClientRead:
        """Revoke a client: its Basic credentials and bearer tokens are refused from the next request on."""
        return await service.revoke_client(db, partner_id, client_id)
