"""The log's rules: checkpoints made on demand (reused while fresh), proofs, and the open-data entry.

Leaves are never written here: batches.queries queues a head in the statement that moves it and logs it once
that has committed (migration 0280); a new checkpoint first logs any head left queued.
Each worker keeps the leaf hashes it has read and the hashes of complete subtrees (they never change in an
append-only tree), so a proof after the first costs a read of the new leaves and O(log² n) hashing.
"""

import asyncio
import base64
from datetime import UTC, date, datetime, timedelta

import asyncpg
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service.core.catalog import Column, Dataset
from service.core.errors import InvalidInput, NotFound
from service.traceability.transparency import queries as tq
from service.traceability.transparency import signing
from service.traceability.transparency.merkle import Tree
from service.traceability.transparency.schemas import (
    BatchProof,
    Checkpoint,
    ConsistencyProof,
    Leaf,
    Leaves,
    LogKey,
)

MAX_LEAVES_PER_PAGE = 1000


class TransparencyLog:
    """What one worker holds for the log: the signing key and the tree read so far."""

    def __init__(self, key: Ed25519PrivateKey, origin: str, max_age: timedelta) -> None:
        self.key = key
        self.origin = origin
        self.max_age = max_age
        self.public_key = signing.raw_public_key(key.public_key())
        self.key_id = signing.key_id(self.public_key)
        self.tree = Tree()
        self.lock = asyncio.Lock()

    def published_key(self) -> LogKey:
        pem = self.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        return LogKey(
            algorithm=signing.ALGORITHM,
            key_id=self.key_id,
            public_key=base64.b64encode(self.public_key).decode(),
            public_key_pem=pem,
        )

    async def tree_of(self, conn: asyncpg.Connection, size: int) -> Tree:
        """The tree holding at least `size` leaves (the caller holds self.lock)."""
        if self.tree.size < size:
            self.tree.extend(await tq.leaf_hashes(conn, self.tree.size, size))
            if self.tree.size < size:
                raise RuntimeError(f"the log has a gap below leaf {size}")
        return self.tree


def as_checkpoint(log: TransparencyLog, row: tq.CheckpointRow) -> Checkpoint:
    return Checkpoint(
        origin=log.origin,
        tree_size=row.tree_size,
        root_hash=row.root_hash.hex(),
        issued_at=row.issued_at,
        key_id=row.key_id,
        signature=base64.b64encode(row.signature).decode(),
    )


async def current_checkpoint(conn: asyncpg.Connection, log: TransparencyLog) -> Checkpoint:
    """The newest checkpoint; a new one is signed when the log grew and the newest is older than max_age."""
    latest = await tq.latest_checkpoint(conn, log.key_id)
    now = datetime.now(UTC)
    if latest is not None and now - latest.issued_at < log.max_age:
        return as_checkpoint(log, latest)
    await tq.sequence_pending(conn)  # a new checkpoint covers every head committed before it was asked for
    size = await tq.log_size(conn)
    if latest is not None and latest.tree_size >= size:
        return as_checkpoint(log, latest)
    async with log.lock:
        tree = await log.tree_of(conn, size)
        root = await asyncio.to_thread(tree.root, size)
    issued_at = datetime.now(UTC)
    signature = log.key.sign(signing.checkpoint_text(log.origin, size, root, issued_at))
    stored = await tq.insert_checkpoint(
        conn,
        tq.CheckpointRow(tree_size=size, root_hash=root, issued_at=issued_at, key_id=log.key_id, signature=signature),
    )
    return as_checkpoint(log, stored)


async def consistency(conn: asyncpg.Connection, log: TransparencyLog, first: int, second: int) -> ConsistencyProof:
    if first > second:
        raise InvalidInput("first must not be larger than second", code="invalid_tree_sizes")
    size = await tq.log_size(conn)
    if second > size:
        raise NotFound(f"the log has {size} leaves", code="tree_size_not_found")
    async with log.lock:
        tree = await log.tree_of(conn, second)
        proof = await asyncio.to_thread(tree.consistency_proof, first, second)
    return ConsistencyProof(first=first, second=second, proof=[p.hex() for p in proof])


