"""Property tests: the prover's proofs always verify, and any flipped bit fails."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhub.ledger.keys import Signer
from cityhub.ledger.merkle import MemoryTree
from cityhub.ledger.verify import (
    Head,
    TreeHasher,
    VerificationError,
    key_id,
    verify_consistency,
    verify_head,
    verify_inclusion,
)

MAX = 70
ALGS = st.sampled_from(["sha256", "sm3"])


@functools.cache
def tree(alg: str) -> MemoryTree:
    t = MemoryTree(TreeHasher(alg))
    t.append(f"entry-{i}".encode() for i in range(MAX))
    return t


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_every_entry_of_every_size_proves_inclusion() -> None:
    for alg in ("sha256", "sm3"):
        t = tree(alg)
        for size in range(1, MAX + 1):
            root = t.prover.root(size)
            assert root == t.hasher.root_of_leaves([t.leaf(i) for i in range(size)])
            for index in range(size):
                leaf = t.leaf(index)
                verify_inclusion(t.hasher, index, size, leaf, t.prover.inclusion(index, size), root)


def test_every_pair_of_sizes_proves_consistency() -> None:
    for alg in ("sha256", "sm3"):
        t = tree(alg)
        roots = [b""] + [t.prover.root(n) for n in range(1, MAX + 1)]
        for second in range(1, MAX + 1):
            for first in range(1, second + 1):
                proof = t.prover.consistency(first, second)
                verify_consistency(t.hasher, first, second, proof, roots[first], roots[second])


@st.composite
def inclusion_case(draw: st.DrawFn) -> tuple[str, int, int]:
    alg = draw(ALGS)
    size = draw(st.integers(2, MAX))
    return alg, draw(st.integers(0, size - 1)), size


@settings(max_examples=300, deadline=None)
@given(case=inclusion_case(), where=st.sampled_from(["proof", "leaf", "root"]), bit=st.integers(0))
def test_a_flipped_bit_breaks_an_inclusion_proof(
    case: tuple[str, int, int], where: str, bit: int
) -> None:
    alg, index, size = case
    t = tree(alg)
    proof, leaf, root = t.prover.inclusion(index, size), t.leaf(index), t.prover.root(size)
    if where == "proof":
        k = bit % len(proof)
        proof[k] = flip(proof[k], bit // len(proof))
    elif where == "leaf":
        leaf = flip(leaf, bit)
    else:
        root = flip(root, bit)
    try:
        verify_inclusion(t.hasher, index, size, leaf, proof, root)
    except VerificationError:
        return
    raise AssertionError("a tampered inclusion proof verified")


@st.composite
def consistency_case(draw: st.DrawFn) -> tuple[str, int, int]:
    alg = draw(ALGS)
    second = draw(st.integers(2, MAX))
    return alg, draw(st.integers(1, second - 1)), second


@settings(max_examples=300, deadline=None)
@given(
    case=consistency_case(), where=st.sampled_from(["proof", "root1", "root2"]), bit=st.integers(0)
)
def test_a_flipped_bit_breaks_a_consistency_proof(
    case: tuple[str, int, int], where: str, bit: int
) -> None:
    alg, first, second = case
    t = tree(alg)
    proof = t.prover.consistency(first, second)
    root1, root2 = t.prover.root(first), t.prover.root(second)
    if where == "proof" and proof:
        k = bit % len(proof)
        proof[k] = flip(proof[k], bit // len(proof))
    elif where == "root1":
        root1 = flip(root1, bit)
    else:
        root2 = flip(root2, bit)
    try:
        verify_consistency(t.hasher, first, second, proof, root1, root2)
    except VerificationError:
        return
    raise AssertionError("a tampered consistency proof verified")


SIGNER = Signer(Ed25519PrivateKey.generate())


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, MAX), bit=st.integers(0), where=st.sampled_from(["sig", "root", "size"]))
def test_a_flipped_bit_breaks_a_signed_head(size: int, bit: int, where: str) -> None:
    import base64

    t = tree("sm3")
    head = Head("cityhub/371300/main", "sm3", size, t.prover.root(size), 1_700_000_000_000)
    doc = {
        "origin": head.origin,
        "hash_alg": head.hash_alg,
        "size": head.size,
        "root": head.root.hex(),
        "timestamp": head.timestamp_ms,
        "key_id": SIGNER.key_id,
        "algorithm": "ed25519",
        "signature": base64.b64encode(SIGNER.sign(head.message())).decode(),
    }
    keys = {key_id("ed25519", SIGNER.public_key): ("ed25519", SIGNER.public_key)}
    assert verify_head(doc, keys)[0] == head
    if where == "sig":
        doc["signature"] = base64.b64encode(flip(SIGNER.sign(head.message()), bit)).decode()
    elif where == "root":
        doc["root"] = flip(head.root, bit).hex()
    else:
        doc["size"] = size ^ (1 << (bit % 20))
    try:
        verify_head(doc, keys)
    except VerificationError:
        return
    raise AssertionError("a tampered head verified")


BIG = 3000


@functools.cache
def big_tree() -> MemoryTree:
    t = MemoryTree(TreeHasher("sm3"))
    for start in range(0, BIG, 500):  # appended in batches, as the sequencer does
        t.append(f"entry-{i}".encode() for i in range(start, start + 500))
    return t


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_entries_and_sizes_of_a_bigger_tree_prove(data: st.DataObject) -> None:
    t = big_tree()
    second = data.draw(st.integers(1, BIG))
    first = data.draw(st.integers(1, second))
    index = data.draw(st.integers(0, second - 1))
    root = t.prover.root(second)
    assert root == t.hasher.root_of_leaves([t.leaf(i) for i in range(second)])
    verify_inclusion(
        t.hasher, index, second, t.leaf(index), t.prover.inclusion(index, second), root
    )
    proof = t.prover.consistency(first, second)
    verify_consistency(t.hasher, first, second, proof, t.prover.root(first), root)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=6))
def test_appends_in_any_batches_store_the_same_tiles(batches: list[int]) -> None:
    """Each batch starts wherever the last one ended (odd indexes, partial tiles)."""
    entries = [f"entry-{i}".encode() for i in range(sum(batches))]
    whole, pieces = MemoryTree(TreeHasher("sha256")), MemoryTree(TreeHasher("sha256"))
    whole.append(entries)
    start = 0
    for n in batches:
        pieces.append(entries[start : start + n])
        start += n
    assert pieces.tiles == whole.tiles
    if entries:
        assert whole.prover.root(len(entries)) == whole.hasher.root_of_leaves(
            [whole.hasher.leaf(e) for e in entries]
        )
