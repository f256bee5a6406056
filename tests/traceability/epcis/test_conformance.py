"""Conformance with GS1's EPCIS 2.0 REST binding, read from the official documents in tests/standards/epcis:
every /epcis operation we serve is one of the binding's (path, method, parameters) or a documented extension,
every query parameter is one of the query language's, and what we answer validates against the official schemas.
"""

import json
import re
from typing import Any

import msgspec
import pytest
import yaml
from jsonschema import Draft7Validator
from litestar import Litestar
from referencing import Registry, Resource

from service.settings import Settings
from service.traceability.epcis.query import QUERY_PARAMETERS
from service.traceability.epcis.routes import REST_BINDING_EXTENSIONS
from tests.standards import STANDARDS
from tests.support import epcis as e
from tests.support import factories as f
from tests.traceability.epcis.test_capture import known_lot

EPCIS = STANDARDS / "epcis"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Webhooks may go to loopback here (nothing is delivered: the dispatcher does not run in these tests)."""
    return msgspec.structs.replace(settings, webhook_allow_hosts="127.0.0.1")


@pytest.fixture(scope="module")
def binding() -> dict[str, Any]:
    return dict(yaml.safe_load((EPCIS / "epcis-rest-openapi.yaml").read_text(encoding="utf-8")))


def shape(path: str) -> str:
    """A path with its parameters' names dropped: /queries/{queryName} and /queries/{name} are one path."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def parameters(document: dict[str, Any], item: dict[str, Any], operation: dict[str, Any]) -> set[tuple[str, str]]:
    """(in, name) of an operation's parameters, path-level ones included, $refs followed."""
    found = set()
    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
        if "$ref" in parameter:
            parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        found.add((parameter["in"], parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]))
    return found


def operations(document: dict[str, Any], prefix: str = "") -> dict[str, set[tuple[str, str]]]:
    """'METHOD /shape' -> its parameters, for every operation under prefix."""
    return {
        f"{method.upper()} {shape(path)}": parameters(document, item, item[method])
        for path, item in document["paths"].items()
        if path.startswith(prefix)
        for method in METHODS
        if method in item
    }


def ours(app: Litestar) -> dict[str, set[tuple[str, str]]]:
    return operations(app.openapi_schema.to_schema(), "/epcis/")


def test_every_epcis_operation_is_in_the_rest_binding(app: Litestar, binding: dict[str, Any]) -> None:
    official = operations(binding)
    served = ours(app)
    outside = {op for op in served if op.replace(" /epcis", " ", 1) not in official}
    assert outside == set(REST_BINDING_EXTENSIONS), "an /epcis operation that is neither GS1's nor a known extension"
    # the core of the binding is there: capture and its jobs, events, named queries and their subscriptions
    for needed in (
        "POST /capture",
        "GET /capture/{}",
        "GET /events",
        "GET /queries",
        "POST /queries",
        "GET /queries/{}",
        "DELETE /queries/{}",
        "GET /queries/{}/events",
        "POST /queries/{}/subscriptions",
        "GET /queries/{}/subscriptions",
        "GET /queries/{}/subscriptions/{}",
        "DELETE /queries/{}/subscriptions/{}",
    ):
        assert needed in official, f"the binding itself has no {needed}"
        assert needed.replace(" ", " /epcis", 1) in served, f"we do not serve {needed}"


def test_every_parameter_we_take_is_the_bindings(app: Litestar, binding: dict[str, Any]) -> None:
    official = operations(binding)
    checked = 0
    for op, taken in ours(app).items():
        if op in REST_BINDING_EXTENSIONS:
            continue
        allowed = official[op.replace(" /epcis", " ", 1)]
        for where, name in taken:
            if where == "path":
                continue  # path parameters are matched by position above
            assert (where, name.lower() if where == "header" else name) in allowed, f"{op} takes {where} {name}"
            checked += 1
    assert checked >= 15  # eventType ... perPage, nextPageToken, GS1-Capture-Error-Behaviour


