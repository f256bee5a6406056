"""Wire Structs of oversight: authorities and their inspectors, reviews of certificates and scan alerts, the queue."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from service.core.text import VISIBLE

AuthorityName = Annotated[
    str, Meta(min_length=1, pattern=VISIBLE, max_length=200, examples=["Sở Nông nghiệp và Môi trường Thái Nguyên"])
]
Reason = Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=2000)]

CertificationDecision = Literal["verified", "rejected"]
AlertDecision = Literal["confirmed_counterfeit", "dismissed"]
AlertStatus = Literal["open", "confirmed_counterfeit", "dismissed"]


class AuthorityCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: AuthorityName
    name_en: AuthorityName | None = None


class AuthorityRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    name_en: str | None
    created_at: datetime


class InspectorAdd(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An existing inspector account, by its phone number, joins the authority."""

    phone: Annotated[str, Meta(min_length=3, max_length=32)]


class InspectorRead(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID
    full_name: str
    authority_id: uuid.UUID


class CertificationReviewCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    decision: CertificationDecision
    # required when rejecting: the producer reads it
    reason: Reason | None = None


class CertificationReviewRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    certification_id: uuid.UUID
    decision: CertificationDecision
    reason: str | None
    authority_id: uuid.UUID
    authority_name: str
    reviewer_id: uuid.UUID
    created_at: datetime


class AlertReviewCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    decision: AlertDecision
    reason: Reason


class AlertReviewRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    alert_id: uuid.UUID
    decision: AlertDecision
    reason: str
    reviewer_id: uuid.UUID
    authority_name: str | None  # None when the owner dismissed
    created_at: datetime


class ScanAlert(msgspec.Struct, kw_only=True):
    """A scan signal (too many scans, impossible travel) waiting for, or after, a person's review."""

    id: uuid.UUID
    batch_id: uuid.UUID
    lot: str
    product_name: str
    serial: str
    reason: str
    details: dict[str, Any]
    scan_count: int
    created_at: datetime
    status: AlertStatus
    reviews: list[AlertReviewRead]


class PendingCertification(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    product_id: uuid.UUID | None
    kind: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    stars: int | None
    document_url: str | None
    created_at: datetime


class WorkQueue(msgspec.Struct, kw_only=True):
    """What waits for an inspector: certificates declared by producers, scan alerts nobody has reviewed."""

    certificates: list[PendingCertification]
    alerts: list[ScanAlert]
