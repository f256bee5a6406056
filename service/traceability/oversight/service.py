"""Rules of oversight: who speaks for an authority, how certificates and scan alerts are reviewed.

Every decision is appended (certification_reviews, scan_alert_reviews): the newest decides, none is edited.
"""

import uuid
from datetime import datetime

import asyncpg

from service.auth.schemas import CurrentUser
from service.auth.service import normalize_phone
from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.media.service import public_url
from service.traceability import access
from service.traceability.oversight import queries as q
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
from service.traceability.registry import queries as registry
from service.traceability.registry.schemas import CertificationRead

QUEUE_LIMIT = 200

# --- authorities ----------------------------------------------------------------------------------


async def create_authority(conn: asyncpg.Connection, user: CurrentUser, data: AuthorityCreate) -> AuthorityRead:
    try:
        return await q.insert_authority(conn, data.name.strip(), data.name_en and data.name_en.strip(), user.id)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("an authority with this name exists", code="authority_exists") from exc


async def list_authorities(conn: asyncpg.Connection) -> list[AuthorityRead]:
    return await q.authorities(conn)


async def add_inspector(conn: asyncpg.Connection, authority_id: uuid.UUID, data: InspectorAdd) -> InspectorRead:
    """An inspector account joins the authority it acts for (one authority per inspector)."""
    phone = normalize_phone(data.phone)
    async with conn.transaction():
        if not await q.authority_exists(conn, authority_id):
            raise NotFound("no authority with this id", code="authority_not_found")
        found = await q.inspector_by_phone(conn, phone)
        if found is None:
            raise NotFound("no account with this phone number", code="user_not_found")
        if found["role"] not in ("inspector", "admin"):
            raise InvalidInput("only inspector accounts act for an authority", code="not_an_inspector")
        if found["authority_id"] not in (None, authority_id):
            raise Conflict("this inspector already acts for another authority", code="already_in_authority")
        await q.set_user_authority(conn, found["id"], authority_id)
        return InspectorRead(user_id=found["id"], full_name=found["full_name"], authority_id=authority_id)


# --- certificates ---------------------------------------------------------------------------------


async def review_certification(
    conn: asyncpg.Connection, user: CurrentUser, cert_id: uuid.UUID, data: CertificationReviewCreate
) -> CertificationRead:
    """An inspector verifies or rejects (with a reason) a certificate, for their authority."""
    if data.decision == "rejected" and not (data.reason and data.reason.strip()):
        raise InvalidInput("say why the certificate is rejected", code="reason_required")
    async with conn.transaction():
        authority = await access.acting_authority(conn, user)
        if await q.certification_owner(conn, cert_id) is None:
            raise NotFound("no certificate with this id", code="certification_not_found")
        reason = data.reason.strip() if data.reason else None
        await q.insert_certification_review(conn, cert_id, data.decision, reason, authority.id, user.id)
        reviewed = await registry.certification(conn, cert_id)
        assert reviewed is not None, "read in the same transaction"
        return reviewed


async def certification_reviews(
    conn: asyncpg.Connection, user: CurrentUser, cert_id: uuid.UUID
) -> list[CertificationReviewRead]:
    """The certificate's review trail, for its producer, inspectors and admins."""
    org_id = await q.certification_owner(conn, cert_id)
    if org_id is None:
        raise NotFound("no certificate with this id", code="certification_not_found")
    await access.require_readable(conn, user, org_id, "certification")
    return await q.certification_reviews(conn, cert_id)


# --- scan alerts ----------------------------------------------------------------------------------


async def list_alerts(
    conn: asyncpg.Connection, user: CurrentUser, *, open_only: bool, limit: int, before: datetime | None
) -> list[ScanAlert]:
    return await q.alerts(
        conn, user.id, all_orgs=access.is_reader_of_all(user), open_only=open_only, limit=limit, before=before
    )


async def review_alert(
    conn: asyncpg.Connection, user: CurrentUser, alert_id: uuid.UUID, data: AlertReviewCreate
) -> AlertReviewRead:
    """Inspectors confirm a counterfeit or dismiss an alert; the batch's owner may dismiss (say why) but not confirm."""
    async with conn.transaction():
        found = await q.lock_alert(conn, alert_id)
        if found is None:
            raise NotFound("no alert with this id", code="alert_not_found")
        unit_id, org_id = found
        authority_id: uuid.UUID | None = None
        if access.is_reader_of_all(user):
            authority_id = (await access.acting_authority(conn, user)).id
        else:
            _, manageable = await access.organization_access(conn, user, org_id)
            if not manageable:
                raise NotFound("no alert with this id", code="alert_not_found")
            if data.decision == "confirmed_counterfeit":
                raise Forbidden("only an inspector confirms a counterfeit", code="inspectors_confirm")
            current = await q.alert(conn, alert_id)
            if current is not None and current.status == "confirmed_counterfeit":
                raise Conflict("an inspector confirmed this alert: only an inspector may reverse it", code="confirmed")
        review = await q.insert_alert_review(conn, alert_id, data.decision, data.reason.strip(), user.id, authority_id)
        await q.refresh_unit_flag(conn, unit_id)
        return review


# --- the queue ------------------------------------------------------------------------------------


async def work_queue(conn: asyncpg.Connection, user: CurrentUser, base_url: str) -> WorkQueue:
    """Certificates awaiting verification (oldest first) and scan alerts nobody has reviewed (newest first)."""
    certificates = await q.pending_certifications(conn, QUEUE_LIMIT)
    for cert in certificates:
        if cert.document_url is not None:
            cert.document_url = public_url(base_url, uuid.UUID(cert.document_url))
    alerts = await q.alerts(conn, user.id, all_orgs=True, open_only=True, limit=QUEUE_LIMIT, before=None)
    return WorkQueue(certificates=certificates, alerts=alerts)