async def leaf_entries(conn: asyncpg.Connection, start: int, end: int | None) -> Leaves:
    """Leaves start..end-1 (at most MAX_LEAVES_PER_PAGE), for auditors who rebuild the tree themselves."""
    size = await tq.log_size(conn)
    end = min(size, start + MAX_LEAVES_PER_PAGE, size if end is None else end)
    rows = await tq.leaves(conn, start, end) if start < end else []
    return Leaves(
        tree_size=size,
        leaves=[Leaf(index=r.idx, data=r.data.decode(), leaf_hash=r.leaf_hash.hex()) for r in rows],
    )


async def batch_proof(conn: asyncpg.Connection, log: TransparencyLog, code: str) -> BatchProof:
    """The batch's newest head in the current checkpoint, with its audit path to that checkpoint's root."""
    checkpoint = await current_checkpoint(conn, log)
    found = await tq.newest_batch_leaf(conn, code, checkpoint.tree_size)
    if found is None:
        if await tq.batch_exists(conn, code):
            raise NotFound("this batch is not in the newest checkpoint yet; try again shortly", code="not_yet_logged")
        raise NotFound("nothing is registered under this code", code="identifier_not_found")
    async with log.lock:
        tree = await log.tree_of(conn, checkpoint.tree_size)
        path = await asyncio.to_thread(tree.inclusion_proof, found.idx, checkpoint.tree_size)
    head = found.data.decode()
    return BatchProof(
        code=found.code,
        seq=found.seq,
        hash=_head_hash(head),
        leaf_index=found.idx,
        leaf_data=head,
        leaf_hash=found.leaf_hash.hex(),
        audit_path=[p.hex() for p in path],
        checkpoint=checkpoint,
    )


def _head_hash(leaf_data: str) -> str:
    value: str = msgspec.json.decode(leaf_data)["hash"]
    return value


LOG_DATASET = Dataset(
    id="traceability-transparency-log",
    title={
        "vi": "Sổ minh bạch chuỗi băm truy xuất (checkpoint có chữ ký)",
        "en": "Transparency log of the traceability hash chains (signed checkpoint)",
    },
    description={
        "vi": "Mỗi lần chuỗi sự kiện của một lô hàng dài thêm, đầu chuỗi được ghi vào một cây Merkle chỉ-thêm "
        "(RFC 9162). Checkpoint ký Ed25519 (khóa công khai: /transparency/key); bằng chứng nhất quán: "
        "/transparency/consistency; các lá: /transparency/entries; kiểm tra: python -m service verify-log.",
        "en": "Each time a batch's event chain grows, its head is appended to an append-only Merkle tree "
        "(RFC 9162). Ed25519-signed checkpoint (public key: /transparency/key); consistency proofs: "
        "/transparency/consistency; leaves: /transparency/entries; audit: python -m service verify-log.",
    },
    path="/transparency/checkpoint",
    media_type="application/json",
    issued=date(2026, 11, 30),
    columns=[
        Column("origin", {"vi": "tên của sổ, được ký cùng phần còn lại", "en": "the log's name, signed with the rest"}),
        Column("tree_size", {"vi": "số lá được bao phủ", "en": "number of leaves covered"}, "integer", minimum=0),
        Column("root_hash", {"vi": "băm gốc cây Merkle RFC 9162 (hex)", "en": "RFC 9162 Merkle tree hash (hex)"}),
        Column(
            "issued_at",
            {"vi": "thời điểm ký checkpoint (ISO 8601)", "en": "when the checkpoint was signed (ISO 8601)"},
            "datetime",
        ),
        Column(
            "key_id",
            {
                "vi": "8 byte đầu SHA-256 của khóa công khai (hex)",
                "en": "first 8 bytes of SHA-256 of the public key (hex)",
            },
        ),
        Column(
            "signature",
            {
                "vi": "chữ ký Ed25519 của nội dung checkpoint (base64)",
                "en": "Ed25519 signature of the checkpoint text (base64)",
            },
        ),
    ],
)
