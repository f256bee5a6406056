"""EPCIS query: standard parameters, signed page tokens, named queries; every answer valid against GS1's schema."""

from typing import Any

import pytest
from jsonschema import Draft7Validator

from tests.support import epcis as e
from tests.support import factories as f
from tests.traceability.epcis.test_capture import known_lot

STORE = "https://id.gs1.org/414/8930000000507"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    return e.official_validator()


def event_list(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


async def test_a_partner_queries_its_receiving_by_lot_and_time(
    client: f.Client, make_user: Any, validator: Draft7Validator
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    admin = await make_user("admin")
    _, partner = await e.partner_client(client, admin, holds=((producer, lot),))
    days = e.moments(4)
    other = "https://id.gs1.org/01/08930000000026/10/X1"  # a lot we do not know: stored, joins no chain
    job = await e.captured(
        client, partner, e.document(*[e.receiving(uri, d) for d in days], e.receiving(other, days[0]))
    )
    assert job["captured"] == 5, job

    response = await client.get(
        "/epcis/events",
        params={"MATCH_epcClass": uri, "GE_eventTime": days[1], "LT_eventTime": days[3]},
        headers=partner,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    doc = response.json()
    assert e.schema_errors(validator, doc) == []
    assert doc["type"] == "EPCISQueryDocument"
    assert [ev["eventTime"] for ev in event_list(doc)] == [days[1], days[2]]
    assert all(ev["eventID"].startswith("ni:///sha-256;") and ev["recordTime"] for ev in event_list(doc))

    # the producer's own shipping (public chain event of a batch the partner holds) is readable too
    shipping = (await client.get("/epcis/events", params={"EQ_bizStep": "shipping"}, headers=partner)).json()
    assert e.schema_errors(validator, shipping) == []
    assert [ev["bizStep"] for ev in event_list(shipping)] == ["shipping"]
    by_uri = await client.get(
        "/epcis/events",
        params={"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-receiving", "EQ_readPoint": STORE},
        headers=partner,
    )
    assert len(event_list(by_uri.json())) == 5

    # another partner sees none of it
    _, stranger = await e.partner_client(client, admin, name="Công ty Xuất khẩu")
    assert event_list((await client.get("/epcis/events", headers=stranger)).json()) == []


async def test_pages_follow_a_tamper_checked_token(
    client: f.Client, make_user: Any, validator: Draft7Validator
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    await e.captured(client, partner, e.document(*[e.receiving(uri, t) for t in e.moments(7)]))
    seen: list[str] = []
    url: str | None = "/epcis/events?eventType=ObjectEvent&EQ_bizStep=receiving&perPage=3"
    pages = 0
    while url is not None:
        response = await client.get(url, headers=partner)
        assert response.status_code == 200, response.text
        assert e.schema_errors(validator, response.json()) == []
        seen += [ev["eventID"] for ev in event_list(response.json())]
        pages += 1
        link = response.headers.get("link")
        url = link.split(">")[0].removeprefix("<https://trace.example.vn") if link else None
        if url is not None:
            token = url.split("nextPageToken=")[1]
            forged = url.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
            f.assert_problem(await client.get(forged, headers=partner), 400, "invalid_page_token")
            other = url.replace("EQ_bizStep=receiving", "EQ_bizStep=shipping")
            f.assert_problem(await client.get(other, headers=partner), 400, "page_token_mismatch")
    assert pages == 3 and len(seen) == len(set(seen)) == 7


async def test_bad_parameters_are_clear_problems(client: f.Client, make_user: Any) -> None:
    _, partner = await e.partner_client(client, await make_user("admin"))
    f.assert_problem(await client.get("/epcis/events?eventType=Nope", headers=partner), 400, "invalid_event_type")
    f.assert_problem(await client.get("/epcis/events?GE_eventTime=soon", headers=partner), 400)
    f.assert_problem(await client.get("/epcis/events?GE_eventTime=2025-06-01T00:00:00", headers=partner), 400)
    f.assert_problem(await client.get("/epcis/events?nextPageToken=abc", headers=partner), 400)


async def test_a_named_query_is_saved_and_rerun(client: f.Client, make_user: Any, validator: Draft7Validator) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    await e.captured(client, partner, e.document(e.receiving(uri, e.moments(1)[0])))
    saved = await client.post(
        "/epcis/queries",
        json={"name": "lot-L7", "query": {"MATCH_epcClass": [uri], "EQ_bizStep": "receiving"}},
        headers=partner,
    )
    assert saved.status_code == 201, saved.text
    f.assert_problem(
        await client.post("/epcis/queries", json={"name": "lot-L7", "query": {}}, headers=partner),
        409,
        "query_name_taken",
    )
    f.assert_problem(
        await client.post("/epcis/queries", json={"name": "x", "query": {"EQ_nothing": "1"}}, headers=partner), 400
    )
    assert [q["name"] for q in (await client.get("/epcis/queries", headers=partner)).json()] == ["lot-L7"]
    rerun = await client.get("/epcis/queries/lot-L7/events", headers=partner)
    assert rerun.status_code == 200, rerun.text
    assert e.schema_errors(validator, rerun.json()) == []
    assert rerun.json()["epcisBody"]["queryResults"]["queryName"] == "lot-L7"
    assert len(event_list(rerun.json())) == 1
    assert (await client.delete("/epcis/queries/lot-L7", headers=partner)).status_code == 204
    f.assert_problem(await client.get("/epcis/queries/lot-L7/events", headers=partner), 404, "query_not_found")


async def test_the_resolver_points_partners_to_the_query_interface(
    client: f.Client, make_user: Any, validator: Draft7Validator
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    description = (await client.get("/.well-known/gs1resolver")).json()
    assert description["epcisQueryInterface"] == "https://trace.example.vn/epcis/events"
    linkset = (await client.get("/01/08930000000019/10/L7?linkType=linkset")).json()
    hrefs = [
        link["href"]
        for relation, links in linkset["linkset"][0].items()
        if relation.endswith("/epcis")
        for link in links
        if "/epcis/events" in link["href"]
    ]
    assert len(hrefs) == 1
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    await e.captured(client, partner, e.document(e.receiving(uri, e.moments(1)[0])))
    found = await client.get(hrefs[0].removeprefix("https://trace.example.vn"), headers=partner)
    assert e.schema_errors(validator, found.json()) == []
    # the partner holds the lot: its whole public chain, then the partner's own receiving
    assert [ev["bizStep"] for ev in event_list(found.json())] == ["commissioning", "shipping", "receiving"]
    redirect = await client.get("/01/08930000000019/10/L7?linkType=gs1:epcis&context=partner", follow_redirects=False)
    assert redirect.status_code == 307, redirect.text
    assert redirect.headers["location"].startswith(hrefs[0])
