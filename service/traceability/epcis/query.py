"""GET /epcis/events: the standard query parameters over what a partner may read, keyset pages behind a
signed, opaque nextPageToken, answered as an EPCISQueryDocument.

A partner reads its own captured events (as it sent them, with recordTime) and the public chain events
of the batches it holds (handed to it by their producer, or named by its captures), exported as
`batches.epcis` exports them.
"""

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from service.core.errors import InvalidInput
from service.partners.schemas import Partner
from service.traceability.batches.epcis import EPCIS_CONTEXT, BatchIds, epcis_event
from service.traceability.epcis import queries as q
from service.traceability.epcis.capture import BatchKeys, normal_term

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


class EventQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """The SimpleEventQuery parameters this service answers (EPCIS 2.0 section 8.2.7.1); lists mean any of."""

    event_type: list[str] = msgspec.field(default_factory=list, name="eventType")
    ge_event_time: datetime | None = msgspec.field(default=None, name="GE_eventTime")
    lt_event_time: datetime | None = msgspec.field(default=None, name="LT_eventTime")
    eq_biz_step: list[str] = msgspec.field(default_factory=list, name="EQ_bizStep")
    eq_disposition: list[str] = msgspec.field(default_factory=list, name="EQ_disposition")
    match_epc: list[str] = msgspec.field(default_factory=list, name="MATCH_epc")
    match_any_epc: list[str] = msgspec.field(default_factory=list, name="MATCH_anyEPC")
    match_epc_class: list[str] = msgspec.field(default_factory=list, name="MATCH_epcClass")
    match_any_epc_class: list[str] = msgspec.field(default_factory=list, name="MATCH_anyEPCClass")
    eq_biz_location: list[str] = msgspec.field(default_factory=list, name="EQ_bizLocation")
    eq_read_point: list[str] = msgspec.field(default_factory=list, name="EQ_readPoint")


PAGING_PARAMETERS = frozenset({"perPage", "nextPageToken"})
QUERY_PARAMETERS = frozenset(f.encode_name for f in msgspec.structs.fields(EventQuery)) | PAGING_PARAMETERS


def refuse_unsupported(names: Iterable[str], supported: frozenset[str] = QUERY_PARAMETERS) -> None:
    """EPCIS 2.0 (QueryParameterException): a parameter we do not apply is refused, never silently ignored,
    since ignoring a filter answers with events the partner did not ask for."""
    unsupported = sorted(set(names) - supported)
    if unsupported:
        raise InvalidInput(
            f"query parameters not supported here: {', '.join(n[:60] for n in unsupported[:10])}; "
            f"supported: {', '.join(sorted(supported))}",
            code="query_parameter_not_supported",
            status=400,
        )


EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
)


