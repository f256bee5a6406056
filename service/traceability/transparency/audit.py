"""`python -m service verify-log`: check a running service against a checkpoint saved earlier. HTTP only.

What it checks, trusting nothing the service says without proof:
1. the saved and the current checkpoint are signed by the published key (the same key the saved one names);
2. the current tree extends the saved one (RFC 9162 consistency proof): nothing logged was changed or dropped;
3. the leaves the service serves rebuild exactly the signed current root (so each leaf is included);
4. for every batch in the log, its public EPCIS history (/trace/{code}/epcis) still links from the genesis
   hash through every logged head: the event at each logged seq has the logged hash. A database rewrite
   that recomputed the chain (and so satisfies the batch's own /verify) changes those hashes and is named;
5. each batch's published inclusion proof (/trace/{code}/proof) holds against a signed checkpoint.
The hash chain covers private fields (notes, photos, who recorded), so a public auditor checks the links
and the logged heads, not each event's content: that check is the authenticated /verify.
"""

import asyncio
import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
import msgspec

from service.traceability.transparency import signing
from service.traceability.transparency.merkle import Tree, leaf_hash, verify_consistency, verify_inclusion
from service.traceability.transparency.schemas import BatchProof, Checkpoint, ConsistencyProof, Leaves, LogKey

GENESIS = "0" * 64
CONCURRENCY = 8


class LoggedHead(msgspec.Struct, kw_only=True):
    batch_id: str
    code: str
    seq: int
    hash: str
    logged_at: datetime


class AuditFailed(Exception):
    """The service could not be audited at all (unreachable, or answers that are not the log's)."""


@dataclass
class Finding:
    """One thing that does not hold; `code` names the batch when it is about one."""

    message: str
    code: str | None = None

    def __str__(self) -> str:
        return f"batch {self.code}: {self.message}" if self.code else self.message


@dataclass
class Audit:
    saved: Checkpoint
    current: Checkpoint | None = None
    leaves: int = 0
    batches: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and self.current is not None

    def rewritten_batches(self) -> list[str]:
        return sorted({f.code for f in self.findings if f.code})


