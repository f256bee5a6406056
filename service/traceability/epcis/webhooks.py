"""Subscriptions pushed to partners' webhooks: matching, HMAC-signed delivery, retries, dead letters, SSRF guard.

Every `webhook_poll_seconds` a dispatcher task of each server worker (`dispatcher`, started by the epcis
lifespan when jobs_in_server) matches new events to active subscriptions (each subscription's saved query,
and recalls of the batches its partner holds, always), then sends what is due. Deliveries are claimed
with a lease (`for update skip locked`), so workers never send one at the same time.

Signature (what a receiver checks, see `verify_signature`): headers `Webhook-Id` (the delivery, stable
across retries), `Webhook-Timestamp` (Unix seconds of this attempt) and `Webhook-Signature:
v1=<hex HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`. A receiver refuses a timestamp older than a
few minutes and an id it has already accepted: a replayed delivery fails both.

Retries: exponential backoff with full jitter (`backoff * 2^(attempt-1) * uniform(0.5, 1.5)`) up to
`webhook_max_attempts`; then the delivery is `dead` and stays visible to the partner.

SSRF: the destination's host is resolved once before every attempt and each address must be global
(not loopback, private, link-local, multicast or reserved: so the cloud metadata address 169.254.169.254
too) unless `webhook_allow_hosts` names the host or address; redirects are not followed. The request then
goes to the address that was checked (the URL's host replaced by it, the name kept in the Host header and
as the TLS server name, so certificates are still verified against the name): a DNS answer that changes
between the check and the connection (rebinding) never reaches a second, unchecked address.
"""

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import random
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import httpx
import msgspec

from service.core.db import borrow
from service.core.errors import InvalidInput, NotFound
from service.partners.schemas import Partner
from service.settings import Settings
from service.traceability.epcis import query as eq
from service.traceability.epcis import webhook_queries as wq
from service.traceability.epcis.schemas import DeliveryRead, SubscriptionCreate, SubscriptionCreated, SubscriptionRead

log = logging.getLogger("service.epcis.webhooks")

# a scan looks back this far past the last one, so an event whose transaction committed late is still seen
SCAN_OVERLAP = timedelta(minutes=5)
MAX_EVENTS_PER_DELIVERY = 100
SIGNATURE_TOLERANCE_SECONDS = 300
RECALLS = eq.EventQuery(eq_disposition=["recalled"])


class DestinationRefused(ValueError):
    pass


def allowed_hosts(settings: Settings) -> frozenset[str]:
    return frozenset(h.strip().lower() for h in settings.webhook_allow_hosts.split(",") if h.strip())


class Destination(msgspec.Struct, frozen=True):
    """A webhook URL and the one address it was checked to resolve to; the request connects there."""

    url: str
    host: str
    address: str