def parse_query(raw: dict[str, Any]) -> EventQuery:
    """Parameters from a URL (`a|b` lists) or a saved query (lists or `a|b` strings); clear 400s otherwise."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        if name in ("GE_eventTime", "LT_eventTime"):
            values[name] = value
        else:
            items = value if isinstance(value, list) else str(value).split("|")
            values[name] = [str(i).strip() for i in items if str(i).strip()]
    try:
        query = msgspec.convert(values, EventQuery)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"query parameters: {exc}", code="invalid_query_parameter", status=400) from None
    for t in (query.ge_event_time, query.lt_event_time):
        if t is not None and t.tzinfo is None:
            raise InvalidInput(
                "GE_eventTime and LT_eventTime need a time zone (Z or ±hh:mm)", code="naive_time", status=400
            )
    unknown = set(query.event_type) - EVENT_TYPES
    if unknown:
        raise InvalidInput(f"eventType must be one of {sorted(EVENT_TYPES)}", code="invalid_event_type", status=400)
    if sum(len(getattr(query, f)) for f in query.__struct_fields__ if f.startswith(("match", "eq_"))) > 200:
        raise InvalidInput(
            "at most 200 values across the EQ_ and MATCH_ parameters", code="query_too_large", status=400
        )
    return query


class Sql:
    """Constant SQL fragments with values only as $n parameters."""

    def __init__(self, partner_id: uuid.UUID) -> None:
        self.params: list[Any] = [partner_id]
        self.text = ""

    def p(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"


def build_sql(
    partner_id: uuid.UUID,
    query: EventQuery,
    epc_batches: list[uuid.UUID] | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    recorded_since: datetime | None = None,
) -> Sql:
    sql = Sql(partner_id)
    own = ["e.partner_id = $1"]
    chain = [
        "(ev.batch_id in (select unnest(h.batch_ids) from epcis_events h where h.partner_id = $1)"
        " or ev.batch_id in (select g.batch_id from partner_batch_holdings g where g.partner_id = $1))",
        "not exists (select 1 from epcis_events x where x.partner_id = $1 and x.chain_event_ids @> array[ev.id])",
    ]

    def both(column: str, op: str, value: Any, cast: str = "") -> None:
        ref = sql.p(value)
        own.append(f"e.{column} {op} {ref}{cast}")
        chain.append(f"ev.{column} {op} {ref}{cast}")

    if query.event_type:
        both("event_type", "= any(", query.event_type, "::text[])")
    if query.ge_event_time is not None:
        both("event_time", ">=", query.ge_event_time)
    if query.lt_event_time is not None:
        both("event_time", "<", query.lt_event_time)
    if query.eq_biz_step:
        both("biz_step", "= any(", [normal_term(s) for s in query.eq_biz_step], "::text[])")
    if query.eq_disposition:
        both("disposition", "= any(", [normal_term(s) for s in query.eq_disposition], "::text[])")
    if query.eq_read_point:
        both("read_point", "= any(", query.eq_read_point, "::text[])")
    if query.eq_biz_location:
        both("biz_location", "= any(", query.eq_biz_location, "::text[])")
    if epc_batches is not None:
        own.append(f"e.epcs && {sql.p(sorted(epc_uris(query)))}::text[]")
        chain.append(f"ev.batch_id = any({sql.p(epc_batches)}::uuid[])")
    if recorded_since is not None:
        both("record_time", ">", recorded_since)
    if after is not None:
        t, i = sql.p(after[0]), sql.p(after[1])
        own.append(f"(e.event_time, e.id) > ({t}, {i})")
        chain.append(f"(ev.event_time, ev.id) > ({t}, {i})")
    # constant fragments; every value is a $n parameter
    sql.text = (
        "select source, id, event_time from ("  # noqa: S608
        f"select 'captured' as source, e.id, e.event_time from epcis_events e where {' and '.join(own)} "
        f"union all select 'chain', ev.id, ev.event_time from events ev where {' and '.join(chain)}"
        f") page order by event_time, id limit {sql.p(limit + 1)}"
    )
    return sql


def epc_uris(query: EventQuery) -> set[str]:
    return {*query.match_epc, *query.match_any_epc, *query.match_epc_class, *query.match_any_epc_class}


def _token_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"epcis-next-page-token-v1", hashlib.sha256).digest()


def _fingerprint(query: EventQuery) -> str:
    return hashlib.sha256(msgspec.json.encode(query, order="sorted")).hexdigest()[:32]


def page_token(query: EventQuery, last: q.Page, secret: str) -> str:
    payload = msgspec.json.encode([last.event_time.isoformat(), str(last.id), _fingerprint(query)])
    body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    mac = base64.urlsafe_b64encode(hmac.new(_token_key(secret), body.encode(), hashlib.sha256).digest()[:18]).decode()
    return f"{body}.{mac}"


def read_token(token: str, query: EventQuery, secret: str) -> tuple[datetime, uuid.UUID]:
    bad = InvalidInput("nextPageToken is not one this query gave out", code="invalid_page_token", status=400)
    body, _, mac = token.partition(".")
    expected = base64.urlsafe_b64encode(
        hmac.new(_token_key(secret), body.encode(), hashlib.sha256).digest()[:18]
    ).decode()
    if not hmac.compare_digest(mac, expected):
        raise bad
    try:
        when, last_id, fingerprint = msgspec.json.decode(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        after = (datetime.fromisoformat(when), uuid.UUID(last_id))
    except (binascii.Error, ValueError, TypeError, msgspec.DecodeError):
        raise bad from None
    if fingerprint != _fingerprint(query):
        raise InvalidInput(
            "this nextPageToken belongs to a query with other parameters", code="page_token_mismatch", status=400
        )
    return after


def query_document(events: list[dict[str, Any]], base_url: str, query_name: str) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT, {"tt": f"{base_url}/ns/epcis#"}],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "epcisBody": {"queryResults": {"queryName": query_name, "resultsBody": {"eventList": events}}},
    }


async def find_events(
    conn: asyncpg.Connection,
    partner: Partner,
    query: EventQuery,
    *,
    per_page: int,
    token: str | None,
    secret: str,
    base_url: str,
    query_name: str = "SimpleEventQuery",
) -> tuple[dict[str, Any], str | None]:
    """(the EPCISQueryDocument of one page, the next page's token or None)."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"perPage is 1-{MAX_PER_PAGE}", code="invalid_per_page", status=400)
    after = read_token(token, query, secret) if token else None
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await matching_rows(conn, partner.partner_id, query, after=after, limit=per_page)
        events = await render(conn, rows[:per_page], base_url)
    next_token = page_token(query, rows[per_page - 1], secret) if len(rows) > per_page else None
    return query_document(events, base_url, query_name), next_token


async def matching_rows(
    conn: asyncpg.Connection,
    partner_id: uuid.UUID,
    query: EventQuery,
    *,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int,
    recorded_since: datetime | None = None,
) -> list[q.Page]:
    """Up to limit + 1 events the partner may read that match, in eventTime order."""
    uris = epc_uris(query)
    epc_batches: list[uuid.UUID] | None = None
    if uris:
        keys = BatchKeys()
        for uri in uris:
            keys.add(uri)
        epc_batches = await q.batches_named(conn, keys.lots, keys.codes, keys.serials)
    sql = build_sql(partner_id, query, epc_batches, after, limit, recorded_since)
    return await q.event_page(conn, sql.text, sql.params)


async def render(conn: asyncpg.Connection, page: list[q.Page], base_url: str) -> list[dict[str, Any]]:
    """The events of a page as EPCIS 2.0 JSON-LD: captured ones as sent, chain events as the export has them."""
    captured = await q.captured_bodies(conn, [r.id for r in page if r.source == "captured"])
    chained = {e.id: e for e in await q.chain_events(conn, [r.id for r in page if r.source == "chain"])}
    names = await q.batch_names(conn, sorted({e.batch_id for e in chained.values()}))
    ids = {n["id"]: BatchIds(n["gtin14"], n["lot"], n["code"], n["producer"]) for n in names}
    return [
        captured[r.id] if r.source == "captured" else epcis_event(chained[r.id], ids, base_url)
        for r in page
        if r.id in captured or r.id in chained
    ]
