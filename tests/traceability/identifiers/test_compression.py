"""GS1 Digital Link URI compression: known vectors, round trips, refusals, and the compressed-link routes.

Known vectors: Solidsoft-Reply/Gs1DigitalLinkLib, Tests/Features/CompressGs1DigitalLink.feature (Apache 2.0,
derived from GS1's Digital Link compression prototype / GS1DigitalLinkToolkit.js), "Compress a decompressed
Digital Link" and "Partially compress" tables, on https://id.gs1.org.
"""

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.traceability.identifiers.compression import ALPHABET, compress, decompress, decompress_qualifiers
from service.traceability.identifiers.digital_link import DigitalLink, DigitalLinkError
from tests.support.app import feed_connected, flush
from tests.support.factories import BASE, GTIN, assert_problem, stored_batch, stored_organization

VECTORS = [
    ("AQnYUc1gmg", DigitalLink(gtin="05412345000013")),
    ("AQnYUc1gmiCNV4JG", DigitalLink(gtin="05412345000013", lot="ABC123")),
    ("AQnYUc1gmiCNV4JGQhcNT6K6c", DigitalLink(gtin="05412345000013", lot="ABC123", serial="72292641703")),
    ("AQnYUc1gmkIXDU-iun", DigitalLink(gtin="05412345000013", serial="72292641703")),
]
PARTIAL_VECTORS = [
    ("EEarwSM", DigitalLink(gtin="05412345000013", lot="ABC123")),
    ("EEarwSMhC4an0V04", DigitalLink(gtin="05412345000013", lot="ABC123", serial="72292641703")),
    ("IQuGp9FdO", DigitalLink(gtin="05412345000013", serial="72292641703")),
]


@pytest.mark.parametrize(("segment", "link"), VECTORS)
def test_known_vectors_decode_and_encode(segment: str, link: DigitalLink) -> None:
    assert decompress(segment).link == link
    assert compress(link) == segment


@pytest.mark.parametrize(("segment", "link"), PARTIAL_VECTORS)
def test_known_partial_vectors(segment: str, link: DigitalLink) -> None:
    assert decompress_qualifiers(link.gtin, segment).link == link
    assert compress(link, partial=True) == segment


@pytest.mark.parametrize(
    "value",
    ["0012", "123", "abc123", "ABC123", "Tea_lot-7", "TC-2025/07", "A/1\"%&'()*+,.:;<=>?", "x" * 20, "9" * 20],
)
@pytest.mark.parametrize("optimise", [False, True])
def test_round_trip_every_encoding(value: str, optimise: bool) -> None:
    """Digits (leading zeros kept), lower/upper hex, base64 and 7-bit ASCII, plain and with the 0B/0C codes."""
    for link in (
        DigitalLink(gtin=GTIN, lot=value),
        DigitalLink(gtin=GTIN, serial=value),
        DigitalLink(gtin=GTIN, lot=value, serial="ABCDEFGHJKLMN"),
    ):
        assert decompress(compress(link, optimise=optimise)).link == link


def test_non_gs1_pairs_round_trip() -> None:
    packed = compress(DigitalLink(gtin=GTIN, lot="L1"), query=[("src", "pack box"), ("n", "42")])
    assert decompress(packed).query == [("src", "pack box"), ("n", "42")]


def segment_of(*fields: tuple[int, int]) -> str:
    """A segment written by hand, field by field: (value, bit width); zero-padded to whole characters."""
    bits = "".join(f"{value:0{width}b}" for value, width in fields)
    bits += "0" * (-len(bits) % 6)
    return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


GTIN_FIELDS = ((0x01, 8), (int(GTIN), 47))
LOT_A = ((0x10, 8), (2, 3), (1, 5), (0xA, 4))  # (10) "A", upper-case hex


@pytest.mark.parametrize(
    ("segment", "code"),
    [
        ("AN2yxDhfaiaw", "unsupported_ai"),  # (00) SSCC
        ("QVSaVjC_dA", "unsupported_ai"),  # (415) GLN
        ("AQnYUc1gmiCNV4JGRNoBLG-nvPe2p_Ho", "unsupported_ai"),  # (22) after (01)(10): not served
        ("AQnYUc1gmh", "invalid_compressed_link"),  # non-zero padding
        ("AQnYUc1gmgAA", "unsupported_ai"),  # spare zero characters read as a header: AI (00)
        ("__________", "invalid_compressed_link"),  # a header that is no AI, then runs out
        ("AQnYUc1g", "invalid_compressed_link"),  # too short to be a link at all
        ("AQnYUc1gmi", "invalid_compressed_link"),  # ends inside the lot
        (segment_of((0x01, 8), (int(GTIN) + 1, 47)), "invalid_gtin"),  # wrong check digit
        (segment_of(*GTIN_FIELDS, (0x10, 8), (0, 3), (0, 5)), "invalid_ai_value"),  # lot of length 0
        (segment_of(*GTIN_FIELDS, (0x10, 8), (0, 3), (21, 5), (0, 70)), "invalid_ai_value"),  # 21 > 20
        (segment_of(*GTIN_FIELDS, *LOT_A, *LOT_A), "invalid_compressed_link"),  # (10) twice
        (segment_of(*GTIN_FIELDS, (0x10, 8), (5, 3), (1, 5), (0, 8)), "invalid_compressed_link"),  # encoding 5
        (segment_of(*GTIN_FIELDS, (0x10, 8), (4, 3), (3, 5), (1, 7), (2, 7), (3, 7)), "invalid_ai_value"),  # ^A^B^C
        (segment_of(*GTIN_FIELDS, (0x10, 8), (0, 3), (2, 5), (100, 7)), "invalid_compressed_link"),  # 100 in 2 digits
        (segment_of(*GTIN_FIELDS, (0xAB, 8), (0, 16)), "invalid_compressed_link"),  # no such header
        (segment_of((0x0A, 8), (int(GTIN), 47), (0, 30)), "unsupported_ai"),  # 0A = (01)(22)
        ("EEarwSMhC4an0V04", "invalid_compressed_link"),  # qualifiers only: no GTIN
    ],
)
def test_refusals_name_the_problem(segment: str, code: str) -> None:
    with pytest.raises(DigitalLinkError) as caught:
        decompress(segment)
    assert caught.value.code == code, caught.value.detail


