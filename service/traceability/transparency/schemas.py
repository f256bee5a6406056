"""The log on the wire: checkpoints, the key, leaves, inclusion and consistency proofs. Hashes in lower-case hex."""

from datetime import datetime

import msgspec


class Checkpoint(msgspec.Struct, kw_only=True):
    """A signed statement: at `issued_at` the log held `tree_size` leaves with this root hash."""

    origin: str
    tree_size: int
    root_hash: str
    issued_at: datetime
    key_id: str
    signature: str  # base64 Ed25519 signature of the checkpoint text (see signing.checkpoint_text)


class LogKey(msgspec.Struct, kw_only=True):
    algorithm: str
    key_id: str
    public_key: str  # base64 of the 32-byte raw Ed25519 public key
    public_key_pem: str


class Leaf(msgspec.Struct, kw_only=True):
    """One logged chain head. `data` is the exact text hashed: leaf_hash = SHA-256(0x00 || UTF-8(data))."""

    index: int
    data: str
    leaf_hash: str


class Leaves(msgspec.Struct, kw_only=True):
    tree_size: int
    leaves: list[Leaf]


class ConsistencyProof(msgspec.Struct, kw_only=True):
    """RFC 9162 section 2.1.4: the tree of `first` leaves is a prefix of the tree of `second` leaves."""

    first: int
    second: int
    proof: list[str]


class BatchProof(msgspec.Struct, kw_only=True):
    """The newest head of a batch that a checkpoint covers, and the audit path proving it is in the log."""

    code: str
    seq: int
    hash: str
    leaf_index: int
    leaf_data: str
    leaf_hash: str
    audit_path: list[str]
    checkpoint: Checkpoint
