"""SQL of oversight: authorities, inspectors, reviews (appended, never edited) and the inspectors' queue."""

import uuid
from datetime import datetime

import asyncpg
import msgspec

from service.traceability.access import VISIBLE_ORGS
from service.traceability.oversight.schemas import (
    AlertReviewRead,
    AuthorityRead,
    CertificationReviewRead,
    PendingCertification,
    ScanAlert,
)

# --- authorities ----------------------------------------------------------------------------------


async def insert_authority(
    conn: asyncpg.Connection, name: str, name_en: str | None, created_by: uuid.UUID
) -> AuthorityRead:
    row = await conn.fetchrow(
        "insert into authorities (name, name_en, created_by) values ($1, $2, $3) "
        "returning id, name, name_en, created_at",
        name,
        name_en,
        created_by,
    )
    assert row is not None, "INSERT ... RETURNING gave no row"
    return msgspec.convert(dict(row), AuthorityRead)


async def authorities(conn: asyncpg.Connection) -> list[AuthorityRead]:
    rows = await conn.fetch("select id, name, name_en, created_at from authorities order by name, id")
    return msgspec.convert([dict(r) for r in rows], list[AuthorityRead])


async def authority_exists(conn: asyncpg.Connection, authority_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("select exists(select 1 from authorities where id = $1)", authority_id))


async def inspector_by_phone(conn: asyncpg.Connection, phone: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "select id, full_name, role, authority_id from users where phone = $1 and is_active for update", phone
    )


async def set_user_authority(conn: asyncpg.Connection, user_id: uuid.UUID, authority_id: uuid.UUID) -> None:
    await conn.execute("update users set authority_id = $2, updated_at = now() where id = $1", user_id, authority_id)


# --- certificate reviews --------------------------------------------------------------------------

_CERT_REVIEW = """
    select r.id, r.certification_id, r.decision, r.reason, r.authority_id, a.name as authority_name,
           r.reviewer_id, r.created_at
    from certification_reviews r join authorities a on a.id = r.authority_id
"""


async def certification_owner(conn: asyncpg.Connection, cert_id: uuid.UUID) -> uuid.UUID | None:
    value: uuid.UUID | None = await conn.fetchval("select organization_id from certifications where id = $1", cert_id)
    return value


async def insert_certification_review(
    conn: asyncpg.Connection,
    cert_id: uuid.UUID,
    decision: str,
    reason: str | None,
    authority_id: uuid.UUID,
    reviewer_id: uuid.UUID,
) -> None:
    await conn.execute(
        """
        insert into certification_reviews (certification_id, decision, reason, authority_id, reviewer_id)
        values ($1, $2, $3, $4, $5)
        """,
        cert_id,
        decision,
        reason,
        authority_id,
        reviewer_id,
    )


async def certification_reviews(conn: asyncpg.Connection, cert_id: uuid.UUID) -> list[CertificationReviewRead]:
    rows = await conn.fetch(
        f"{_CERT_REVIEW} where r.certification_id = $1 order by r.created_at, r.id",
        cert_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[CertificationReviewRead])


async def pending_certifications(conn: asyncpg.Connection, limit: int) -> list[PendingCertification]:
    """Certificates nobody has reviewed yet, oldest first (document_url is filled by the service)."""
    rows = await conn.fetch(
        """
        select c.id, c.organization_id, o.name as organization_name, c.product_id, c.kind, c.issuer, c.number,
               c.valid_from, c.valid_to, c.stars, c.document_media_id::text as document_url, c.created_at
        from certifications c join organizations o on o.id = c.organization_id
        where not exists (select 1 from certification_reviews r where r.certification_id = c.id)
        order by c.created_at, c.id
        limit $1
        """,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[PendingCertification])


# --- scan alerts ----------------------------------------------------------------------------------

