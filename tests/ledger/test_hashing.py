"""Known answers: SM3 (GM/T 0004-2012 examples) and the RFC 6962 vectors of an
independent implementation (transparency-dev/merkle), run through our verifier."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from cityhub.ledger import merkle, verify
from cityhub.ledger.merkle import TILE_WIDTH, BulkHasher, MemoryTree, edge_tiles, split32
from cityhub.ledger.verify import (
    TreeHasher,
    VerificationError,
    sm3_pure,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "data" / "merkle-rfc6962"
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


@pytest.mark.parametrize(("message", "expected"), [(b"abc", SM3_ABC), (b"abcd" * 16, SM3_ABCD16)])
def test_sm3_known_answers_in_openssl_and_the_fallback(message: bytes, expected: str) -> None:
    assert verify.SM3_NATIVE, "this Python's OpenSSL should provide SM3"
    assert hashlib.new("sm3", message).hexdigest() == expected
    assert sm3_pure(message).hex() == expected
    assert verify.hash_function("sm3")(message).hex() == expected


@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000])
def test_pure_sm3_agrees_with_openssl_across_padding_edges(length: int) -> None:
    data = bytes(range(256)) * 4
    assert sm3_pure(data[:length]) == hashlib.new("sm3", data[:length]).digest()


def test_tree_hashing_follows_rfc_9162_domain_separation() -> None:
    h = TreeHasher("sha256")
    assert h.empty_root() == hashlib.sha256(b"").digest()
    assert h.leaf(b"x") == hashlib.sha256(b"\x00x").digest()
    assert h.node(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    # Three leaves split 2 + 1 (largest power of two below n on the left).
    leaves = [h.leaf(bytes([i])) for i in range(3)]
    assert h.root_of_leaves(leaves) == h.node(h.node(leaves[0], leaves[1]), leaves[2])


def _b64(value: Any) -> bytes:
    return base64.b64decode(value or "")


def _cases() -> list[Path]:
    return sorted(VECTORS.glob("**/*.json"))


@pytest.mark.parametrize("alg", ["sm3", "sha256"])
def test_bulk_hashing_equals_one_call_per_hash_on_every_path(
    alg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = TreeHasher(alg)
    entries = [f"entry-{i}".encode() * (i % 7) for i in range(50)]
    lefts, rights = [hasher.leaf(e) for e in entries[:25]], [hasher.leaf(e) for e in entries[25:]]
    level = b"".join(left + right for left, right in zip(lefts, rights, strict=True))
    expected = (b"".join(map(hasher.leaf, entries)), b"".join(map(hasher.node, lefts, rights)))

    def hashed() -> tuple[bytes, bytes]:
        bulk = BulkHasher(TreeHasher(alg))
        return bulk.leaves(entries), bulk.nodes(level)

    if merkle._treehash is not None:  # the compiled path, built wherever CI installs
        assert BulkHasher(hasher)._native
        assert hashed() == expected
    monkeypatch.setattr(merkle, "_treehash", None)  # hashlib, one C-level map per list
    assert not BulkHasher(hasher)._native
    assert hashed() == expected
    monkeypatch.setattr(merkle, "SM3_NATIVE", False)
    if alg == "sm3":  # OpenSSL without SM3: the pure-Python SM3, one call per hash
        assert BulkHasher(hasher)._leaf0 is None
        assert hashed() == expected
    assert split32(expected[0]) == [hasher.leaf(e) for e in entries]


def test_the_compiled_hashing_refuses_what_it_cannot_hash() -> None:
    if merkle._treehash is None:
        pytest.skip("cityhub.ledger._treehash was not built (no C compiler or OpenSSL headers)")
    with pytest.raises(ValueError, match="whole pairs"):
        merkle._treehash.nodes("sha256", b"x" * 63)
    with pytest.raises(ValueError, match="not available"):
        merkle._treehash.leaves("md5", [b"x"])
    with pytest.raises(TypeError, match="entry 1 is not bytes"):
        merkle._treehash.leaves("sha256", [b"x", "y"])
    assert merkle._treehash.leaves("sha256", []) == b""


def test_tiles_cover_every_level_and_only_the_right_edge_is_rewritten() -> None:
    tree = MemoryTree(TreeHasher("sha256"))
    tree.append(f"e{i}".encode() for i in range(3 * TILE_WIDTH + 5))
    assert len(tree.tiles[(0, 0)]) == TILE_WIDTH * 32  # full tiles: 256 hashes
    assert len(tree.tiles[(0, 3)]) == 5 * 32  # the partial tile of the right edge
    assert edge_tiles(tree.size) == [(0, 3), (1, 1), (2, 0), (3, 0), (4, 0), (5, 0),
                                     (6, 0), (7, 0), (8, 0), (9, 0)]  # fmt: skip
    full = {k: v for k, v in tree.tiles.items() if len(v) == TILE_WIDTH * 32}
    tree.append([b"more"] * 300)
    assert all(tree.tiles[k] == v for k, v in full.items())  # full tiles never change
    hasher = tree.hasher
    leaves = [hasher.leaf(f"e{i}".encode()) for i in range(3 * TILE_WIDTH + 5)]
    leaves += [hasher.leaf(b"more")] * 300
    assert tree.prover.root(tree.size) == hasher.root_of_leaves(leaves)


def test_the_vector_set_is_the_whole_copy_with_its_licence() -> None:
    assert "Apache License" in (VECTORS / "LICENSE").read_text()
    assert len(_cases()) == 196
    kinds = {json.loads(p.read_text())["wantErr"] for p in _cases()}
    assert kinds == {True, False}


@pytest.mark.parametrize("case", _cases(), ids=lambda p: str(p.relative_to(VECTORS)))
def test_verifier_accepts_exactly_the_valid_vectors(case: Path) -> None:
    data = json.loads(case.read_text())
    h = TreeHasher("sha256")
    proof = [_b64(p) for p in data["proof"] or []]
    try:
        if "leafIdx" in data:
            verify_inclusion(
                h, data["leafIdx"], data["treeSize"], _b64(data["leafHash"]), proof,
                _b64(data["root"]),
            )  # fmt: skip
        else:
            verify_consistency(
                h, data["size1"], data["size2"], proof, _b64(data["root1"]), _b64(data["root2"])
            )
        accepted = True
    except VerificationError:
        accepted = False
    assert accepted is (not data["wantErr"]), data["desc"]


def test_our_prover_reproduces_the_vectors_happy_paths() -> None:
    """The vectors' trees are built from the RFC's eight test leaves: our own proofs must
    equal the independent implementation's, byte for byte."""
    leaves = [
        b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]  # fmt: skip
    tree = MemoryTree(TreeHasher("sha256"))
    tree.append(leaves)
    matched = 0
    for case in _cases():
        data = json.loads(case.read_text())
        if data["wantErr"] or data["desc"] != "happy path":
            continue
        if "leafIdx" in data:
            size, index = data["treeSize"], data["leafIdx"]
            if size > tree.size:
                continue
            assert tree.prover.root(size) == _b64(data["root"])
            assert tree.prover.inclusion(index, size) == [_b64(p) for p in data["proof"] or []]
        else:
            if data["size2"] > tree.size:
                continue
            got = tree.prover.consistency(data["size1"], data["size2"])
            assert got == [_b64(p) for p in data["proof"] or []]
        matched += 1
    assert matched >= 5
