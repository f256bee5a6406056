"""Open data that portals harvest: the Frictionless data package and the DCAT catalogue, from the one register.

The data package is validated with `frictionless` against the CSVs the app really serves (fetched over HTTP
into a folder); the DCAT document is expanded as JSON-LD with no network, and every class and property it
uses must be defined by W3C's DCAT 3 vocabulary or the external terms DCAT 3 uses (tests/standards/dcat).
"""

import asyncio
import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import frictionless
import pytest
from pyld import jsonld

from tests.standards import STANDARDS
from tests.support import factories as f

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "@type"
# the few terms beyond DCAT 3's own files, each a W3C/DCMI recommendation DCAT 3 or DCAT-AP names for this use
OTHER_TERMS = {
    "http://xmlns.com/foaf/0.1/Agent",  # range of dct:publisher in DCAT 3
    "http://xmlns.com/foaf/0.1/name",
    "http://xmlns.com/foaf/0.1/page",  # DCAT 3 §6.4.x: "foaf:page" for documentation
    "http://www.w3.org/2004/02/skos/core#prefLabel",  # a Location's name (DCAT 3 §9.1 examples)
    "http://www.w3.org/2000/01/rdf-schema#label",
    DCT + "provenance",  # DCAT 3 §6.4 lists it on dcat:Resource
    DCT + "ProvenanceStatement",
}


def _offline_loader(url: str, options: dict[str, Any] | None = None) -> Any:
    raise AssertionError(f"the catalogue must expand without fetching anything, asked for {url}")


def _dcat_terms() -> set[str]:
    """Every IRI W3C's DCAT 3 files define: its own classes and properties and the external ones it uses."""
    terms: set[str] = set()
    for name in ("dcat3.jsonld", "dcat3-external.jsonld"):
        document = json.loads((STANDARDS / "dcat" / name).read_text(encoding="utf-8"))
        for node in jsonld.expand(document, {"documentLoader": _offline_loader}):
            if not node.get("@id", "_:").startswith("_:"):
                terms.add(node["@id"])
    return terms


