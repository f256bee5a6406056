"""A producer hands its batches to partners: /api/v1/batches/{batch_id}/partners (users, not partners)."""

import uuid

from litestar import Controller, delete, get, put
from litestar.params import FromPath

from service.auth.guards import CurrentUserDep, requires_role
from service.core.db import DB
from service.traceability.epcis import holdings
from service.traceability.epcis.schemas import HoldingRead


class HoldingController(Controller):
    path = "/api/v1/batches/{batch_id:uuid}/partners"
    guards = [requires_role("farmer", "cooperative", "admin")]
    tags = ["traceability: batches"]

    @get("", operation_id="list_batch_partners")
    async def list_holders(
        self, current_user: CurrentUserDep, db: DB, batch_id: FromPath[uuid.UUID]
    ) -> list[HoldingRead]:
        """The partners holding this batch (they may capture EPCIS events onto it)."""
        return await holdings.list_holders(db, current_user, batch_id)

    @put("/{partner_id:uuid}", operation_id="grant_batch_to_partner")
    async def grant(
        self, current_user: CurrentUserDep, db: DB, batch_id: FromPath[uuid.UUID], partner_id: FromPath[uuid.UUID]
    ) -> HoldingRead:
        """Hand this batch to a partner: its EPCIS captures may then name it (granting again changes nothing)."""
        return await holdings.grant(db, current_user, batch_id, partner_id)

    @delete("/{partner_id:uuid}", operation_id="revoke_batch_from_partner", status_code=204)
    async def revoke(
        self, current_user: CurrentUserDep, db: DB, batch_id: FromPath[uuid.UUID], partner_id: FromPath[uuid.UUID]
    ) -> None:
        """Take the batch back: the partner's later captures naming it are refused."""
        await holdings.revoke(db, current_user, batch_id, partner_id)
