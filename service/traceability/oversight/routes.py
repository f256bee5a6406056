"""Routes of oversight: authorities and inspectors, certificate and scan-alert reviews, the inspectors' queue."""

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.auth.guards import CurrentUserDep, requires_role
from service.core.changes import invalidate_locally_after_writes
from service.core.db import DB
from service.core.dependencies import BaseUrl
from service.traceability.oversight import service as oversight
from service.traceability.oversight.schemas import (
    AlertReviewCreate,
    AlertReviewRead,
    AuthorityCreate,
    AuthorityRead,
    CertificationReviewCreate,
    CertificationReviewRead,
    InspectorAdd,
    InspectorRead,
    ScanAlert,
    WorkQueue,
)
from service.traceability.registry.schemas import CertificationRead


class AuthorityController(Controller):
    path = "/api/v1/authorities"
    tags = ["traceability: oversight"]

    @post("", operation_id="create_authority", guards=[requires_role("admin")], status_code=201)
    async def create(self, current_user: CurrentUserDep, db: DB, data: JSONBody[AuthorityCreate]) -> AuthorityRead:
        """Register an authority whose inspectors verify claims (e.g. a provincial Department of Agriculture)."""
        return await oversight.create_authority(db, current_user, data)

    @get("", operation_id="list_authorities")
    async def list_all(self, db: DB) -> list[AuthorityRead]:
        """The authorities whose inspectors may verify claims."""
        return await oversight.list_authorities(db)

    @post(
        "/{authority_id:uuid}/inspectors",
        operation_id="add_authority_inspector",
        guards=[requires_role("admin")],
        status_code=200,
    )
    async def add_inspector(
        self, db: DB, authority_id: FromPath[uuid.UUID], data: JSONBody[InspectorAdd]
    ) -> InspectorRead:
        """Let an inspector account (by phone) act for this authority."""
        return await oversight.add_inspector(db, authority_id, data)


class CertificationReviewController(Controller):
    path = "/api/v1/certifications"
    tags = ["traceability: oversight"]
    # a verification shows on the very next scan served by this worker
    middleware = [invalidate_locally_after_writes("certifications", "certification_id")]

    @post(
        "/{certification_id:uuid}/reviews",
        operation_id="review_certification",
        guards=[requires_role("inspector", "admin")],
        status_code=201,
    )
    async def review(
        self,
        current_user: CurrentUserDep,
        db: DB,
        certification_id: FromPath[uuid.UUID],
        data: JSONBody[CertificationReviewCreate],
    ) -> CertificationRead:
        """Verify or reject (with a reason) a certificate a producer declared; appended to its review trail."""
        return await oversight.review_certification(db, current_user, certification_id, data)

    @get("/{certification_id:uuid}/reviews", operation_id="list_certification_reviews")
    async def reviews(
        self, current_user: CurrentUserDep, db: DB, certification_id: FromPath[uuid.UUID]
    ) -> list[CertificationReviewRead]:
        """The certificate's review trail, oldest first: who decided what, for which authority."""
        return await oversight.certification_reviews(db, current_user, certification_id)


class ScanAlertsController(Controller):
    path = "/api/v1/scans/alerts"
    tags = ["traceability: oversight"]
    # a confirmed counterfeit shows on the very next scan served by this worker
    middleware = [invalidate_locally_after_writes("*", "alert_id")]

    @get("", operation_id="scan_alerts")
    async def alerts(
        self,
        current_user: CurrentUserDep,
        db: DB,
        status: Annotated[str | None, QueryParameter(pattern="^open$", description="only unreviewed alerts")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        before: FromQuery[datetime | None] = None,
    ) -> list[ScanAlert]:
        """Scan signals (too many scans, impossible travel) for review, newest first: all for inspectors,
        your own batches' for producers."""
        return await oversight.list_alerts(db, current_user, open_only=status == "open", limit=limit, before=before)

    @post("/{alert_id:uuid}/reviews", operation_id="review_scan_alert", status_code=201)
    async def review(
        self, current_user: CurrentUserDep, db: DB, alert_id: FromPath[uuid.UUID], data: JSONBody[AlertReviewCreate]
    ) -> AlertReviewRead:
        """Confirm a counterfeit (inspectors) or dismiss the alert with a reason (inspectors or the owner)."""
        return await oversight.review_alert(db, current_user, alert_id, data)


class InspectionQueueController(Controller):
    path = "/api/v1/inspections"
    tags = ["traceability: oversight"]

    @get("/queue", operation_id="inspection_queue", guards=[requires_role("inspector", "admin")])
    async def queue(self, current_user: CurrentUserDep, db: DB, base_url: BaseUrl) -> WorkQueue:
        """What waits for an inspector: certificates awaiting verification, unreviewed scan alerts."""
        return await oversight.work_queue(db, current_user, base_url)


route_handlers = [AuthorityController, CertificationReviewController, ScanAlertsController, InspectionQueueController]