async def _seed(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    """A cooperative with a member farm, products with and without GTIN, a name a spreadsheet would run."""
    headers, coop = await f.farm(client, make_user, "cooperative")
    await f.stored_organization(db, name="Hộ ông Nguyễn Văn A", parent=uuid.UUID(coop["id"]))
    await f.product(client, headers, names={"vi": "Chè đinh Tân Cương", "en": "Tân Cương needle tea"}, gtin=f.GTIN)
    await f.product(client, headers, names={"vi": '=HYPERLINK("x")'}, category="other")
    farmer, _farm = await f.farm(client, make_user)
    await f.product(client, farmer, names={"vi": "Nhãn lồng"}, category="longan")


async def test_the_data_package_validates_against_the_csvs_the_app_serves(
    client: f.Client, db: asyncpg.Connection, make_user: Any, tmp_path: Path
) -> None:
    await _seed(client, db, make_user)
    response = await client.get("/open-data/datapackage.json")
    assert response.status_code == 200
    package = response.json()
    assert {r["name"] for r in package["resources"]} >= {"traceability-products", "traceability-producers"}
    for resource in package["resources"]:
        assert resource["path"].startswith(f.BASE)
        data = await client.get(resource["path"].removeprefix(f.BASE))
        assert data.status_code == 200
        assert data.headers["content-type"].startswith("text/csv")
        local = f"{resource['name']}.csv"
        (tmp_path / local).write_bytes(data.content)
        resource["path"] = local
    (tmp_path / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")

    report = await asyncio.to_thread(frictionless.validate, str(tmp_path / "datapackage.json"))

    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert sum(task.stats.get("rows", 0) for task in report.tasks) >= 6  # 3 products + 3 producers were checked


def _set_cell(body: bytes, column: str, value: str) -> bytes:
    """The CSV with `column` of its first row set to `value` (BOM and CRLF kept, as the app writes them)."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    rows[1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


BREAKS = [
    ("traceability-products", "category", "coffee", "constraint-error"),
    ("traceability-products", "ocop_stars", "6", "constraint-error"),
    ("traceability-producers", "commune_name", "", "constraint-error"),
    ("traceability-producers", "lat", "north", "type-error"),
    ("traceability-products", "producer_id", str(uuid.uuid4()), "foreign-key"),
    ("traceability-products", "name_vi", "Chè xanh Tân Cương", None),  # an ordinary edit
]


async def test_the_schema_catches_rows_that_break_it(
    client: f.Client, db: asyncpg.Connection, make_user: Any, tmp_path: Path
) -> None:
    """The schemas say something: a value the register never writes is an error, an ordinary edit is not."""
    await _seed(client, db, make_user)
    package = (await client.get("/open-data/datapackage.json")).json()
    bodies = {r["name"]: (await client.get(r["path"].removeprefix(f.BASE))).content for r in package["resources"]}
    for number, (resource_name, column, value, error) in enumerate(BREAKS):
        folder = tmp_path / str(number)
        folder.mkdir()
        for resource in package["resources"]:
            body = bodies[resource["name"]]
            if resource["name"] == resource_name:
                body = _set_cell(body, column, value)
            (folder / f"{resource['name']}.csv").write_bytes(body)
            resource["path"] = f"{resource['name']}.csv"
        (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")

        report = await asyncio.to_thread(frictionless.validate, str(folder / "datapackage.json"))

        assert [row[0] for row in report.flatten(["type"])] == ([error] if error else []), (column, value)


async def test_the_table_schemas_state_keys_constraints_and_both_languages(client: f.Client) -> None:
    package = (await client.get("/open-data/datapackage.json")).json()
    resources = {r["name"]: r for r in package["resources"]}
    products = resources["traceability-products"]["schema"]
    assert products["primaryKey"] == ["product_id"]
    fields = {field["name"]: field for field in products["fields"]}
    assert fields["ocop_stars"]["constraints"] == {"minimum": 1, "maximum": 5}
    categories = ["tea", "longan", "pomelo", "custard_apple", "cinnamon", "other"]
    assert fields["category"]["constraints"]["enum"] == categories
    assert fields["product_id"]["format"] == "uuid"
    assert products["foreignKeys"] == [
        {"fields": ["producer_id"], "reference": {"resource": "traceability-producers", "fields": ["producer_id"]}}
    ]
    assert "Sản phẩm" in resources["traceability-products"]["title"]
    assert "products" in resources["traceability-products"]["title"]
    assert fields["name_vi"]["description"] == "tên tiếng Việt\n\nname in Vietnamese"
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert resources["traceability-products"]["sources"]


async def test_every_catalogued_dataset_is_in_both_outputs(client: f.Client) -> None:
    catalog = (await client.get("/open-data/catalog.json")).json()
    package = (await client.get("/open-data/datapackage.json")).json()
    dcat = (await client.get("/open-data/catalog.jsonld")).json()
    csvs = {d["url"] for d in catalog["datasets"] if d["media_type"].startswith("text/csv")}
    assert csvs, "the register lists CSVs"
    assert {r["path"] for r in package["resources"]} == csvs
    downloads = {
        dist["dcat:downloadURL"]["@id"] for dataset in dcat["dcat:dataset"] for dist in dataset["dcat:distribution"]
    }
    assert downloads == {d["url"] for d in catalog["datasets"]}
    assert {d["dct:identifier"] for d in dcat["dcat:dataset"]} == {d["id"] for d in catalog["datasets"]}
    assert {"heritage-sites", "traceability-transparency-log"} <= {d["dct:identifier"] for d in dcat["dcat:dataset"]}


async def test_every_registered_dataset_speaks_vietnamese_and_english(client: f.Client) -> None:
    for dataset, _last_updated in client.app.state.open_datasets:
        for text in (dataset.title, dataset.description, *(c.description for c in dataset.columns)):
            assert text.get("vi", "").strip(), (dataset.id, text)
            assert text.get("en", "").strip(), (dataset.id, text)
            assert text["vi"] != text["en"] or text["vi"].isascii(), (dataset.id, text)


async def test_the_dcat_catalogue_is_json_ld_in_dcat_3_terms(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    await _seed(client, db, make_user)
    response = await client.get("/open-data/catalog.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()

    nodes = jsonld.flatten(document, None, {"documentLoader": _offline_loader})

    allowed = _dcat_terms() | OTHER_TERMS
    used = {key for node in nodes for key in node if not key.startswith("@")}
    used |= {kind for node in nodes for kind in node.get(RDF_TYPE, [])}
    assert used - allowed == set()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        for kind in node.get(RDF_TYPE, []):
            by_type.setdefault(kind, []).append(node)
    [catalog] = by_type[DCAT + "Catalog"]
    datasets = by_type[DCAT + "Dataset"]
    assert {d["@id"] for d in catalog[DCAT + "dataset"]} == {d["@id"] for d in datasets}
    assert len(datasets) == len((await client.get("/open-data/catalog.json")).json()["datasets"])
    for dataset in datasets:
        for prop in (DCT + "title", DCT + "description"):
            assert {v["@language"] for v in dataset[prop]} == {"vi", "en"}, (dataset["@id"], prop)
        for prop in ("publisher", "license", "accrualPeriodicity", "spatial", "issued"):
            assert dataset.get(DCT + prop), (dataset["@id"], prop)
        assert dataset[DCT + "issued"][0]["@type"] == "http://www.w3.org/2001/XMLSchema#date"
    distributions = {d["@id"]: d for d in by_type[DCAT + "Distribution"]}
    products = next(d for d in datasets if d[DCT + "identifier"][0]["@value"] == "traceability-products")
    [csv] = [distributions[ref["@id"]] for ref in products[DCAT + "distribution"]]
    assert csv[DCAT + "downloadURL"] == [{"@id": f"{f.BASE}/open-data/products.csv"}]
    assert csv[DCAT + "mediaType"] == [{"@id": "https://www.iana.org/assignments/media-types/text/csv"}]
    assert csv[DCT + "format"] == [{"@id": "http://publications.europa.eu/resource/authority/file-type/CSV"}]
    assert products[DCT + "modified"][0]["@type"] == "http://www.w3.org/2001/XMLSchema#dateTime"
    assert csv[DCT + "conformsTo"] == [{"@id": "https://specs.frictionlessdata.io/table-schema/"}]
    assert catalog[DCT + "publisher"]


@pytest.mark.parametrize(
    ("accept", "target"),
    [
        ("application/ld+json", "/open-data/catalog.jsonld"),
        ("application/ld+json;q=0.9, application/json;q=0.5", "/open-data/catalog.jsonld"),
        ("application/json", "/open-data/catalog.json"),
        ("*/*", "/open-data/catalog.json"),
        ("text/html", "/open-data/catalog.json"),
    ],
)
async def test_the_catalogue_negotiates_dcat_or_our_json(client: f.Client, accept: str, target: str) -> None:
    response = await client.get("/open-data/catalog", headers={"Accept": accept}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == target
    assert "Accept" in response.headers["vary"]


async def test_catalog_json_keeps_its_shape_for_the_apps(client: f.Client) -> None:
    catalog = (await client.get("/open-data/catalog.json")).json()
    products = next(d for d in catalog["datasets"] if d["id"] == "traceability-products")
    column = next(c for c in products["columns"] if c["name"] == "ocop_stars")
    assert column["description"] == "OCOP rating 1-5 from a verified, unexpired OCOP certificate"
    assert column["type"] == "integer"
    assert column["descriptions"]["vi"].startswith("số sao OCOP")
