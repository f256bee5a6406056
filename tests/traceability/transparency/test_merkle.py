"""RFC 9162 Merkle trees: hand-computed small trees, the certificate-transparency test vectors, and properties."""

import hashlib

import pytest

from service.traceability.transparency.merkle import (
    EMPTY_ROOT,
    Tree,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The leaves of the reference tree used by certificate-transparency's and Trillian's merkle tests.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ct_tree() -> Tree:
    return Tree([leaf_hash(d) for d in CT_LEAVES])


def hexes(values: list[bytes]) -> list[str]:
    return [v.hex() for v in values]


def test_small_trees_by_hand() -> None:
    a, b, c = (sha(b"\x00" + d) for d in (b"a", b"b", b"c"))
    ab = sha(b"\x01" + a + b)
    assert root([]) == sha(b"") == EMPTY_ROOT
    assert root([a]) == a == leaf_hash(b"a")
    assert root([a, b]) == ab
    # three leaves split at two: ((a b) c), not (a (b c))
    assert root([a, b, c]) == sha(b"\x01" + ab + c)
    tree = Tree([a, b, c])
    assert tree.inclusion_proof(2) == [ab]
    assert tree.inclusion_proof(0) == [b, c]
    assert tree.consistency_proof(2) == [c]
    assert tree.consistency_proof(1) == [b, c]


def test_certificate_transparency_vectors() -> None:
    tree = ct_tree()
    assert [tree.root(n).hex() for n in range(1, 9)] == CT_ROOTS
    assert hexes(tree.inclusion_proof(0, 8)) == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert hexes(tree.inclusion_proof(5, 8)) == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert hexes(tree.consistency_proof(6, 8)) == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert hexes(tree.consistency_proof(2, 5)) == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]


def big_tree() -> Tree:
    return Tree([leaf_hash(i.to_bytes(4, "big")) for i in range(64)])


def test_every_inclusion_proof_up_to_64_leaves_verifies_and_a_changed_leaf_fails() -> None:
    tree = big_tree()
    for size in range(1, 65):
        top = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(index, size, tree.leaves[index], proof, top), (index, size)
            assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, top)
            assert not verify_inclusion(index, size, tree.leaves[index], proof, tree.root(size - 1))
            if size > 1:
                assert not verify_inclusion((index + 1) % size, size, tree.leaves[index], proof, top)


def test_every_consistency_proof_up_to_64_leaves_verifies_and_a_changed_leaf_fails() -> None:
    tree = big_tree()
    for second in range(1, 65):
        for first in range(second + 1):
            proof = tree.consistency_proof(first, second)
            assert verify_consistency(first, second, tree.root(first), tree.root(second), proof), (first, second)
            if 0 < first < second:
                # the same sizes over a history with one earlier leaf rewritten
                changed = Tree(tree.leaves[:second])
                changed.leaves[first - 1] = leaf_hash(b"rewritten")
                assert not verify_consistency(first, second, tree.root(first), changed.root(second), proof)
                assert not verify_consistency(first, second, changed.root(first), tree.root(second), proof)
                forged = changed.consistency_proof(first, second)
                assert not verify_consistency(first, second, tree.root(first), changed.root(second), forged)


def test_a_tree_remembering_subtrees_still_follows_appends() -> None:
    growing = Tree()
    for i in range(40):
        growing.extend([leaf_hash(bytes([i]))])
        assert growing.root() == root(growing.leaves)  # the fresh tree recomputes everything


@pytest.mark.parametrize(
    ("first", "second", "proof_len"),
    [(3, 2, 0), (-1, 2, 0), (2, 2, 1), (0, 4, 1)],
)
def test_malformed_consistency_claims_fail(first: int, second: int, proof_len: int) -> None:
    tree = big_tree()
    proof = [leaf_hash(b"x")] * proof_len
    assert not verify_consistency(first, second, tree.root(min(max(first, 0), 64)), tree.root(second), proof)


def test_out_of_range_proofs_are_refused() -> None:
    tree = big_tree()
    with pytest.raises(ValueError, match="not in a tree"):
        tree.inclusion_proof(64)
    with pytest.raises(ValueError, match="leaves"):
        tree.root(65)
    with pytest.raises(ValueError, match="prefix"):
        tree.consistency_proof(5, 4)
    assert not verify_inclusion(0, 0, tree.leaves[0], [], tree.root(0))
