"""Subscriptions: signed webhooks to a real receiver on loopback, retries, dead letters, timeouts, SSRF guard."""

import asyncio
import json
import time
from typing import Any

import msgspec
import pytest

from service.settings import Settings
from service.traceability.epcis.webhooks import verify_signature
from tests.support import epcis as e
from tests.support import factories as f
from tests.support.webhooks import Receiver
from tests.traceability.epcis.test_capture import known_lot


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The dispatcher runs in the app (as in `serve`), quickly, and may reach the loopback receiver only."""
    return msgspec.structs.replace(
        settings,
        jobs_in_server=True,
        webhook_allow_hosts="127.0.0.1",
        webhook_poll_seconds=0.1,
        webhook_timeout_seconds=0.5,
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=3,
    )


async def subscribed(
    client: f.Client, partner: dict[str, str], url: str, query: dict[str, Any] | None = None
) -> dict[str, Any]:
    saved = await client.post(
        "/epcis/queries", json={"name": "receiving", "query": query or {"EQ_bizStep": "receiving"}}, headers=partner
    )
    assert saved.status_code == 201, saved.text
    response = await client.post("/epcis/queries/receiving/subscriptions", json={"dest": url}, headers=partner)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def history(client: f.Client, partner: dict[str, str], sub: dict[str, Any], until: Any) -> list[dict[str, Any]]:
    """The delivery history, polled until `until(history)` holds (a few seconds at most)."""
    for _ in range(100):
        response = await client.get(f"/epcis/subscriptions/{sub['id']}/deliveries", headers=partner)
        assert response.status_code == 200, response.text
        if until(response.json()):
            return list(response.json())
        await asyncio.sleep(0.1)
    raise AssertionError(f"deliveries never got there: {response.json()}")


async def test_new_events_and_a_recall_arrive_signed(client: f.Client, make_user: Any) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    first, second = e.moments(2)
    await e.captured(client, partner, e.document(e.receiving(uri, first)))  # before the subscription: not sent
    validator = e.official_validator()
    async with Receiver() as receiver:
        sub = await subscribed(client, partner, receiver.url)
        await e.captured(client, partner, e.document(e.receiving(uri, second)))
        [(headers, body)] = await receiver.wait_for(1)
        secret = sub["signing_secret"]
        seen: set[str] = set()
        assert verify_signature(secret, headers, body, seen=seen)
        assert headers["gs1-signature"] == headers["webhook-signature"]  # the REST binding's header too
        document = json.loads(body)
        assert e.schema_errors(validator, document) == []
        results = document["epcisBody"]["queryResults"]
        assert results["subscriptionID"] == sub["id"] and results["queryName"] == "receiving"
        assert [ev["eventTime"] for ev in results["resultsBody"]["eventList"]] == [second]

        # the receiver's check refuses a replay (same id) and a stale or forged delivery
        assert not verify_signature(secret, headers, body, seen=seen)
        assert not verify_signature(secret, headers, body, now=time.time() + 600)
        assert not verify_signature(secret, headers, body.replace(b"receiving", b"shipping"))
        assert not verify_signature("another secret", headers, body)

        started = time.monotonic()
        recall = await client.post(
            f"/api/v1/batches/{lot['id']}/recall",
            json={"reason": "Dư lượng thuốc"},
            headers=await make_user("inspector"),
        )
        assert recall.status_code == 201, recall.text
        requests = await receiver.wait_for(2, within=5)
        assert time.monotonic() - started < 5
        headers, body = requests[1]
        assert verify_signature(secret, headers, body, seen=seen)
        [recalled] = json.loads(body)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert recalled["disposition"] == "recalled" and recalled["bizStep"] == "holding"
        assert e.schema_errors(validator, json.loads(body)) == []

    # the receiver has both requests; the sender records "delivered" once it has read the answer, a moment later
    deliveries = await history(client, partner, sub, lambda h: len(h) == 2 and all(d["status"] != "pending" for d in h))
    assert sorted(d["kind"] for d in deliveries) == ["events", "recall"]
    assert {d["status"] for d in deliveries} == {"delivered"} and {d["attempts"] for d in deliveries} == {1}


async def test_a_failing_receiver_is_retried_then_dead_lettered(client: f.Client, make_user: Any) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    async with Receiver(status=500) as receiver:
        sub = await subscribed(client, partner, receiver.url)
        await e.captured(client, partner, e.document(e.receiving(uri, e.moments(1)[0])))
        [dead] = await history(client, partner, sub, lambda h: h and h[0]["status"] == "dead")
        requests = await receiver.wait_for(3)
    assert dead["attempts"] == 3 and dead["last_status"] == 500 and "500" in dead["last_error"]
    assert len(requests) == 3 and len({h["webhook-id"] for h, _ in requests}) == 1  # one delivery, three tries
    assert all(verify_signature(sub["signing_secret"], h, body) for h, body in requests)  # each try signed


async def test_a_slow_receiver_times_out_and_is_retried(client: f.Client, make_user: Any) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    async with Receiver(delay=2.0) as receiver:
        sub = await subscribed(client, partner, receiver.url)
        await e.captured(client, partner, e.document(e.receiving(uri, e.moments(1)[0])))
        [slow] = await history(client, partner, sub, lambda h: h and h[0]["attempts"] >= 1 and h[0]["last_error"])
    assert slow["status"] in ("pending", "dead")
    assert slow["last_error"] == "the receiver did not answer in time"


@pytest.mark.parametrize(
    "dest",
    ["http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]:9/hook", "ftp://example.com/x"],
)
async def test_webhooks_to_private_addresses_are_refused(client: f.Client, make_user: Any, dest: str) -> None:
    _, partner = await e.partner_client(client, await make_user("admin"))
    await client.post("/epcis/queries", json={"name": "all", "query": {}}, headers=partner)
    response = await client.post("/epcis/queries/all/subscriptions", json={"dest": dest}, headers=partner)
    f.assert_problem(response, 400, "webhook_destination_refused")
    assert (await client.get("/epcis/subscriptions", headers=partner)).json() == []


async def test_a_webhook_named_by_host_is_delivered_to_its_checked_address(client: f.Client, make_user: Any) -> None:
    """`localhost` resolves to 127.0.0.1, allowed here: the dispatcher connects there, Host keeps the name."""
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    async with Receiver() as receiver:
        sub = await subscribed(client, partner, f"http://localhost:{receiver.port}/hooks/epcis")
        await e.captured(client, partner, e.document(e.receiving(uri, e.moments(1)[0])))
        [(headers, body)] = await receiver.wait_for(1)
    assert headers["host"] == f"localhost:{receiver.port}"
    assert verify_signature(sub["signing_secret"], headers, body)