async def check_destination(url: str, allow: frozenset[str]) -> Destination:
    """Resolve the URL's host once; DestinationRefused unless it is http(s) to a host whose every address
    is public (or the host or address is allowed). The first address is the one to connect to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("a webhook is an http or https URL with a host")
    if parts.username or parts.password:
        raise DestinationRefused("a webhook URL carries no user name or password")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise DestinationRefused(f"the webhook's host does not resolve: {exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise DestinationRefused("the webhook's host does not resolve")
    if host not in allow:
        for address in addresses:
            if str(address) in allow:
                continue
            if not address.is_global or address.is_multicast or address.is_reserved:
                raise DestinationRefused(f"the webhook's host resolves to a non-public address ({address})")
    return Destination(url=url, host=host, address=str(addresses[0]))


def pinned_request(
    http: httpx.AsyncClient, destination: Destination, body: bytes, headers: dict[str, str]
) -> httpx.Request:
    """A POST to the checked address: no second DNS lookup; Host header and TLS server name keep the name."""
    original = httpx.URL(destination.url)
    host_header = original.host if original.port is None else f"{original.host}:{original.port}"
    request = http.build_request(
        "POST",
        original.copy_with(host=destination.address),
        content=body,
        headers={**headers, "Host": host_header},
    )
    if original.scheme == "https":
        request.extensions["sni_hostname"] = destination.host
    return request


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_signature(
    secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None, seen: set[str] | None = None
) -> bool:
    """What a receiver does: signature matches, timestamp recent, delivery id not seen before (then remembered)."""
    delivery_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    expected = sign(secret, delivery_id, timestamp, body)
    if not hmac.compare_digest(expected, headers.get("webhook-signature", "")):
        return False
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        return False
    if abs(age) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    if seen is not None:
        if delivery_id in seen:
            return False
        seen.add(delivery_id)
    return True


# --- the partner's side: subscribe, list, cancel, see deliveries -------------------------------------------


async def subscribe(
    conn: asyncpg.Connection, partner: Partner, query_name: str, data: SubscriptionCreate, settings: Settings
) -> SubscriptionCreated:
    query_id = await wq.query_id(conn, partner.partner_id, query_name)
    if query_id is None:
        raise NotFound("no saved query with this name: save it with POST /epcis/queries", code="query_not_found")
    if data.schedule is not None or data.stream is False:
        raise InvalidInput(
            "only streaming subscriptions (`stream`: true, each new event pushed) are offered, no schedules",
            code="subscription_schedule_not_supported",
            status=400,
        )
    try:
        await check_destination(data.dest, allowed_hosts(settings))
    except DestinationRefused as exc:
        raise InvalidInput(str(exc), code="webhook_destination_refused", status=400) from None
    secret = data.signature_token or secrets.token_urlsafe(32)
    stored = await wq.insert_subscription(conn, partner.partner_id, query_id, data.dest, secret)
    return SubscriptionCreated(**msgspec.structs.asdict(stored), signing_secret=secret)


async def list_subscriptions(conn: asyncpg.Connection, partner: Partner) -> list[SubscriptionRead]:
    return await wq.subscriptions(conn, partner.partner_id)


async def query_subscriptions(conn: asyncpg.Connection, partner: Partner, query_name: str) -> list[SubscriptionRead]:
    """The subscriptions of one saved query (REST binding: GET /queries/{queryName}/subscriptions)."""
    if await wq.query_id(conn, partner.partner_id, query_name) is None:
        raise NotFound("no saved query with this name", code="query_not_found")
    return [s for s in await wq.subscriptions(conn, partner.partner_id) if s.query_name == query_name]


async def query_subscription(
    conn: asyncpg.Connection, partner: Partner, query_name: str, subscription_id: uuid.UUID
) -> SubscriptionRead:
    for found in await query_subscriptions(conn, partner, query_name):
        if found.id == subscription_id:
            return found
    raise NotFound("no subscription with this id for this query", code="subscription_not_found")


async def cancel(conn: asyncpg.Connection, partner: Partner, subscription_id: uuid.UUID) -> None:
    if not await wq.cancel_subscription(conn, partner.partner_id, subscription_id):
        raise NotFound("no subscription with this id", code="subscription_not_found")


async def delivery_history(
    conn: asyncpg.Connection, partner: Partner, subscription_id: uuid.UUID, limit: int
) -> list[DeliveryRead]:
    if not await wq.owns_subscription(conn, partner.partner_id, subscription_id):
        raise NotFound("no subscription with this id", code="subscription_not_found")
    return await wq.deliveries(conn, subscription_id, limit)


# --- the dispatcher ----------------------------------------------------------------------------------------


async def match_subscription(conn: asyncpg.Connection, sub: wq.ActiveSubscription, base_url: str) -> int:
    """Queue deliveries for events that match and were not delivered before; returns how many queued."""
    started: datetime = await conn.fetchval("select now()")
    since = max(sub.since, (sub.scanned_at or sub.since) - SCAN_OVERLAP)
    queued = 0
    async with conn.transaction():
        for kind, query in (("recall", RECALLS), ("events", eq.parse_query(sub.query))):
            rows = await eq.matching_rows(conn, sub.partner_id, query, limit=1000, recorded_since=since)
            fresh = await wq.new_matches(conn, sub.id, [r.id for r in rows]) if rows else set()
            new_rows = [r for r in rows if r.id in fresh]
            for start in range(0, len(new_rows), MAX_EVENTS_PER_DELIVERY):
                events = await eq.render(conn, new_rows[start : start + MAX_EVENTS_PER_DELIVERY], base_url)
                document = eq.query_document(events, base_url, sub.query_name)
                document["epcisBody"]["queryResults"]["subscriptionID"] = str(sub.id)
                await wq.insert_delivery(conn, sub.id, kind, document)
                queued += 1
        await wq.mark_scanned(conn, sub.id, started)
    return queued


async def send(
    http: httpx.AsyncClient, delivery: wq.ClaimedDelivery, allow: frozenset[str]
) -> tuple[int | None, str | None]:
    """One attempt: (HTTP status, error) — error None when the receiver answered 2xx."""
    try:
        destination = await check_destination(delivery.destination, allow)
    except DestinationRefused as exc:
        return None, str(exc)
    body = msgspec.json.encode(delivery.payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/ld+json",
        "GS1-EPCIS-Version": "2.0.0",
        "Webhook-Id": str(delivery.id),
        "Webhook-Timestamp": timestamp,
        "Webhook-Signature": sign(delivery.signing_secret, str(delivery.id), timestamp, body),
    }
    headers["GS1-Signature"] = headers["Webhook-Signature"]  # where the REST binding says a signature goes
    try:
        response = await http.send(pinned_request(http, destination, body, headers))
    except httpx.TimeoutException:
        return None, "the receiver did not answer in time"
    except httpx.HTTPError as exc:
        return None, f"the receiver could not be reached: {type(exc).__name__}"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"the receiver answered {response.status_code}"


def backoff(settings: Settings, attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempts-1), times 0.5-1.5."""
    return float(settings.webhook_backoff_seconds * 2 ** (attempts - 1) * random.uniform(0.5, 1.5))  # noqa: S311


