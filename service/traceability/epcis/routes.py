"""The EPCIS 2.0 REST binding for partners: /epcis/token, /epcis/capture, /epcis/events, /epcis/queries.

Partners are not users: these routes skip the user JWT middleware and take `partner: PartnerDep`
(HTTP Basic with the client's id and secret, or a partner bearer token), checked on every request.
"""

import asyncio
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from service.core.db import DB
from service.core.dependencies import BaseUrl
from service.core.errors import Forbidden
from service.partners import service as partners
from service.partners.routes import PartnerDep
from service.partners.schemas import Partner, PartnerToken
from service.traceability.batches.epcis import EPCIS_MEDIA_TYPE
from service.traceability.epcis import capture, named, query, webhooks
from service.traceability.epcis.schemas import (
    CaptureJobRead,
    DeliveryRead,
    NamedQueryCreate,
    NamedQueryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)

PARTNER_TOKEN_TTL = 15 * 60
# Operations beyond GS1's EPCIS 2.0 REST binding (epcis-rest-openapi.yaml); the conformance test holds every
# other /epcis operation to the binding's paths, methods and parameters.
REST_BINDING_EXTENSIONS = {
    "POST /epcis/token": "a short-lived bearer token for a client's id and secret (the binding leaves auth to us)",
    "GET /epcis/subscriptions": "all of a partner's subscriptions, whatever query they belong to",
    "DELETE /epcis/subscriptions/{}": "cancel a subscription by its id alone",
    "GET /epcis/subscriptions/{}/deliveries": "the delivery history of a webhook: attempts, answers, dead letters",
}
Pipe = str | None  # one value, or several joined by |


def require_scope(partner: Partner, scope: str) -> None:
    if scope not in partner.scopes:
        raise Forbidden(f"this client may not {scope}: ask the service's administrators", code="scope_missing")


def spawn_capture(state: State, partner: Partner, job_id: uuid.UUID, base_url: str) -> None:
    """Run the job as a task of this worker (kept in app.state so it is not collected and is awaited at shutdown)."""
    tasks: set[asyncio.Task[None]] = state.epcis_tasks
    task = asyncio.create_task(capture.run_capture(state.pool, partner, job_id, base_url))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _query_params(
    event_type: str | None,
    ge_event_time: str | None,
    lt_event_time: str | None,
    eq_biz_step: str | None,
    eq_disposition: str | None,
    match_epc: str | None,
    match_any_epc: str | None,
    match_epc_class: str | None,
    match_any_epc_class: str | None,
    eq_biz_location: str | None,
    eq_read_point: str | None,
) -> dict[str, Any]:
    given = {
        "eventType": event_type,
        "GE_eventTime": ge_event_time,
        "LT_eventTime": lt_event_time,
        "EQ_bizStep": eq_biz_step,
        "EQ_disposition": eq_disposition,
        "MATCH_epc": match_epc,
        "MATCH_anyEPC": match_any_epc,
        "MATCH_epcClass": match_epc_class,
        "MATCH_anyEPCClass": match_any_epc_class,
        "EQ_bizLocation": eq_biz_location,
        "EQ_readPoint": eq_read_point,
    }
    return {k: v for k, v in given.items() if v is not None}


def _page_response(
    document: dict[str, Any], token: str | None, request: Request[Any, Any, Any], base_url: str
) -> Response[dict[str, Any]]:
    headers = {"GS1-EPCIS-Version": "2.0.0"}
    if token is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
        params.append(("nextPageToken", token))
        headers["Link"] = f'<{base_url}{request.url.path}?{urlencode(params)}>; rel="next"'
    return Response(document, media_type=EPCIS_MEDIA_TYPE, headers=headers)


