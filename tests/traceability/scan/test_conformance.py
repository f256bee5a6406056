"""GS1-Conformant Resolver 1.2: one test per applicable statement of tests/standards/gs1-resolver/Conformance1_2.txt.

Not applicable here: HTTPS (TLS ends at the platform's proxy; PUBLIC_BASE_URL is https in production),
gs1:handledBy (we never redirect on a company prefix). Compression vectors and edge cases are in
tests/traceability/identifiers/test_compression.py; the public EPCIS document behind gs1:epcis in
test_public_epcis.py. Statements of GS1's resolver test suite beyond that list (walk-up on unknown
qualifiers, the resolver's own parameters, ambiguous links) are at the end.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.traceability.identifiers.compression import compress
from service.traceability.identifiers.digital_link import DigitalLink
from tests.standards import STANDARDS
from tests.support.app import feed_connected
from tests.support.factories import BASE, GTIN

LINKSET_SCHEMA = json.loads((STANDARDS / "gs1-linkset" / "gs1-linkset-schema.json").read_text())
# GS1's description-file schema (Resolver 1.2.0): see tests/standards/README.md for its source.
DESCRIPTION_SCHEMA = json.loads(
    (STANDARDS / "gs1-resolver" / "gs1resolver-description-file-schema-1.2.0.json").read_text()
)
VOC = "https://gs1.org/voc/"


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=BASE) as test_client:
        test_client.follow_redirects = False
        await feed_connected(app)
        yield test_client


def dl(batch: dict[str, Any]) -> str:
    return f"/01/{GTIN}/10/{quote(batch['lot'], safe='')}"


def validate_linkset(body: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(LINKSET_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(body)


async def test_supports_get_head_and_options(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'SHALL support HTTP 1.1 (or higher) GET, HEAD and OPTIONS requests.'"""
    get = await client.get(dl(batch))
    head = await client.head(dl(batch))
    options = await client.options(dl(batch))
    assert get.status_code == head.status_code == 307
    assert head.headers["location"] == get.headers["location"]
    assert head.content == b""
    assert options.status_code in (200, 204)
    assert "GET" in options.headers["allow"] and "HEAD" in options.headers["allow"]