def test_unencodable_values_are_refused() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        compress(DigitalLink(gtin=GTIN, lot="chè"))
    with pytest.raises(ValueError, match="1-20"):
        compress(DigitalLink(gtin=GTIN, lot="x" * 21))


# --- through the app --------------------------------------------------------------------------------


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=BASE) as test_client:
        test_client.follow_redirects = False
        await feed_connected(app)
        yield test_client


@pytest.fixture
async def batch(db: Any) -> dict[str, Any]:
    return await stored_batch(db, await stored_organization(db))


def uncompressed(batch: dict[str, Any]) -> str:
    return f"{BASE}/01/{GTIN}/10/{quote(batch['lot'], safe='')}"


async def test_compressed_unit_resolves_to_its_page_and_records_a_scan(
    client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any], app: Litestar
) -> None:
    """The page behind a compressed unit code, the query string passed on, and the scan recorded."""
    serial = "ABCDEFGHJKLMN"
    await db.execute("insert into units (batch_id, serial, seq) values ($1, $2, 1)", batch["id"], serial)
    segment = compress(DigitalLink(gtin=GTIN, lot=batch["lot"], serial=serial), optimise=True)
    response = await client.get(f"/{segment}/?utm_source=box")  # trailing slash tolerated
    assert response.status_code == 307
    assert response.headers["location"] == f"{BASE}/trace/{batch['code']}/{serial}?utm_source=box"
    assert f'<{uncompressed(batch)}/21/{serial}>; rel="owl:sameAs"' in response.headers["link"]
    await flush(app)
    assert await db.fetchval("select count(*) from scans where batch_id = $1", batch["id"]) == 1


async def test_carried_query_pairs_are_passed_on(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    segment = compress(DigitalLink(gtin=GTIN, lot=batch["lot"]), query=[("src", "box")])
    response = await client.get(f"/{segment}?x=1")
    assert response.headers["location"] == f"{BASE}/trace/{batch['code']}?src=box&x=1"
    assert f'<{uncompressed(batch)}?src=box>; rel="owl:sameAs"' in response.headers["link"]


async def test_partially_compressed_uri(client: AsyncTestClient[Litestar], batch: dict[str, Any]) -> None:
    segment = compress(DigitalLink(gtin=GTIN, lot=batch["lot"]), partial=True)
    response = await client.get(f"/01/{GTIN}/{segment}")
    assert response.status_code == 307
    assert response.headers["location"] == f"{BASE}/trace/{batch['code']}"
    assert f'<{uncompressed(batch)}>; rel="owl:sameAs"' in response.headers["link"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/AN2yxDhfaiaw", 400, "unsupported_ai"),
        ("/AQnYUc1gmh", 400, "invalid_compressed_link"),
        ("/AAAAAAAAAAAAAAAAAAAA", 400, "unsupported_ai"),
        ("/robots.txt", 404, "not_found"),
        ("/short", 404, "not_found"),
        ("/" + "A" * 161, 404, "not_found"),
        ("/%E1%BB%87%E1%BB%87%E1%BB%87%E1%BB%87", 404, "not_found"),
        (f"/01/{GTIN}/AN2yxDhf", 400, "unsupported_ai"),
        (f"/01/{GTIN}/10", 400, "invalid_compressed_link"),
    ],
)
async def test_garbage_is_a_problem_never_a_500(
    client: AsyncTestClient[Litestar], db: Any, path: str, status: int, code: str
) -> None:
    assert_problem(await client.get(path), status, code)
    assert await db.fetchval("select count(*) from scans") == 0


async def test_unknown_but_well_formed_is_404(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/" + compress(DigitalLink(gtin=GTIN, lot="NOPE")))
    assert_problem(response, 404, "identifier_not_found")
    assert 'rel="owl:sameAs"' in response.headers["link"]


async def test_the_catch_all_segment_shadows_no_other_route(client: AsyncTestClient[Litestar]) -> None:
    """Static one-segment routes still answer (the compressed route only takes what no other route does)."""
    described = await client.get("/.well-known/gs1resolver")
    assert described.status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/{segment}" in schema.json()["paths"]