_ALERT = """
    select a.id, a.batch_id, b.lot, p.names ->> 'vi' as product_name, u.serial, a.reason, a.details,
           u.scan_count, a.created_at,
           coalesce((select r.decision from scan_alert_reviews r where r.alert_id = a.id
                     order by r.created_at desc, r.id desc limit 1), 'open') as status,
           coalesce((select jsonb_agg(jsonb_build_object(
                        'id', r.id, 'alert_id', r.alert_id, 'decision', r.decision, 'reason', r.reason,
                        'reviewer_id', r.reviewer_id, 'authority_name', au.name, 'created_at', r.created_at)
                        order by r.created_at, r.id)
                     from scan_alert_reviews r left join authorities au on au.id = r.authority_id
                     where r.alert_id = a.id), '[]'::jsonb) as reviews
    from scan_alerts a
    join units u on u.id = a.unit_id
    join batches b on b.id = a.batch_id
    join products p on p.id = b.product_id
"""


async def alerts(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    *,
    all_orgs: bool,
    open_only: bool,
    limit: int,
    before: datetime | None,
) -> list[ScanAlert]:
    """Alerts the caller may review (all for inspectors; their own batches' for producers), newest first."""
    rows = await conn.fetch(
        f"""
        select * from ({_ALERT}
            where ($2 or b.organization_id in ({VISIBLE_ORGS}))
              and ($4::timestamptz is null or a.created_at < $4)
        ) found
        where not $3 or status = 'open'
        order by created_at desc, id
        limit $5
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        user_id,
        all_orgs,
        open_only,
        before,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[ScanAlert])


async def alert(conn: asyncpg.Connection, alert_id: uuid.UUID) -> ScanAlert | None:
    row = await conn.fetchrow(f"{_ALERT} where a.id = $1", alert_id)
    return None if row is None else msgspec.convert(dict(row), ScanAlert)


async def lock_alert(conn: asyncpg.Connection, alert_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(unit id, owning organization) of the alert, locked so reviews of one alert are serialised."""
    row = await conn.fetchrow(
        """
        select a.unit_id, b.organization_id from scan_alerts a join batches b on b.id = a.batch_id
        where a.id = $1 for update of a
        """,
        alert_id,
    )
    return None if row is None else (row["unit_id"], row["organization_id"])


async def insert_alert_review(
    conn: asyncpg.Connection,
    alert_id: uuid.UUID,
    decision: str,
    reason: str,
    reviewer_id: uuid.UUID,
    authority_id: uuid.UUID | None,
) -> AlertReviewRead:
    row = await conn.fetchrow(
        """
        with added as (
            insert into scan_alert_reviews (alert_id, decision, reason, reviewer_id, authority_id)
            values ($1, $2, $3, $4, $5)
            returning id, alert_id, decision, reason, reviewer_id, authority_id, created_at
        )
        select added.id, added.alert_id, added.decision, added.reason, added.reviewer_id,
               au.name as authority_name, added.created_at
        from added left join authorities au on au.id = added.authority_id
        """,
        alert_id,
        decision,
        reason,
        reviewer_id,
        authority_id,
    )
    assert row is not None, "INSERT ... RETURNING gave no row"
    return msgspec.convert(dict(row), AlertReviewRead)


async def refresh_unit_flag(conn: asyncpg.Connection, unit_id: uuid.UUID) -> None:
    """A unit shows as counterfeit exactly while one of its alerts' latest review is an inspector's confirmation."""
    await conn.execute(
        """
        update units u
        set flagged_at = case when c.reason is null then null else coalesce(u.flagged_at, now()) end,
            flag_reason = c.reason
        from (
            select (select sa.reason from scan_alerts sa
                    where sa.unit_id = $1
                      and (select r.decision from scan_alert_reviews r where r.alert_id = sa.id
                           order by r.created_at desc, r.id desc limit 1) = 'confirmed_counterfeit'
                    order by sa.created_at limit 1) as reason
        ) c
        where u.id = $1 and (u.flag_reason is distinct from c.reason)
        """,
        unit_id,
    )
