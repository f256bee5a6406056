"""Routes of the register: organizations, members, certifications, producers, products, plots, inputs; open data."""

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from service.auth.guards import CurrentUserDep, requires_role
from service.auth.schemas import Role
from service.core.db import DB, ReadDB
from service.core.http_files import content_disposition
from service.traceability import public
from service.traceability.registry import datasets
from service.traceability.registry import service as services
from service.traceability.registry.schemas import (
    CertificationCreate,
    CertificationRead,
    InputCreate,
    InputRead,
    OrganizationCreate,
    OrganizationPublic,
    OrganizationRead,
    OrganizationUpdate,
    PlotCreate,
    PlotRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VerificationUpdate,
)

WRITERS: tuple[Role, ...] = ("farmer", "cooperative", "admin")
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


class MemberAdd(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    phone: Annotated[str, Meta(min_length=3, max_length=32)]


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    tags = ["traceability: organizations"]

    @post("", operation_id="create_organization", guards=[requires_role(*WRITERS)], status_code=201)
    async def create(
        self, current_user: CurrentUserDep, db: DB, data: JSONBody[OrganizationCreate]
    ) -> OrganizationRead:
        """Register your household farm or cooperative (or, for a cooperative, a member farm)."""
        return await services.create_organization(db, current_user, data)

    @get("", operation_id="list_organizations")
    async def list_all(
        self, current_user: CurrentUserDep, db: DB, limit: Limit = 50, offset: Offset = 0
    ) -> list[OrganizationRead]:
        """Your organization and its member farms; inspectors and admins see all."""
        user = current_user
        return await services.list_organizations(db, user, limit=limit, offset=offset)

    @get("/{org_id:uuid}", operation_id="get_organization")
    async def get_one(self, current_user: CurrentUserDep, db: DB, org_id: FromPath[uuid.UUID]) -> OrganizationRead:
        """The full record, private contact included: members, their cooperative, inspectors, admins."""
        return await services.get_organization(db, current_user, org_id)

    @patch("/{org_id:uuid}", operation_id="update_organization", guards=[requires_role(*WRITERS)])
    async def update(
        self,
        current_user: CurrentUserDep,
        db: DB,
        org_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationUpdate],
    ) -> OrganizationRead:
        """Change your organization's details."""
        return await services.update_organization(db, current_user, org_id, data)

    @put(
        "/{org_id:uuid}/verification",
        operation_id="set_organization_verification",
        guards=[requires_role("inspector", "admin")],
    )
    async def verify(
        self,
        current_user: CurrentUserDep,
        db: DB,
        org_id: FromPath[uuid.UUID],
        data: JSONBody[VerificationUpdate],
    ) -> OrganizationRead:
        """Mark a producer verified (or rejected) after an inspection."""
        return await services.set_verification(db, current_user, org_id, data)

    @post(
        "/{org_id:uuid}/members",
        operation_id="add_organization_member",
        guards=[requires_role("cooperative", "admin")],
        status_code=200,
    )
    async def add_member(
        self, current_user: CurrentUserDep, db: DB, org_id: FromPath[uuid.UUID], data: JSONBody[MemberAdd]
    ) -> OrganizationRead:
        """Link an existing account (by phone) to a farm the cooperative manages."""
        return await services.add_member(db, current_user, org_id, data.phone)

    @post(
        "/{org_id:uuid}/certifications",
        operation_id="add_certification",
        guards=[requires_role(*WRITERS)],
        status_code=201,
    )
    async def add_certification(
        self,
        current_user: CurrentUserDep,
        db: DB,
        org_id: FromPath[uuid.UUID],
        data: JSONBody[CertificationCreate],
    ) -> CertificationRead:
        """Submit a certificate (VietGAP, organic, OCOP, GI): declared until an inspector verifies it."""
        return await services.add_certification(db, current_user, org_id, data)

    @get("/{org_id:uuid}/certifications", operation_id="list_certifications")
    async def certifications(
        self, current_user: CurrentUserDep, db: DB, org_id: FromPath[uuid.UUID]
    ) -> list[CertificationRead]:
        """The organization's certificates with their review status (declared, verified, rejected), newest first."""
        return await services.list_certifications(db, current_user, org_id)


class ProducerController(Controller):
    path = "/api/v1/producers"
    tags = ["traceability: organizations"]

    @get("/{org_id:uuid}", operation_id="get_producer_public", exclude_from_auth=True)
    async def get_public(self, read_db: ReadDB, org_id: FromPath[uuid.UUID]) -> OrganizationPublic:
        """What anyone may know about a producer (no contact data)."""
        return await public.producer(read_db, org_id)