async def test_supports_cors(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'SHALL support CORS'."""
    preflight = await client.options(
        dl(batch), headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://app.example.org")
    simple = await client.get(dl(batch), headers={"Origin": "https://app.example.org"})
    assert simple.headers["access-control-allow-origin"] in ("*", "https://app.example.org")
    assert "link" in simple.headers.get("access-control-expose-headers", "").lower()


@pytest.mark.parametrize(
    "path", [f"/01/{GTIN[:-1]}9", "/01/12345", "/01/ABCDEFGHIJKLMN", f"/01/{GTIN}/10/%E1%BB%87", f"/01/{GTIN}/99/X"]
)
async def test_syntax_errors_are_400(client: AsyncTestClient[Litestar], path: str) -> None:
    """'SHALL extract and syntactically validate the URI ... and report errors with an HTTP response code of 400.'"""
    response = await client.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_no_200_for_an_error(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'SHALL NOT use a 200 OK response code with a resource that indicates an error condition.'"""
    unknown = await client.get("/01/08935049510024/10/NOPE")  # a GTIN nobody registered (a known one walks up)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "identifier_not_found"
    missing_type = await client.get(dl(batch), params={"linkType": "gs1:recipeInfo"})
    assert missing_type.status_code == 404


@pytest.mark.parametrize(
    "how",
    [
        {"params": {"linkType": "linkset"}},
        {"params": {"linkType": "all"}},
        {"headers": {"Accept": "application/linkset+json"}},
    ],
)
async def test_linkset_on_request(
    client: AsyncTestClient[Litestar], batch: dict[str, Any], how: dict[str, Any]
) -> None:
    """'SHALL respond to ... linkType set to linkset and/or ... Accept ... application/linkset+json by returning a
    list of links ... as per RFC9264.'"""
    response = await client.get(dl(batch), **how)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/linkset+json")
    validate_linkset(response.json())


async def test_linkset_walks_up_to_the_primary_key(
    client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    """'If the request ... includes one or more key qualifiers, any links associated with each level up to the
    primary key SHALL be included in the linkset.' and 'The URI used as the subject ... SHALL be the uncompressed
    version.'"""
    serial = "ABCDEFGHJKLMN"
    await db.execute("insert into units (batch_id, serial, seq) values ($1, $2, 1)", batch["id"], serial)
    response = await client.get(f"{dl(batch)}/21/{serial}/", params={"linkType": "linkset"})
    body = response.json()
    validate_linkset(body)
    context = body["linkset"][0]
    assert context["anchor"] == f"{BASE}{dl(batch)}/21/{serial}"
    hrefs = {link["href"] for links in context.values() if isinstance(links, list) for link in links}
    assert f"{BASE}/trace/{batch['code']}/{serial}" in hrefs  # unit level
    assert f"{BASE}/trace/{batch['code']}" in hrefs  # lot level
    assert f"{BASE}/p/{GTIN}" in hrefs  # GTIN level


async def test_every_link_has_target_type_title_and_language(
    client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    """'All links in the linkset SHALL include the target URL, the link type and a link title, and SHOULD include
    the human language(s).' and 'If a media type is defined for a link, it SHALL be one defined by IANA.'"""
    context = (await client.get(dl(batch), params={"linkType": "linkset"})).json()["linkset"][0]
    for rel, links in context.items():
        if rel in ("anchor", "itemDescription"):
            continue
        assert rel.startswith(VOC)
        for link in links:
            assert link["href"].startswith("https://") and link["title"]
            assert link["type"] in ("text/html", "application/json", "application/ld+json")
            assert link["hreflang"] == ["vi", "en"]


async def test_exactly_one_default_link_also_described_by_a_descriptive_type(
    client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    """'The resolver SHALL recognise one available link as the default ...' and 'Links that are typed
    gs1:defaultLink ... SHALL also be described using a descriptive link type'. The default carries no
    restricting attribute (no context); its hreflang lists both languages the page speaks."""
    context = (await client.get(dl(batch), params={"linkType": "linkset"})).json()["linkset"][0]
    defaults = context[VOC + "defaultLink"]
    assert len(defaults) == 1 and "context" not in defaults[0]
    described = [
        rel
        for rel, links in context.items()
        if rel != VOC + "defaultLink"
        and isinstance(links, list)
        and any(link["href"] == defaults[0]["href"] for link in links)
    ]
    assert described


async def test_redirects_to_the_default_link(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'The resolver SHALL redirect to the default link unless there is information supplied in the request that can
    be used to make a better match.' and 'there SHALL be a default link at the entry level or higher up the tree'."""
    response = await client.get(dl(batch))
    assert response.status_code == 307
    assert response.headers["location"] == f"{BASE}/trace/{batch['code']}"
    gtin_only = await client.get(f"/01/{GTIN}")
    assert gtin_only.headers["location"] == f"{BASE}/p/{GTIN}"


@pytest.mark.parametrize(
    ("link_type", "expected"),
    [
        ("gs1:pip", "/trace/{code}"),
        ("gs1:traceability", "/trace/{code}"),
        (VOC + "certificationInfo", "/trace/{code}#chung-nhan"),
        ("gs1:epcis", "/trace/{code}/epcis"),
    ],
)
async def test_redirects_to_the_requested_link_type(
    client: AsyncTestClient[Litestar], batch: dict[str, Any], link_type: str, expected: str
) -> None:
    """'SHALL redirect to the requested type of link if available.'"""
    response = await client.get(dl(batch), params={"linkType": link_type})
    assert response.status_code == 307
    location = response.headers["location"]
    assert location.split("?")[0].split("#")[0] == BASE + expected.format(code=batch["code"]).split("#")[0]


@pytest.mark.parametrize("link_type", ["gs1:verificationService", "gs1:recipeInfo", "other:thing"])
async def test_404_when_the_link_type_is_missing(
    client: AsyncTestClient[Litestar], batch: dict[str, Any], link_type: str
) -> None:
    """'SHALL return a 404 Not Found message if a link of the requested type is not available.'"""
    response = await client.get(dl(batch), params={"linkType": link_type})
    assert response.status_code == 404
    assert response.json()["code"] == "link_type_not_found"
    assert 'rel="linkset"' in response.headers["link"]


async def test_query_string_passes_through(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'By default, SHALL pass on all key=value pairs in the query string of the request URI ... when redirecting.'"""
    response = await client.get(f"{dl(batch)}?utm_source=pack&campaign=t%E1%BA%BFt")
    assert response.headers["location"] == f"{BASE}/trace/{batch['code']}?utm_source=pack&campaign=t%E1%BA%BFt"
    typed = await client.get(f"{dl(batch)}?linkType=gs1:certificationInfo&x=1")
    assert typed.headers["location"] == f"{BASE}/trace/{batch['code']}?x=1#chung-nhan"


async def test_link_header_on_every_answer(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'SHOULD expose link to the linkset in an HTTP Link header, even when redirecting.' and the JSON-LD context
    link on the linkset itself."""
    anchor = f"{BASE}{dl(batch)}"
    for response in (await client.get(dl(batch)), await client.head(dl(batch))):
        assert f'<{anchor}?linkType=linkset>; rel="linkset"' in response.headers["link"]
    linkset = await client.get(dl(batch), params={"linkType": "linkset"})
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in linkset.headers["link"]


async def test_resolver_description_file(client: AsyncTestClient[Litestar]) -> None:
    """'SHALL provide a resolver description file at /.well-known/gs1resolver.' (1.0: 'The list of supported
    primary identifiers SHALL be provided' and the linkset's JSON-LD context 'SHOULD be declared'.) The file
    validates against GS1's description-file schema 1.2.0, with format checking."""
    response = await client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    jsonschema.Draft7Validator(DESCRIPTION_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(body)
    assert body["supportedPrimaryKeys"] == ["01"]  # numeric AIs: the schema's enum has no "gtin"
    assert body["resolverRoot"] == BASE
    assert body["jsonLdContextLocation"] == "https://ref.gs1.org/standards/resolver/linkset-context"
    assert body["supportedLinkType"] == [{"namespace": VOC, "prefix": "gs1:"}]
    assert body["linkTypeDefaultCanBeLinkset"] is False
    broken = {**body, "supportedPrimaryKeys": ["gtin"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(DESCRIPTION_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(broken)


async def test_decompresses_compressed_uris(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'SHALL be able to decompress a URI to generate a GS1 Digital Link URI' and then answer as for it: the same
    redirect, the same linkset anchored on the uncompressed URI ('The URI used as the subject of facts presented
    SHALL be the uncompressed version'), and no redirect to the uncompressed URI itself (1.0: SHOULD NOT)."""
    segment = compress(DigitalLink(gtin=GTIN, lot=batch["lot"]))
    plain, packed = await client.get(dl(batch)), await client.get(f"/{segment}")
    assert packed.status_code == plain.status_code == 307
    assert packed.headers["location"] == plain.headers["location"] == f"{BASE}/trace/{batch['code']}"
    linkset = await client.get(f"/{segment}", params={"linkType": "linkset"})
    assert linkset.status_code == 200
    validate_linkset(linkset.json())
    assert linkset.json()["linkset"][0]["anchor"] == f"{BASE}{dl(batch)}"
    assert linkset.json() == (await client.get(dl(batch), params={"linkType": "linkset"})).json()


async def test_compressed_request_exposes_owl_same_as(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'If handling a compressed request URI, it SHALL expose the uncompressed URI in the Link response header
    with a rel value of owl:sameAs.' On every answer: redirect, HEAD, linkset, and a 404 for a missing type."""
    segment = compress(DigitalLink(gtin=GTIN, lot=batch["lot"]))
    same_as = f'<{BASE}{dl(batch)}>; rel="owl:sameAs"'
    answers = [
        await client.get(f"/{segment}"),
        await client.head(f"/{segment}"),
        await client.get(f"/{segment}", params={"linkType": "linkset"}),
        await client.get(f"/{segment}", params={"linkType": "gs1:recipeInfo"}),
    ]
    assert [a.status_code for a in answers] == [307, 307, 200, 404]
    for answer in answers:
        assert same_as in answer.headers["link"]
        assert f'<{BASE}{dl(batch)}?linkType=linkset>; rel="linkset"' in answer.headers["link"]
    assert "owl:sameAs" not in (await client.get(dl(batch))).headers["link"]  # only for compressed requests


async def test_gs1_web_vocabulary_namespace(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'SHALL recognise the GS1 Web vocabulary namespace': gs1: prefix and full URI are the same link type."""
    short = await client.get(dl(batch), params={"linkType": "gs1:pip"})
    full = await client.get(dl(batch), params={"linkType": VOC + "pip"})
    assert short.status_code == full.status_code == 307
    assert short.headers["location"].split("?")[0] == full.headers["location"].split("?")[0]


async def test_trailing_slash_tolerated(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    """'SHOULD tolerate trailing slashes at the end of GS1 Digital Link URIs'."""
    response = await client.get(dl(batch) + "/")
    assert response.status_code == 307
    assert response.headers["location"] == f"{BASE}/trace/{batch['code']}"


# --- GS1 resolver test suite: statements beyond Conformance 1.2's list ----------------------------------------


async def test_unknown_lot_of_a_known_gtin_walks_up_to_the_product(
    client: AsyncTestClient[Litestar], batch: Any
) -> None:
    """'For each supported primary key, a resolver SHALL support all its key qualifiers': a lot the producer never
    registered is answered with the GTIN's links, not 404; the product page says so in plain words."""
    response = await client.get(f"/01/{GTIN}/10/LO-LA")
    assert response.status_code == 307
    assert response.headers["location"] == f"{BASE}/p/{GTIN}?lot=LO-LA"
    page = await client.get(f"/p/{GTIN}", params={"lot": "LO-LA"})
    assert page.status_code == 200
    assert "Lô “LO-LA” không có trong hồ sơ của nhà sản xuất." in page.text
    assert "giả" not in page.text and "CẢNH BÁO" not in page.text  # not a verdict
    english = await client.get(f"/p/{GTIN}", params={"lot": "LO-LA", "lang": "en"})
    assert "Lot “LO-LA” is not in the producer's records." in english.text
    as_json = await client.get(f"/p/{GTIN}", params={"lot": "LO-LA"}, headers={"Accept": "application/json"})
    assert as_json.json()["not_registered"] == {"lot": "LO-LA", "serial": None}


async def test_unknown_serial_walks_up_and_a_registered_lot_is_never_called_unknown(
    client: AsyncTestClient[Litestar], batch: Any
) -> None:
    response = await client.get(f"{dl(batch)}/21/KHONGCO")
    assert response.headers["location"] == f"{BASE}/p/{GTIN}?lot={quote(batch['lot'], safe='')}&serial=KHONGCO"
    page = await client.get(response.headers["location"].removeprefix(BASE))
    assert "Mã “KHONGCO” không có trong hồ sơ của nhà sản xuất." in page.text
    assert "Lô “" not in page.text  # the lot itself is registered: a hand-made URL cannot say otherwise
    plain = await client.get(f"/p/{GTIN}", params={"lot": batch["lot"]})
    assert "không có trong hồ sơ" not in plain.text


async def test_unknown_gtin_is_still_404_problem(client: AsyncTestClient[Litestar], batch: Any) -> None:
    response = await client.get("/01/08935049510024/10/X1")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "identifier_not_found"


async def test_linkset_of_an_unknown_lot_is_the_gtins(client: AsyncTestClient[Litestar], batch: Any) -> None:
    body = (await client.get(f"/01/{GTIN}/10/LO-LA", params={"linkType": "linkset"})).json()
    validate_linkset(body)
    context = body["linkset"][0]
    assert context["anchor"] == f"{BASE}/01/{GTIN}/10/LO-LA"
    hrefs = {link["href"] for links in context.values() if isinstance(links, list) for link in links}
    assert hrefs == {f"{BASE}/p/{GTIN}?lot=LO-LA"}  # only the GTIN level: no batch or unit links
    assert context[VOC + "defaultLink"][0]["href"] == f"{BASE}/p/{GTIN}?lot=LO-LA"


async def test_unknown_lot_scans_are_a_signal_for_the_producer_and_inspectors(
    client: AsyncTestClient[Litestar], app: Litestar, db: Any, make_user: Any, batch: Any
) -> None:
    from tests.support.factories import join_organization

    for _ in range(3):
        await client.get(f"/01/{GTIN}/10/LO-LA")
    await client.head(f"/01/{GTIN}/10/LO-LA")  # HEAD is not a scan
    owner = await make_user("cooperative")
    await join_organization(db, owner, batch["org_id"])
    mine: list[dict[str, Any]] = []
    for _ in range(100):  # the app's own task writes the counts once a second (the test runs on another loop)
        mine = (await client.get("/api/v1/scans/unknown-identifiers", headers=owner)).json()
        if mine:
            break
        await asyncio.sleep(0.1)
    assert [(row["gtin14"], row["lot"], row["serial"], row["scans"]) for row in mine] == [(GTIN, "LO-LA", None, 3)]
    inspector = (await client.get("/api/v1/scans/unknown-identifiers", headers=await make_user("inspector"))).json()
    assert [row["lot"] for row in inspector] == ["LO-LA"]
    stranger = await make_user("farmer")
    await client.post(
        "/api/v1/organizations",
        json={"kind": "household", "name": "Hộ khác", "commune_code": "05503"},
        headers=stranger,
    )
    assert (await client.get("/api/v1/scans/unknown-identifiers", headers=stranger)).json() == []
    editor = await client.get("/api/v1/scans/unknown-identifiers", headers=await make_user("editor"))
    assert editor.status_code == 403


async def test_the_resolvers_own_parameters_stay_with_it(client: AsyncTestClient[Litestar], batch: Any) -> None:
    """linkType and context are consumed by the resolver; every other pair is passed on, after the target's own
    query and before its fragment."""
    typed = await client.get(f"{dl(batch)}?utm_source=nhan&linkType=gs1%3AcertificationInfo&context=batch&b=2")
    assert typed.headers["location"] == f"{BASE}/trace/{batch['code']}?utm_source=nhan&b=2#chung-nhan"
    walked = await client.get(f"/01/{GTIN}/10/LO-LA?linkType=gs1:pip&utm_source=nhan")
    assert walked.headers["location"] == f"{BASE}/p/{GTIN}?lot=LO-LA&utm_source=nhan"


async def test_two_product_information_links_differ_by_context(client: AsyncTestClient[Litestar], batch: Any) -> None:
    """No ambiguous duplicates: the lot's and the GTIN's gs1:pip links carry different contexts, the request's
    ?context= chooses, and without one the item's own (most specific) level is the answer."""
    context = (await client.get(dl(batch), params={"linkType": "linkset"})).json()["linkset"][0]
    pips = context[VOC + "pip"]
    assert sorted(link["context"][0] for link in pips) == ["batch", "product"]
    default = await client.get(dl(batch), params={"linkType": "gs1:pip"})
    assert default.headers["location"] == f"{BASE}/trace/{batch['code']}"
    product = await client.get(dl(batch), params={"linkType": "gs1:pip", "context": "product"})
    assert product.headers["location"] == f"{BASE}/p/{GTIN}"


def test_links_no_request_can_tell_apart_are_a_multiple_choice() -> None:
    """'300 Multiple Choices' when a request cannot choose: two links alike in type, languages and context."""
    from service.traceability.scan import resolve as rs

    twins = [
        rs.Link(href="https://a.example/1", title="A", type="text/html"),
        rs.Link(href="https://a.example/2", title="B", type="text/html"),
    ]
    with pytest.raises(rs.Ambiguous) as tie:
        rs.choose_link(twins, "text/html", "vi")
    assert [link.href for link in tie.value.links] == ["https://a.example/1", "https://a.example/2"]
    assert (
        rs.choose_link(
            [*twins[:1], rs.Link(href="https://a.example/j", title="J", type="application/json")],
            "application/json",
            "vi",
        ).href
        == "https://a.example/j"
    )