def _hex(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise AuditFailed(f"not a hex hash: {value[:70]!r}") from exc


def signature_holds(key: LogKey, checkpoint: Checkpoint) -> bool:
    try:
        public = signing.public_key_from(base64.b64decode(key.public_key, validate=True))
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    text = signing.checkpoint_text(
        checkpoint.origin, checkpoint.tree_size, _hex(checkpoint.root_hash), checkpoint.issued_at
    )
    return checkpoint.key_id == key.key_id and signing.signature_holds(public, signature, text)


async def _get(client: httpx.AsyncClient, path: str, into: type[Any], **params: Any) -> Any:
    try:
        response = await client.get(path, params=params or None)
    except httpx.HTTPError as exc:
        raise AuditFailed(f"GET {path}: {exc}") from exc
    if response.status_code != 200:
        raise AuditFailed(f"GET {path}: HTTP {response.status_code}: {response.text[:200]}")
    try:
        return msgspec.json.decode(response.content, type=into)
    except msgspec.DecodeError as exc:
        raise AuditFailed(f"GET {path}: unexpected answer: {exc}") from exc


async def _all_leaves(client: httpx.AsyncClient, size: int) -> list[str]:
    texts: list[str] = []
    while len(texts) < size:
        page: Leaves = await _get(client, "/transparency/entries", Leaves, start=len(texts), end=size)
        if not page.leaves:
            raise AuditFailed(f"the service serves {len(texts)} leaves of the {size} its checkpoint covers")
        for leaf in page.leaves:
            if leaf.index != len(texts):
                raise AuditFailed(f"leaf {len(texts)} was expected, the service sent leaf {leaf.index}")
            texts.append(leaf.data)
    return texts


def chain_positions(document: dict[str, Any]) -> dict[str, int]:
    """Position (seq) of every event hash reachable from the genesis hash through tt:prevHash links.

    The public history also holds the events of neighbouring batches; each chain starts at its own
    genesis event and a hash covers its batch's id, so the chains cannot mix.
    """
    following: dict[str, list[str]] = defaultdict(list)
    for event in document.get("epcisBody", {}).get("eventList", []):
        prev, own = event.get("tt:prevHash"), event.get("tt:hash")
        if isinstance(prev, str) and isinstance(own, str):
            following[prev].append(own)
    positions: dict[str, int] = {}
    frontier = [(h, 1) for h in following.get(GENESIS, [])]
    while frontier:
        current, seq = frontier.pop()
        if current in positions:
            continue
        positions[current] = seq
        frontier.extend((h, seq + 1) for h in following.get(current, []))
    return positions


async def _check_batch(
    client: httpx.AsyncClient, key: LogKey, code: str, heads: list[LoggedHead], roots: dict[int, bytes]
) -> list[Finding]:
    findings: list[Finding] = []
    try:
        response = await client.get(f"/trace/{code}/epcis")
    except httpx.HTTPError as exc:
        return [Finding(f"its public history could not be fetched: {exc}", code)]
    if response.status_code != 200:
        return [Finding(f"its public history is gone (HTTP {response.status_code})", code)]
    positions = chain_positions(response.json())
    for head in heads:
        if positions.get(head.hash) != head.seq:
            where = "missing from" if head.hash not in positions else f"at seq {positions[head.hash]} of"
            findings.append(
                Finding(
                    f"REWRITTEN: the head logged at seq {head.seq} ({head.hash[:16]}…, "
                    f"{head.logged_at:%Y-%m-%d %H:%M}) is {where} its public hash chain "
                    "/ lịch sử sự kiện của lô đã bị sửa",
                    code,
                )
            )
    try:
        proof_response = await client.get(f"/trace/{code}/proof")
        proof = msgspec.json.decode(proof_response.content, type=BatchProof)
    except (httpx.HTTPError, msgspec.DecodeError) as exc:
        return [*findings, Finding(f"its inclusion proof could not be read: {exc}", code)]
    signed_root = roots.get(proof.checkpoint.tree_size)
    if not signature_holds(key, proof.checkpoint):
        findings.append(Finding("its inclusion proof comes with a checkpoint the log's key did not sign", code))
    elif signed_root is not None and signed_root != _hex(proof.checkpoint.root_hash):
        findings.append(Finding("its inclusion proof's checkpoint disagrees with the log's leaves", code))
    elif not verify_inclusion(
        proof.leaf_index,
        proof.checkpoint.tree_size,
        leaf_hash(proof.leaf_data.encode()),
        [_hex(p) for p in proof.audit_path],
        _hex(proof.checkpoint.root_hash),
    ):
        findings.append(Finding(f"its inclusion proof for leaf {proof.leaf_index} does not hold", code))
    return findings


async def audit(client: httpx.AsyncClient, saved: Checkpoint) -> Audit:
    """Check the service behind `client` (its base_url set) against a checkpoint saved earlier."""
    report = Audit(saved=saved)
    key: LogKey = await _get(client, "/transparency/key", LogKey)
    if not signature_holds(key, saved):
        report.findings.append(Finding("the saved checkpoint is not signed by the log's published key"))
        return report
    current: Checkpoint = await _get(client, "/transparency/checkpoint", Checkpoint)
    report.current = current
    if not signature_holds(key, current):
        report.findings.append(Finding("the current checkpoint's signature does not verify"))
        return report
    if current.origin != saved.origin:
        report.findings.append(Finding(f"the log is now called {current.origin!r}, not {saved.origin!r}"))
    if current.tree_size < saved.tree_size:
        report.findings.append(Finding(f"the log shrank from {saved.tree_size} to {current.tree_size} leaves"))
        return report
    proof: ConsistencyProof = await _get(
        client, "/transparency/consistency", ConsistencyProof, first=saved.tree_size, second=current.tree_size
    )
    if not verify_consistency(
        saved.tree_size,
        current.tree_size,
        _hex(saved.root_hash),
        _hex(current.root_hash),
        [_hex(p) for p in proof.proof],
    ):
        report.findings.append(
            Finding(
                f"REWRITTEN LOG: the tree of {current.tree_size} leaves does not extend the saved one of "
                f"{saved.tree_size} / sổ minh bạch đã bị viết lại"
            )
        )
    texts = await _all_leaves(client, current.tree_size)
    report.leaves = len(texts)
    tree = Tree([leaf_hash(t.encode()) for t in texts])
    if tree.root() != _hex(current.root_hash):
        report.findings.append(Finding("the leaves served do not rebuild the signed root hash"))
        return report
    roots = {size: tree.root(size) for size in (saved.tree_size, current.tree_size)}
    by_batch: dict[str, list[LoggedHead]] = defaultdict(list)
    for index, text in enumerate(texts):
        try:
            head = msgspec.json.decode(text, type=LoggedHead)
        except msgspec.DecodeError:
            report.findings.append(Finding(f"leaf {index} is not a chain head: {text[:80]!r}"))
            continue
        by_batch[head.code].append(head)
    for code, heads in by_batch.items():
        seqs = [h.seq for h in heads]
        if seqs != sorted(set(seqs)):
            report.findings.append(Finding(f"its logged heads go {seqs}: a chain head was logged twice", code))
    report.batches = len(by_batch)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(code: str, heads: list[LoggedHead]) -> list[Finding]:
        async with gate:
            return await _check_batch(client, key, code, heads, roots)

    for found in await asyncio.gather(*(one(code, heads) for code, heads in sorted(by_batch.items()))):
        report.findings.extend(found)
    return report


def print_report(report: Audit, out: TextIO) -> None:
    current = report.current
    print(f"saved checkpoint:   {report.saved.tree_size} leaves, root {report.saved.root_hash[:16]}…", file=out)
    if current is not None:
        print(f"current checkpoint: {current.tree_size} leaves, root {current.root_hash[:16]}…", file=out)
    print(f"checked {report.leaves} leaves of {report.batches} batches", file=out)
    for finding in report.findings:
        print(f"FAIL {finding}", file=out)
    rewritten = report.rewritten_batches()
    if rewritten:
        print(f"rewritten batches / lô bị sửa: {', '.join(rewritten)}", file=out)
    print(
        "OK: the log extends the saved checkpoint and every logged head is in its batch's history / sổ minh bạch khớp"
        if report.ok
        else "VERIFICATION FAILED / KIỂM TRA THẤT BẠI",
        file=out,
    )


async def verify_log(client: httpx.AsyncClient, checkpoint_file: Path, out: TextIO, save: Path | None = None) -> int:
    """0 when everything holds, 1 when something was rewritten, 2 when the audit could not be done."""
    try:
        saved = msgspec.json.decode(await asyncio.to_thread(checkpoint_file.read_bytes), type=Checkpoint)
    except (OSError, msgspec.DecodeError) as exc:
        print(f"error: cannot read a checkpoint from {checkpoint_file}: {exc}", file=out)
        return 2
    try:
        report = await audit(client, saved)
    except AuditFailed as exc:
        print(f"error: {exc}", file=out)
        return 2
    print_report(report, out)
    if report.ok and save is not None and report.current is not None:
        await asyncio.to_thread(save.write_bytes, msgspec.json.encode(report.current))
        print(f"saved the current checkpoint to {save}", file=out)
    return 0 if report.ok else 1


async def verify_log_at(base_url: str, checkpoint_file: Path, out: TextIO, save: Path | None = None) -> int:
    async with httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=30, follow_redirects=True) as client:
        return await verify_log(client, checkpoint_file, out, save)