async def deliver_due(pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings) -> int:
    async with borrow(pool) as conn:
        claimed = await wq.claim_due(conn, 20, lease_seconds=settings.webhook_timeout_seconds * 3 + 30)
    if not claimed:
        return 0
    allow = allowed_hosts(settings)
    outcomes = await asyncio.gather(*(send(http, d, allow) for d in claimed))
    async with borrow(pool) as conn:
        for delivery, (http_status, error) in zip(claimed, outcomes, strict=True):
            if error is None:
                status, retry = "delivered", 0.0
            elif delivery.attempts >= settings.webhook_max_attempts:
                status, retry = "dead", 0.0
            else:
                status, retry = "pending", backoff(settings, delivery.attempts)
            await wq.record_attempt(
                conn, delivery.id, status=status, http_status=http_status, error=error, retry_in_seconds=retry
            )
    return len(claimed)


async def dispatch_once(pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings) -> None:
    async with borrow(pool) as conn:
        for sub in await wq.active_subscriptions(conn):
            try:
                await match_subscription(conn, sub, settings.base_url)
            except Exception:
                log.exception("matching subscription %s failed", sub.id)
    await deliver_due(pool, http, settings)


@asynccontextmanager
async def dispatcher(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[None]:
    """The dispatcher task, for as long as the context lasts; its HTTP client closed after it."""
    stop = asyncio.Event()
    # no kept-alive connections: a connection is opened to a checked address for one host name and its TLS
    # certificate; pooled by address, it could be reused for another name at the same address
    http = httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )

    async def loop() -> None:
        while not stop.is_set():
            try:
                await dispatch_once(pool, http, settings)
            except Exception as exc:
                log.warning("webhook dispatch failed (database away?): %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.webhook_poll_seconds)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=settings.webhook_timeout_seconds + 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await http.aclose()
