"""The transparency log through HTTP: leaves in step with chain heads, signed checkpoints, proofs, the catalogue."""

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.settings import Settings
from service.traceability.transparency import signing
from service.traceability.transparency.merkle import leaf_hash, root, verify_consistency, verify_inclusion
from tests.support import factories as f

SIGNING_KEY = base64.b64encode(hashlib.sha256(b"transparency test key").digest()).decode()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A fixed key (so a restarted app signs with it) and a checkpoint for every request that sees growth."""
    return msgspec.structs.replace(settings, log_signing_key=SIGNING_KEY, log_checkpoint_max_age_seconds=0)


async def lifecycle(client: f.Client, make_user: Any) -> dict[str, Any]:
    """Registration, events, an inspection, a transformation and a recall: every way a chain grows."""
    headers, _ = await f.farm(client, make_user)
    leaves = await f.batch(client, headers, (await f.product(client, headers))["id"])
    await f.event(client, headers, leaves["id"], biz_step="storing")
    refused = await client.post(
        f"/api/v1/batches/{leaves['id']}/events", json={"biz_step": "receiving"}, headers=headers
    )
    f.assert_problem(refused, 422, "receiving_before_shipping")
    response = await client.post(
        "/api/v1/transformations",
        json={
            "inputs": [{"batch_id": leaves["id"], "quantity": "100", "unit": "kg"}],
            "output": {"product_id": (await f.product(client, headers))["id"], "quantity": "20", "unit": "kg"},
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    dried = response.json()["output"]
    inspector = await make_user("inspector")
    inspected = await client.post(
        f"/api/v1/batches/{dried['id']}/inspections", json={"result": "conformant"}, headers=inspector
    )
    assert inspected.status_code == 201, inspected.text
    recalled = await client.post(
        f"/api/v1/batches/{dried['id']}/recall", json={"reason": "Kiểm tra lại"}, headers=inspector
    )
    assert recalled.status_code == 201, recalled.text
    return {"headers": headers, "leaves": leaves, "dried": dried}


async def test_every_chain_advance_is_logged_once_with_a_dense_index(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    await lifecycle(client, make_user)
    logged = await db.fetch(
        "select l.idx, l.batch_id, l.seq, l.data, l.leaf_hash, l.logged_at, e.hash, b.code "
        "from transparency_leaves l join events e using (batch_id, seq) join batches b on b.id = l.batch_id "
        "order by l.idx"
    )
    events = await db.fetchval("select count(*) from events")
    assert [r["idx"] for r in logged] == list(range(events)) == list(range(5))  # the refused event left none
    assert await db.fetchval("select size from transparency_log") == 5
    for row in logged:
        assert bytes(row["leaf_hash"]) == leaf_hash(bytes(row["data"]))
        head = msgspec.json.decode(bytes(row["data"]))
        assert head == {
            "batch_id": str(row["batch_id"]),
            "code": row["code"],
            "seq": row["seq"],
            "hash": row["hash"],
            "logged_at": signing.time_text(row["logged_at"]),
        }
    heads = await db.fetch(
        "select b.last_seq, (select max(seq) from transparency_leaves l where l.batch_id = b.id) as logged "
        "from batches b"
    )
    assert all(h["last_seq"] == h["logged"] for h in heads)


async def test_the_log_refuses_update_delete_and_truncate(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    await lifecycle(client, make_user)
    await client.get("/transparency/checkpoint")
    for table, column in (("transparency_leaves", "seq"), ("transparency_checkpoints", "tree_size")):
        with pytest.raises(asyncpg.RestrictViolationError):
            await db.execute(f"update {table} set {column} = 9")
        with pytest.raises(asyncpg.RestrictViolationError):
            await db.execute(f"delete from {table}")
        with pytest.raises(asyncpg.RestrictViolationError):
            await db.execute(f"truncate {table}")


async def test_checkpoints_are_signed_with_the_published_key(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    await lifecycle(client, make_user)
    key = (await client.get("/transparency/key")).json()
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    assert key["algorithm"] == "Ed25519"
    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    response = await client.get("/transparency/checkpoint")
    assert response.status_code == 200
    checkpoint = response.json()
    assert checkpoint["origin"] == "trace.example.vn/transparency"
    assert checkpoint["tree_size"] == 5
    assert checkpoint["key_id"] == key["key_id"]
    hashes = [bytes(r["leaf_hash"]) for r in await db.fetch("select leaf_hash from transparency_leaves order by idx")]
    assert checkpoint["root_hash"] == root(hashes).hex()
    issued = datetime.fromisoformat(checkpoint["issued_at"]).astimezone(UTC)
    text = (
        f"trace.example.vn/transparency\n5\n{base64.b64encode(root(hashes)).decode()}\n{issued:%Y-%m-%dT%H:%M:%S.%fZ}\n"
    )
    public.verify(base64.b64decode(checkpoint["signature"]), text.encode())
    assert await db.fetchval("select count(*) from transparency_checkpoints where tree_size = 5") == 1
    # the same size again is the same checkpoint, not a new one
    assert (await client.get("/transparency/checkpoint")).json() == checkpoint


async def test_consistency_proofs_link_two_checkpoints(client: f.Client, make_user: Any) -> None:
    story = await lifecycle(client, make_user)
    first = (await client.get("/transparency/checkpoint")).json()
    await f.event(client, story["headers"], story["leaves"]["id"], biz_step="packing")
    await f.batch(client, story["headers"], story["leaves"]["product_id"])
    second = (await client.get("/transparency/checkpoint")).json()
    assert second["tree_size"] == first["tree_size"] + 2
    response = await client.get("/transparency/consistency", params={"first": 5, "second": 7})
    proof = [bytes.fromhex(p) for p in response.json()["proof"]]
    old, new = bytes.fromhex(first["root_hash"]), bytes.fromhex(second["root_hash"])
    assert verify_consistency(5, 7, old, new, proof)
    assert not verify_consistency(5, 7, new, old, proof)


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"first": 3, "second": 2}, 422, "invalid_tree_sizes"),
        ({"first": 1, "second": 99}, 404, "tree_size_not_found"),
        ({"first": -1, "second": 2}, 400, None),
        ({"first": "x", "second": 2}, 400, None),
        ({"second": 2}, 400, None),
    ],
)
async def test_impossible_consistency_questions_get_a_problem(
    client: f.Client, make_user: Any, params: dict[str, Any], status: int, code: str | None
) -> None:
    await lifecycle(client, make_user)
    f.assert_problem(await client.get("/transparency/consistency", params=params), status, code)


async def test_a_batch_proves_its_newest_head_is_in_the_log(client: f.Client, make_user: Any) -> None:
    story = await lifecycle(client, make_user)
    code = story["dried"]["code"]
    response = await client.get(f"/trace/{code}/proof")
    assert response.status_code == 200, response.text
    proof = response.json()
    assert proof["seq"] == 3  # transformation, inspection, recall
    assert msgspec.json.decode(proof["leaf_data"])["code"] == code
    assert verify_inclusion(
        proof["leaf_index"],
        proof["checkpoint"]["tree_size"],
        leaf_hash(proof["leaf_data"].encode()),
        [bytes.fromhex(p) for p in proof["audit_path"]],
        bytes.fromhex(proof["checkpoint"]["root_hash"]),
    )
    assert (await client.get(f"/api/v1/batches/{story['dried']['id']}/verify", headers=story["headers"])).json()[
        "valid"
    ]
    f.assert_problem(await client.get("/trace/23456789ABCDE/proof"), 404, "identifier_not_found")
    f.assert_problem(await client.get("/trace/not-a-code!/proof"), 400, "invalid_short_code")


async def test_entries_page_through_the_leaves(client: f.Client, make_user: Any) -> None:
    await lifecycle(client, make_user)
    page = (await client.get("/transparency/entries", params={"start": 1, "end": 3})).json()
    assert page["tree_size"] == 5
    assert [leaf["index"] for leaf in page["leaves"]] == [1, 2]
    assert all(
        leaf["leaf_hash"] == hashlib.sha256(b"\x00" + leaf["data"].encode()).hexdigest() for leaf in page["leaves"]
    )
    assert (await client.get("/transparency/entries", params={"start": 9})).json()["leaves"] == []


async def test_the_open_data_catalogue_lists_the_checkpoint(client: f.Client, make_user: Any) -> None:
    await lifecycle(client, make_user)
    await client.get("/transparency/checkpoint")
    catalog = (await client.get("/open-data/catalog.json")).json()
    entry = next(d for d in catalog["datasets"] if d["id"] == "traceability-transparency-log")
    assert entry["url"] == "https://trace.example.vn/transparency/checkpoint"
    assert entry["last_updated"] is not None
    assert "verify-log" in entry["description"]["vi"]


def test_development_keeps_its_generated_key_private_and_reuses_it(tmp_path: Any) -> None:
    path = tmp_path / "var" / "log-signing.key"
    dev = Settings(env="development", log_signing_key_file=str(path))
    first = signing.load_signing_key(dev)
    assert path.stat().st_mode & 0o777 == 0o600
    again = signing.load_signing_key(dev)
    assert signing.raw_public_key(first.public_key()) == signing.raw_public_key(again.public_key())
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    other = signing.load_signing_key(Settings(env="test"))
    assert signing.raw_public_key(other.public_key()) != signing.raw_public_key(first.public_key())