def query_language() -> Draft7Validator:
    """The official query schema; its relative $refs to GS1's split schema files are served from the tests'
    copies (bizStep-JSON-Schema.json as is, the rest from the bundled EPCIS-JSON-Schema.json's definitions)."""
    root = json.loads((EPCIS / "EPCIS-Query-JSON-Schema-root.json").read_text(encoding="utf-8"))
    bundled = json.loads((EPCIS / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
    biz_step = json.loads((EPCIS / "bizStep-JSON-Schema.json").read_text(encoding="utf-8"))
    event_types = ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]
    split = {**bundled["definitions"], "eventType": {"type": "string", "enum": event_types}}
    base = "https://gs1.github.io/EPCIS/JSON-Schema/schemas/"
    files = ("definitions", "event-definitions", "disposition", "error-reason", "measurement-type")
    resources = [
        (f"{base}{name}-JSON-Schema.json", Resource.from_contents({**bundled, "$id": f"{base}{name}-JSON-Schema.json"}))
        for name in files
    ]
    for uri, _ in resources:
        assert uri.rsplit("/", 1)[1] in json.dumps(root), uri  # each stands for a file the root schema names
    resources = [(uri, Resource.from_contents({**r.contents, "definitions": split})) for uri, r in resources]
    registry = Registry().with_resources([*resources, (biz_step["$id"], Resource.from_contents(biz_step))])
    return Draft7Validator(root, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)


def test_every_query_parameter_is_in_the_query_language(binding: dict[str, Any]) -> None:
    language = json.loads((EPCIS / "EPCIS-Query-JSON-Schema-root.json").read_text(encoding="utf-8"))
    names = set(language["definitions"]["EPCIS-Query"]["properties"])
    assert QUERY_PARAMETERS - {"perPage", "nextPageToken"} <= names
    assert {"perPage", "nextPageToken"} <= {n for _, n in operations(binding)["GET /events"]}


def problems_of(binding: dict[str, Any], name: str, document: Any) -> list[str]:
    """Errors of a document against one of the binding's component schemas (OpenAPI 3.0, draft-07-like)."""
    schema = {**binding["components"]["schemas"][name], "components": binding["components"]}
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    return [f"{list(err.path)}: {err.message}" for err in validator.iter_errors(document)]


async def test_answers_validate_against_the_official_schemas(
    client: f.Client, make_user: Any, binding: dict[str, Any]
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    first, second = e.moments(2)
    job = await e.captured(
        client,
        partner,
        e.document(e.receiving(uri, first), e.receiving(uri, second, bizStep="inspecting", disposition="recalled")),
        **{"GS1-Capture-Error-Behaviour": "proceed"},
    )
    assert not job["success"] and job["captured"] == 1 and len(job["errors"]) == 1

    # the capture job: the binding's CaptureJob properties, and each error an RFC 7807 problem (type, title).
    # (CaptureJob's own `oneOf` of {errors} / {errorFile} requires neither, so no document can match exactly
    # one branch: its first part and the error items are checked instead.)
    capture_job = binding["components"]["schemas"]["CaptureJob"]
    properties = {"type": "object", **capture_job["allOf"][0]}
    assert list(Draft7Validator(properties, format_checker=Draft7Validator.FORMAT_CHECKER).iter_errors(job)) == []
    assert set(properties["properties"]) <= set(job)
    for error in job["errors"]:
        assert problems_of(binding, "RFC7807ProblemResponseBody", error) == [], error
        assert error["eventIndex"] == 1 and error["type"].startswith("https://")

    # the saved query: the binding's QueryDefinition, its `query` valid in the official query language
    saved = {"name": "receivingAtStore", "query": {"eventType": ["ObjectEvent"], "EQ_bizStep": ["receiving"]}}
    assert problems_of(binding, "QueryDefinition", saved) == []
    created = await client.post("/epcis/queries", json=saved, headers=partner)
    assert created.status_code == 201, created.text
    listed = (await client.get("/epcis/queries/receivingAtStore", headers=partner)).json()
    language = query_language()
    assert [err.message for err in language.iter_errors(listed["query"])] == []
    assert not language.is_valid({"EQ_bizStep": ["not a step"]})  # the language is really checked, with formats
    assert not language.is_valid({"NOT_a_parameter": ["x"]})

    # the query documents: the official EPCIS JSON schema
    validator = e.official_validator()
    for path in ("/epcis/events", "/epcis/queries/receivingAtStore/events"):
        response = await client.get(path, headers=partner)
        assert response.status_code == 200, response.text
        assert e.schema_errors(validator, response.json()) == []
        assert response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


async def test_a_parameter_we_do_not_apply_is_refused_not_ignored(client: f.Client, make_user: Any) -> None:
    _, partner = await e.partner_client(client, await make_user("admin"))
    official_but_unsupported = await client.get("/epcis/events", params={"EQ_action": "ADD"}, headers=partner)
    f.assert_problem(official_but_unsupported, 400, "query_parameter_not_supported")
    assert "EQ_action" in official_but_unsupported.json()["detail"]
    await client.post("/epcis/queries", json={"name": "all", "query": {}}, headers=partner)
    rerun = await client.get("/epcis/queries/all/events", params={"eventType": "ObjectEvent"}, headers=partner)
    f.assert_problem(rerun, 400, "query_parameter_not_supported")
    ok = await client.get("/epcis/events", params={"eventType": "ObjectEvent", "perPage": 5}, headers=partner)
    assert ok.status_code == 200, ok.text


async def test_the_bindings_subscription_bodies_are_understood(
    client: f.Client, make_user: Any, binding: dict[str, Any]
) -> None:
    _, partner = await e.partner_client(client, await make_user("admin"))
    await client.post("/epcis/queries", json={"name": "MyQuery", "query": {}}, headers=partner)
    schemas = binding["components"]["schemas"]
    dest = "http://127.0.0.1:9/queryCallback"
    stream = {**schemas["AbstractQuerySubscription"]["example"], **schemas["QueryStreamSubscription"]["example"]}
    assert set(stream) == {"dest", "signatureToken", "stream"}
    created = await client.post("/epcis/queries/MyQuery/subscriptions", json=stream | {"dest": dest}, headers=partner)
    assert created.status_code == 201, created.text
    assert created.json()["signing_secret"] == stream["signatureToken"]  # the client's token signs the deliveries

    post = binding["paths"]["/queries/{queryName}/subscriptions"]["post"]
    scheduled = post["requestBody"]["content"]["application/json"]["example"]
    assert "schedule" in scheduled
    refused = await client.post(
        "/epcis/queries/MyQuery/subscriptions", json=scheduled | {"dest": dest}, headers=partner
    )
    f.assert_problem(refused, 400, "subscription_schedule_not_supported")

    # addressed as the binding addresses it: under its query
    sub = f"/epcis/queries/MyQuery/subscriptions/{created.json()['id']}"
    assert [s["id"] for s in (await client.get("/epcis/queries/MyQuery/subscriptions", headers=partner)).json()] == [
        created.json()["id"]
    ]
    assert (await client.get(sub, headers=partner)).json()["cancelled_at"] is None
    f.assert_problem(await client.get(sub.replace("MyQuery", "Other"), headers=partner), 404, "query_not_found")
    assert (await client.delete(sub, headers=partner)).status_code == 204
    assert (await client.get(sub, headers=partner)).json()["cancelled_at"] is not None
