"""Route of the unknown-identifier signal: scans of a known GTIN with a lot or serial never registered."""

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from service.auth.guards import CurrentUserDep, requires_role
from service.core.db import DB
from service.traceability.scan.unknown import UnknownScan, list_unknown_scans


class UnknownIdentifierScansController(Controller):
    path = "/api/v1/scans"
    tags = ["traceability: codes and scans"]

    @get(
        "/unknown-identifiers",
        operation_id="unknown_identifier_scans",
        guards=[requires_role("farmer", "cooperative", "inspector", "admin")],
    )
    async def unknown_identifiers(
        self,
        current_user: CurrentUserDep,
        db: DB,
        since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> list[UnknownScan]:
        """Scans of your products with a lot or serial you never registered, per day (inspectors: the province)."""
        return await list_unknown_scans(db, current_user, since, until, limit)
