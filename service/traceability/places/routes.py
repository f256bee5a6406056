"""Routes of the place register: create, list, read (public), change and delete named places."""

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.auth.guards import CurrentUserDep, requires_role
from service.auth.schemas import Role
from service.core.db import DB
from service.traceability.places import service
from service.traceability.places.schemas import PlaceCreate, PlaceRead, PlaceUpdate

WRITERS: tuple[Role, ...] = ("farmer", "cooperative", "admin")


class PlaceController(Controller):
    path = "/api/v1/places"
    tags = ["traceability: places"]

    @post("", operation_id="create_place", guards=[requires_role(*WRITERS)], status_code=201)
    async def create(self, current_user: CurrentUserDep, db: DB, data: JSONBody[PlaceCreate]) -> PlaceRead:
        """Add a named place (farm, packhouse, warehouse, shop, market) that events and shops can name."""
        return await service.create_place(db, current_user, data)

    @get("", operation_id="list_places")
    async def list_all(
        self,
        current_user: CurrentUserDep,
        db: DB,
        organization_id: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[PlaceRead]:
        """Places of your organization and member farms; inspectors and admins see all."""
        return await service.list_places(db, current_user, organization_id, limit)

    @get("/{place_id:uuid}", operation_id="get_place", exclude_from_auth=True)
    async def get_one(self, db: DB, place_id: FromPath[uuid.UUID]) -> PlaceRead:
        """One place: public, as the shopper page names it (the URI events' bizLocation points to)."""
        return await service.public_place(db, place_id)

    @patch("/{place_id:uuid}", operation_id="update_place", guards=[requires_role(*WRITERS)])
    async def update(
        self, current_user: CurrentUserDep, db: DB, place_id: FromPath[uuid.UUID], data: JSONBody[PlaceUpdate]
    ) -> PlaceRead:
        """Change a place's names, kind, commune, GLN or position."""
        return await service.update_place(db, current_user, place_id, data)

    @delete("/{place_id:uuid}", operation_id="delete_place", guards=[requires_role(*WRITERS)])
    async def remove(self, current_user: CurrentUserDep, db: DB, place_id: FromPath[uuid.UUID]) -> None:
        """Delete a place that no event names yet."""
        await service.delete_place(db, current_user, place_id)