class EpcisController(Controller):
    path = "/epcis"
    tags = ["epcis"]
    opt = {"exclude_from_auth": True}
    security = [{"PartnerBasic": []}, {"PartnerBearer": []}]

    @post("/token", operation_id="epcis_partner_token", status_code=200)
    async def token(self, partner: PartnerDep, state: State) -> PartnerToken:
        """Exchange a client's id and secret (HTTP Basic) for a bearer token valid 15 minutes."""
        return partners.issue_token(partner, state.settings.jwt_secret, PARTNER_TOKEN_TTL)

    @post(
        "/capture",
        operation_id="epcis_capture",
        status_code=202,
        request_max_body_size=capture.MAX_DOCUMENT_BYTES,
    )
    async def capture_document(
        self,
        partner: PartnerDep,
        db: DB,
        state: State,
        base_url: BaseUrl,
        data: JSONBody[dict[str, Any]],
        behaviour: Annotated[
            Literal["rollback", "proceed"], HeaderParameter(name="GS1-Capture-Error-Behaviour")
        ] = "rollback",
    ) -> Response[CaptureJobRead]:
        """Capture an EPCISDocument (validated against the EPCIS 2.0 schema); 202 with the capture job."""
        require_scope(partner, "capture")
        job, to_run = await capture.start_capture(db, partner, data, behaviour)
        if to_run:
            spawn_capture(state, partner, job.id, base_url)
        return Response(
            capture.job_read(job),
            status_code=202,
            headers={"Location": f"{base_url}/epcis/capture/{job.id}", "GS1-EPCIS-Version": "2.0.0"},
        )

    @get("/capture/{capture_id:uuid}", operation_id="epcis_capture_job")
    async def capture_job(self, partner: PartnerDep, db: DB, capture_id: FromPath[uuid.UUID]) -> CaptureJobRead:
        """A capture job: running, succeeded or failed, with per-event errors."""
        return await capture.capture_job(db, partner, capture_id)

    @get("/events", operation_id="epcis_query_events", media_type=EPCIS_MEDIA_TYPE)
    async def events(
        self,
        request: Request[Any, Any, Any],
        partner: PartnerDep,
        db: DB,
        state: State,
        base_url: BaseUrl,
        event_type: Annotated[Pipe, QueryParameter(name="eventType")] = None,
        ge_event_time: Annotated[Pipe, QueryParameter(name="GE_eventTime")] = None,
        lt_event_time: Annotated[Pipe, QueryParameter(name="LT_eventTime")] = None,
        eq_biz_step: Annotated[Pipe, QueryParameter(name="EQ_bizStep")] = None,
        eq_disposition: Annotated[Pipe, QueryParameter(name="EQ_disposition")] = None,
        match_epc: Annotated[Pipe, QueryParameter(name="MATCH_epc")] = None,
        match_any_epc: Annotated[Pipe, QueryParameter(name="MATCH_anyEPC")] = None,
        match_epc_class: Annotated[Pipe, QueryParameter(name="MATCH_epcClass")] = None,
        match_any_epc_class: Annotated[Pipe, QueryParameter(name="MATCH_anyEPCClass")] = None,
        eq_biz_location: Annotated[Pipe, QueryParameter(name="EQ_bizLocation")] = None,
        eq_read_point: Annotated[Pipe, QueryParameter(name="EQ_readPoint")] = None,
        per_page: Annotated[int, QueryParameter(name="perPage", ge=1, le=query.MAX_PER_PAGE)] = query.DEFAULT_PER_PAGE,
        next_page_token: Annotated[str | None, QueryParameter(name="nextPageToken", max_length=500)] = None,
    ) -> Response[dict[str, Any]]:
        """Events this partner may read, as an EPCISQueryDocument; more pages behind the Link header's nextPageToken."""
        require_scope(partner, "query")
        query.refuse_unsupported(request.query_params.keys())
        params = _query_params(
            event_type,
            ge_event_time,
            lt_event_time,
            eq_biz_step,
            eq_disposition,
            match_epc,
            match_any_epc,
            match_epc_class,
            match_any_epc_class,
            eq_biz_location,
            eq_read_point,
        )
        document, token = await query.find_events(
            db,
            partner,
            query.parse_query(params),
            per_page=per_page,
            token=next_page_token,
            secret=state.settings.jwt_secret,
            base_url=base_url,
        )
        return _page_response(document, token, request, base_url)

    @post("/queries", operation_id="epcis_create_query", status_code=201)
    async def create_query(self, partner: PartnerDep, db: DB, data: JSONBody[NamedQueryCreate]) -> NamedQueryRead:
        """Save a query by name (its parameters as GET /epcis/events takes them)."""
        require_scope(partner, "query")
        return await named.create(db, partner, data)

    @get("/queries", operation_id="epcis_list_queries")
    async def list_queries(self, partner: PartnerDep, db: DB) -> list[NamedQueryRead]:
        """This partner's saved queries."""
        require_scope(partner, "query")
        return await named.list_all(db, partner)

    @get("/queries/{name:str}", operation_id="epcis_get_query")
    async def get_query(self, partner: PartnerDep, db: DB, name: FromPath[str]) -> NamedQueryRead:
        """One saved query."""
        require_scope(partner, "query")
        return await named.get_one(db, partner, name)

    @delete("/queries/{name:str}", operation_id="epcis_delete_query", status_code=204)
    async def delete_query(self, partner: PartnerDep, db: DB, name: FromPath[str]) -> None:
        """Forget a saved query."""
        require_scope(partner, "query")
        await named.remove(db, partner, name)

    @get("/queries/{name:str}/events", operation_id="epcis_run_query", media_type=EPCIS_MEDIA_TYPE)
    async def run_query(
        self,
        request: Request[Any, Any, Any],
        partner: PartnerDep,
        db: DB,
        state: State,
        base_url: BaseUrl,
        name: FromPath[str],
        per_page: Annotated[int, QueryParameter(name="perPage", ge=1, le=query.MAX_PER_PAGE)] = query.DEFAULT_PER_PAGE,
        next_page_token: Annotated[str | None, QueryParameter(name="nextPageToken", max_length=500)] = None,
    ) -> Response[dict[str, Any]]:
        """Run a saved query: the same EPCISQueryDocument pages as GET /epcis/events."""
        require_scope(partner, "query")
        query.refuse_unsupported(request.query_params.keys(), query.PAGING_PARAMETERS)
        saved = await named.get_one(db, partner, name)
        document, token = await query.find_events(
            db,
            partner,
            query.parse_query(saved.query),
            per_page=per_page,
            token=next_page_token,
            secret=state.settings.jwt_secret,
            base_url=base_url,
            query_name=saved.name,
        )
        return _page_response(document, token, request, base_url)

    @post("/queries/{name:str}/subscriptions", operation_id="epcis_subscribe", status_code=201)
    async def subscribe(
        self, partner: PartnerDep, db: DB, state: State, name: FromPath[str], data: JSONBody[SubscriptionCreate]
    ) -> SubscriptionCreated:
        """Push new events of a saved query (and recalls of held batches, always) to a webhook, signed."""
        require_scope(partner, "query")
        return await webhooks.subscribe(db, partner, name, data, state.settings)

    @get("/queries/{name:str}/subscriptions", operation_id="epcis_query_subscriptions")
    async def query_subscriptions(self, partner: PartnerDep, db: DB, name: FromPath[str]) -> list[SubscriptionRead]:
        """The subscriptions of one saved query, cancelled ones included."""
        require_scope(partner, "query")
        return await webhooks.query_subscriptions(db, partner, name)

    @get("/queries/{name:str}/subscriptions/{subscription_id:uuid}", operation_id="epcis_query_subscription")
    async def query_subscription(
        self, partner: PartnerDep, db: DB, name: FromPath[str], subscription_id: FromPath[uuid.UUID]
    ) -> SubscriptionRead:
        """One subscription of a saved query."""
        require_scope(partner, "query")
        return await webhooks.query_subscription(db, partner, name, subscription_id)

    @delete(
        "/queries/{name:str}/subscriptions/{subscription_id:uuid}",
        operation_id="epcis_query_unsubscribe",
        status_code=204,
    )
    async def query_unsubscribe(
        self, partner: PartnerDep, db: DB, name: FromPath[str], subscription_id: FromPath[uuid.UUID]
    ) -> None:
        """Cancel a subscription of a saved query, as the REST binding addresses it."""
        require_scope(partner, "query")
        await webhooks.query_subscription(db, partner, name, subscription_id)
        await webhooks.cancel(db, partner, subscription_id)

    @get("/subscriptions", operation_id="epcis_list_subscriptions")
    async def list_subscriptions(self, partner: PartnerDep, db: DB) -> list[SubscriptionRead]:
        """This partner's subscriptions, cancelled ones included."""
        require_scope(partner, "query")
        return await webhooks.list_subscriptions(db, partner)

    @delete("/subscriptions/{subscription_id:uuid}", operation_id="epcis_unsubscribe", status_code=204)
    async def unsubscribe(self, partner: PartnerDep, db: DB, subscription_id: FromPath[uuid.UUID]) -> None:
        """Cancel a subscription: nothing more is matched for it (queued deliveries are still tried)."""
        require_scope(partner, "query")
        await webhooks.cancel(db, partner, subscription_id)

    @get("/subscriptions/{subscription_id:uuid}/deliveries", operation_id="epcis_subscription_deliveries")
    async def deliveries(
        self,
        partner: PartnerDep,
        db: DB,
        subscription_id: FromPath[uuid.UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[DeliveryRead]:
        """The subscription's deliveries, newest first: attempts, the receiver's last answer, dead letters."""
        require_scope(partner, "query")
        return await webhooks.delivery_history(db, partner, subscription_id, limit)
