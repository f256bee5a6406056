"""Webhook destinations against DNS rebinding: a name is resolved once, every address it gives is checked, and
the request connects to the checked address (the name kept for Host and TLS), never resolving it again.

No network is mocked: `localhost` is a real name resolving to loopback; `rebinding.invalid` is a real name
that resolves nowhere (RFC 6761), so a request that reaches the receiver through it cannot have looked it up.
"""

from typing import Any

import httpx
import pytest

from service.traceability.epcis.webhooks import Destination, DestinationRefused, check_destination, pinned_request
from tests.support import epcis as e
from tests.support import factories as f
from tests.support.webhooks import Receiver


async def test_a_name_that_resolves_to_loopback_is_refused(client: f.Client, make_user: Any) -> None:
    _, partner = await e.partner_client(client, await make_user("admin"))
    await client.post("/epcis/queries", json={"name": "all", "query": {}}, headers=partner)
    response = await client.post(
        "/epcis/queries/all/subscriptions", json={"dest": "http://localhost:9/hooks"}, headers=partner
    )
    f.assert_problem(response, 400, "webhook_destination_refused")
    assert "non-public address" in response.json()["detail"]
    assert (await client.get("/epcis/subscriptions", headers=partner)).json() == []


async def test_the_checked_address_is_the_one_to_connect_to() -> None:
    with pytest.raises(DestinationRefused, match="non-public"):
        await check_destination("http://localhost:9/hooks", frozenset())
    with pytest.raises(DestinationRefused, match="does not resolve"):
        await check_destination("http://rebinding.invalid/hooks", frozenset())
    allowed = await check_destination("http://LocalHost:9/hooks", frozenset({"localhost"}))
    assert allowed.host == "localhost" and allowed.address in ("127.0.0.1", "::1")
    by_address = await check_destination("http://localhost:9/hooks", frozenset({allowed.address}))
    assert by_address.address == allowed.address


async def test_the_request_goes_to_the_checked_address_without_a_second_lookup() -> None:
    async with Receiver() as receiver, httpx.AsyncClient(timeout=5) as http:
        url = f"http://rebinding.invalid:{receiver.port}/hooks/epcis"
        with pytest.raises(httpx.ConnectError):  # looking the name up at connect time fails...
            await http.post(url, content=b"{}")
        checked = (await check_destination(receiver.url, frozenset({"127.0.0.1"}))).address
        pinned = Destination(url=url, host="rebinding.invalid", address=checked)
        response = await http.send(pinned_request(http, pinned, b"{}", {"Content-Type": "application/json"}))
        [(headers, body)] = await receiver.wait_for(1)  # ...the pinned request never looked it up
    assert response.status_code == 204 and body == b"{}"
    assert headers["host"] == f"rebinding.invalid:{receiver.port}"  # the name the subscriber gave, kept


async def test_an_https_destination_keeps_the_name_for_tls() -> None:
    destination = await check_destination("https://localhost:8443/hooks", frozenset({"localhost"}))
    async with httpx.AsyncClient() as http:
        request = pinned_request(http, destination, b"{}", {})
    assert request.url.host == destination.address and request.url.port == 8443
    assert request.headers["host"] == "localhost:8443"
    assert request.extensions["sni_hostname"] == "localhost"  # certificates are checked against the name