class ProductController(Controller):
    path = "/api/v1/products"
    tags = ["traceability: products"]

    @post("", operation_id="create_product", guards=[requires_role(*WRITERS)], status_code=201)
    async def create(self, current_user: CurrentUserDep, db: DB, data: JSONBody[ProductCreate]) -> ProductRead:
        """Add a product (names per language; GTIN optional, check digit verified)."""
        return await services.create_product(db, current_user, data)

    @get("", operation_id="list_products")
    async def list_all(
        self, current_user: CurrentUserDep, db: DB, limit: Limit = 50, offset: Offset = 0
    ) -> list[ProductRead]:
        """Products of your organization and member farms; inspectors and admins see all."""
        user = current_user
        return await services.list_products(db, user, limit=limit, offset=offset)

    @get("/{product_id:uuid}", operation_id="get_product")
    async def get_one(self, current_user: CurrentUserDep, db: DB, product_id: FromPath[uuid.UUID]) -> ProductRead:
        """One product."""
        return await services.readable_product(db, current_user, product_id)

    @patch("/{product_id:uuid}", operation_id="update_product", guards=[requires_role(*WRITERS)])
    async def update(
        self,
        current_user: CurrentUserDep,
        db: DB,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[ProductUpdate],
    ) -> ProductRead:
        """Change a product."""
        return await services.update_product(db, current_user, product_id, data)


class PlotController(Controller):
    path = "/api/v1/plots"
    tags = ["traceability: plots"]

    @post("", operation_id="create_plot", guards=[requires_role(*WRITERS)], status_code=201)
    async def create(self, current_user: CurrentUserDep, db: DB, data: JSONBody[PlotCreate]) -> PlotRead:
        """Add a farm plot: a GeoJSON point or polygon inside Thái Nguyên."""
        return await services.create_plot(db, current_user, data)

    @get("", operation_id="list_plots")
    async def list_all(
        self, current_user: CurrentUserDep, db: DB, limit: Limit = 50, offset: Offset = 0
    ) -> list[PlotRead]:
        """Plots of your organization and member farms; inspectors and admins see all."""
        user = current_user
        return await services.list_plots(db, user, limit=limit, offset=offset)

    @get("/{plot_id:uuid}", operation_id="get_plot")
    async def get_one(self, current_user: CurrentUserDep, db: DB, plot_id: FromPath[uuid.UUID]) -> PlotRead:
        """One plot."""
        return await services.readable_plot(db, current_user, plot_id)

    @post("/{plot_id:uuid}/inputs", operation_id="create_plot_input", guards=[requires_role(*WRITERS)], status_code=201)
    async def add_input(
        self,
        current_user: CurrentUserDep,
        db: DB,
        plot_id: FromPath[uuid.UUID],
        data: JSONBody[InputCreate],
    ) -> InputRead:
        """Log a fertiliser or pesticide application (with its pre-harvest interval)."""
        return await services.create_input(db, current_user, plot_id, data)

    @get("/{plot_id:uuid}/inputs", operation_id="list_plot_inputs")
    async def inputs(self, current_user: CurrentUserDep, db: DB, plot_id: FromPath[uuid.UUID]) -> list[InputRead]:
        """The plot's input log, newest first."""
        return await services.list_inputs(db, current_user, plot_id)


class TraceabilityOpenDataController(Controller):
    path = "/open-data"
    tags = ["open data"]

    @get(
        "/products.csv",
        operation_id="open_data_products_csv",
        exclude_from_auth=True,
        media_type=datasets.CSV_MEDIA_TYPE,
    )
    async def products(self, read_db: ReadDB) -> Response[bytes]:
        """Every product, CC-BY-4.0, UTF-8 CSV with BOM (Excel reads Vietnamese correctly)."""
        body = await datasets.products_csv(read_db)
        return _csv_response(body, "products.csv")

    @get(
        "/producers.csv",
        operation_id="open_data_producers_csv",
        exclude_from_auth=True,
        media_type=datasets.CSV_MEDIA_TYPE,
    )
    async def producers(self, read_db: ReadDB) -> Response[bytes]:
        """Every producing organization (no personal data), CC-BY-4.0, UTF-8 CSV with BOM."""
        body = await datasets.producers_csv(read_db)
        return _csv_response(body, "producers.csv")


def _csv_response(body: bytes, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=datasets.CSV_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename), "Cache-Control": "public, max-age=300"},
    )
