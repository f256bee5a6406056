"""RFC 9162 Merkle trees: the tree hash, inclusion and consistency proofs, and their verifiers. Pure, no I/O.

Hashes are SHA-256: a leaf is SHA-256(0x00 || data), a node SHA-256(0x01 || left || right), and a tree
of n > 1 leaves splits at k, the largest power of two smaller than n (RFC 9162 section 2.1.1). The
verifiers follow the algorithms of sections 2.1.3.2 and 2.1.4.2 step by step, so a client can copy them.
"""

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


MEMO_FROM = 64  # remember complete subtrees of 64 leaves and more: ~n/32 entries, at most 127 hashes to redo


class Tree:
    """A tree over leaf hashes; hashes of complete (power-of-two) subtrees are remembered, since they never change.

    Appending leaves keeps every remembered subtree valid, so one Tree can follow a growing log.
    """

    __slots__ = ("_memo", "leaves")

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.leaves: list[bytes] = list(leaves)
        self._memo: dict[tuple[int, int], bytes] = {}

    def extend(self, leaves: Sequence[bytes]) -> None:
        self.leaves.extend(leaves)

    @property
    def size(self) -> int:
        return len(self.leaves)

    def _hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for end > start."""
        n = end - start
        if n == 1:
            return self.leaves[start]
        complete = n >= MEMO_FROM and n & (n - 1) == 0
        if complete and (start, n) in self._memo:
            return self._memo[(start, n)]
        k = split(n)
        value = node_hash(self._hash(start, start + k), self._hash(start + k, end))
        if complete:
            self._memo[(start, n)] = value
        return value

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (all when None)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return [*self._path(m, start, start + k), self._hash(start + k, end)]
        return [*self._path(m - k, start + k, end), self._hash(start, start + k)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1; empty when first is 0 or equals second."""
        second = self.size if second is None else second
        self._check_size(second)
        if not 0 <= first <= second:
            raise ValueError(f"a tree of {first} is not a prefix of a tree of {second}")
        if first in (0, second):
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._hash(start, end)]
        k = split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self._hash(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._hash(start, start + k)]

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")


def root(leaves: Sequence[bytes]) -> bytes:
    return Tree(leaves).root()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does `proof` put leaf hash `leaf` at `index` of the tree of `size` and `root_hash`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree of `first` leaves with `first_root` a prefix of the one of `second`?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
