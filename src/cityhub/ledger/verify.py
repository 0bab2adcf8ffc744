"""Offline verifier of cityhub ledger receipts and bundles.

Self-contained on purpose: it needs the Python standard library and the `cryptography`
package, nothing else from cityhub, so a department or a court can vendor this one file
and check a receipt without trusting (or installing) the platform.

    python verify.py receipt.json [--key platform-key.pub]

Tree hashing is RFC 9162 (RFC 6962): leaf = H(0x00 || entry), node = H(0x01 || l || r),
with SM3 (GM/T 0004-2012) or SHA-256 as H. Heads are Ed25519-signed text notes.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import itertools
import json
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HASH_SIZE = 32
HEAD_FORMAT = "cityhub-ledger-head/v1"
COSIGN_FORMAT = "cityhub-ledger-cosignature/v1"
RECEIPT_FORMAT = "cityhub-ledger-receipt/v1"
BUNDLE_FORMAT = "cityhub-ledger-bundle/v1"
HASH_ALGORITHMS = ("sm3", "sha256")
SIGNATURE_ALGORITHMS = ("ed25519",)


class VerificationError(Exception):
    """A proof, signature or document that does not check out."""


# -- SM3 (GM/T 0004-2012), used only when OpenSSL lacks it --------------------------------

_SM3_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D,
           0xB0FB0E4E)  # fmt: skip
_M32 = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _M32


def _sm3_compress(v: list[int], block: bytes) -> list[int]:
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        x = w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)
        w.append((x ^ _rotl(x, 15) ^ _rotl(x, 23)) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        t = 0x79CC4519 if j < 16 else 0x7A879D8A
        ss1 = _rotl((_rotl(a, 12) + e + _rotl(t, j)) & _M32, 7)
        ss2 = ss1 ^ _rotl(a, 12)
        if j < 16:
            ff, gg = a ^ b ^ c, e ^ f ^ g
        else:
            ff, gg = (a & b) | (a & c) | (b & c), (e & f) | (~e & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _M32
        tt2 = (gg + h + ss1 + w[j]) & _M32
        a, b, c, d = tt1, a, _rotl(b, 9), c
        e, f, g, h = tt2 ^ _rotl(tt2, 9) ^ _rotl(tt2, 17), e, _rotl(f, 19), g
    return [x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h), strict=True)]


def sm3_pure(data: bytes) -> bytes:
    """SM3 in pure Python: slow, but correct where OpenSSL was built without SM3."""
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack(">Q", len(data) * 8)
    v = list(_SM3_IV)
    for i in range(0, len(padded), 64):
        v = _sm3_compress(v, padded[i : i + 64])
    return struct.pack(">8I", *v)


def _openssl_has_sm3() -> bool:
    try:
        return hashlib.new("sm3", b"abc").hexdigest().startswith("66c7f0f4")
    except ValueError:
        return False


SM3_NATIVE = _openssl_has_sm3()


def hash_function(algorithm: str) -> Callable[[bytes], bytes]:
    """H for a ledger: `sm3` (OpenSSL, or the pure-Python fallback) or `sha256`."""
    if algorithm == "sha256":
        return lambda data: hashlib.sha256(data).digest()
    if algorithm == "sm3":
        if SM3_NATIVE:
            return lambda data: hashlib.new("sm3", data).digest()
        return sm3_pure
    raise VerificationError(f"unknown hash algorithm {algorithm!r}; expected sm3 or sha256")


def _prefixed(
    algorithm: str, h: Callable[[bytes], bytes]
) -> tuple[Callable[[bytes], bytes], Callable[[bytes, bytes], bytes]]:
    """leaf and node functions; the hot path of appends, so one call deep each."""
    if algorithm == "sha256":
        sha256 = hashlib.sha256
        return (lambda e: sha256(b"\x00" + e).digest()), (
            lambda left, right: sha256(b"\x01" + left + right).digest()
        )
    if algorithm == "sm3" and SM3_NATIVE:
        leaf0, node0 = hashlib.new("sm3", b"\x00"), hashlib.new("sm3", b"\x01")

        def leaf(entry: bytes) -> bytes:
            c = leaf0.copy()
            c.update(entry)
            return c.digest()

        def node(left: bytes, right: bytes) -> bytes:
            c = node0.copy()
            c.update(left + right)
            return c.digest()

        return leaf, node
    return (lambda e: h(b"\x00" + e)), (lambda left, right: h(b"\x01" + left + right))


class TreeHasher:
    """RFC 9162 section 2.1.1 hashing with a chosen H: leaf(entry), node(left, right)."""

    __slots__ = ("algorithm", "h", "leaf", "node")

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.h = hash_function(algorithm)
        self.leaf, self.node = _prefixed(algorithm, self.h)

    def __repr__(self) -> str:
        return f"TreeHasher({self.algorithm!r})"

    def empty_root(self) -> bytes:
        return self.h(b"")

    def root_of_leaves(self, leaf_hashes: Sequence[bytes]) -> bytes:
        """MTH over leaf hashes, bottom-up in O(n) with a stack of perfect subtrees."""
        if not leaf_hashes:
            return self.empty_root()
        stack: list[tuple[int, bytes]] = []  # (height, hash) of the right frontier
        for i, leaf in enumerate(leaf_hashes):
            stack.append((0, leaf))
            height, n = 0, i + 1
            while n % 2 == 0:
                (_, right), (_, left) = stack.pop(), stack.pop()
                height += 1
                stack.append((height, self.node(left, right)))
                n //= 2
        root = stack[-1][1]
        for _, left in reversed(stack[:-1]):
            root = self.node(left, root)
        return root


# -- proofs (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ----------------------------------------


def _check_hashes(name: str, values: Iterable[bytes]) -> None:
    for value in values:
        if len(value) != HASH_SIZE:
            raise VerificationError(f"{name} has a hash of {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(
    hasher: TreeHasher, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    if index < 0 or index >= size:
        raise VerificationError(f"index {index} is outside a tree of size {size}")
    _check_hashes("the leaf", [leaf_hash])
    _check_hashes("the inclusion proof", proof)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = hasher.node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hasher.node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the inclusion proof is too short")
    return r


def verify_inclusion(
    hasher: TreeHasher,
    index: int,
    size: int,
    leaf_hash: bytes,
    proof: Sequence[bytes],
    root: bytes,
) -> None:
    """Raise VerificationError unless `leaf_hash` sits at `index` of the tree with `root`."""
    if root_from_inclusion_proof(hasher, index, size, leaf_hash, proof) != root:
        raise VerificationError(f"entry {index} is not in the tree of size {size} with that root")


def verify_consistency(
    hasher: TreeHasher,
    size1: int,
    size2: int,
    proof: Sequence[bytes],
    root1: bytes,
    root2: bytes,
) -> None:
    """Raise VerificationError unless the tree (size2, root2) extends (size1, root1)."""
    if size1 <= 0 or size2 < size1:
        raise VerificationError(f"no consistency proof exists from size {size1} to {size2}")
    _check_hashes("the consistency proof", proof)
    if size1 == size2:
        if proof:
            raise VerificationError("equal sizes need an empty consistency proof")
        if root1 != root2:
            raise VerificationError(f"two different roots for the same size {size1}")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of 2: the old root is a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hasher.node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the consistency proof is too short")
    if fr != root1:
        raise VerificationError(f"the proof does not lead to the root of size {size1}")
    if sr != root2:
        raise VerificationError(f"the proof does not lead to the root of size {size2}")


# -- signed tree heads and cosignatures ----------------------------------------------------


def head_message(origin: str, hash_alg: str, size: int, root: bytes, timestamp_ms: int) -> bytes:
    """The exact bytes the platform signs for a tree head (one field per line)."""
    if "\n" in origin:
        raise VerificationError("an origin cannot contain a line break")
    return (
        f"{HEAD_FORMAT}\norigin {origin}\nhash {hash_alg}\nsize {size}\n"
        f"root {root.hex()}\ntime {timestamp_ms}\n"
    ).encode()


def cosign_message(head: bytes, timestamp_ms: int) -> bytes:
    """The bytes a witness signs: its own time, then the head it checked."""
    return f"{COSIGN_FORMAT}\ntime {timestamp_ms}\n".encode() + head


def key_id(algorithm: str, public_key: bytes) -> str:
    """A key's fingerprint: SHA-256 over algorithm and raw key, first 16 bytes in hex."""
    return hashlib.sha256(algorithm.encode() + b":" + public_key).hexdigest()[:32]


def verify_signature(algorithm: str, public_key: bytes, message: bytes, signature: bytes) -> None:
    if algorithm != "ed25519":
        raise VerificationError(f"unsupported signature algorithm {algorithm!r}")
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise VerificationError("the signature does not verify") from None


def b64decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"{what} is not valid base64") from None


def hexdecode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(f"{what} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise VerificationError(f"{what} is not valid hex") from None


def _int(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise VerificationError(f"{name} must be a non-negative integer")
    return value


def _str(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise VerificationError(f"{name} must be a string")
    return value


Keys = dict[str, tuple[str, bytes]]  # key id -> (algorithm, raw public key)


def parse_keys(items: Any, what: str) -> Keys:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise VerificationError(f"{what} must be a list")
    keys: Keys = {}
    for item in items:
        if not isinstance(item, dict):
            raise VerificationError(f"{what} must hold objects")
        algorithm = _str(item, "algorithm")
        raw = b64decode(item.get("public_key"), f"{what} public_key")
        kid = key_id(algorithm, raw)
        if item.get("key_id", kid) != kid:
            raise VerificationError(f"{what}: key_id {item.get('key_id')} does not match its key")
        keys[kid] = (algorithm, raw)
    return keys


@dataclass(frozen=True)
class Head:
    origin: str
    hash_alg: str
    size: int
    root: bytes
    timestamp_ms: int

    def message(self) -> bytes:
        return head_message(self.origin, self.hash_alg, self.size, self.root, self.timestamp_ms)


def verify_head(doc: Any, keys: Keys, witness_keys: Keys | None = None) -> tuple[Head, list[str]]:
    """Check a signed head; returns it and the names of witnesses whose cosignature holds."""
    if not isinstance(doc, dict):
        raise VerificationError("a head must be an object")
    head = Head(
        origin=_str(doc, "origin"),
        hash_alg=_str(doc, "hash_alg"),
        size=_int(doc, "size"),
        root=hexdecode(doc.get("root"), "head root"),
        timestamp_ms=_int(doc, "timestamp"),
    )
    _check_hashes("the head root", [head.root])
    kid = _str(doc, "key_id")
    if kid not in keys:
        raise VerificationError(f"the head is signed by key {kid}, which is not trusted here")
    algorithm, public = keys[kid]
    if _str(doc, "algorithm") != algorithm:
        raise VerificationError("the head's signature algorithm does not match its key")
    verify_signature(algorithm, public, head.message(), b64decode(doc.get("signature"), "sig"))
    cosigned: list[str] = []
    for cosig in doc.get("cosignatures") or []:
        if not isinstance(cosig, dict):
            raise VerificationError("a cosignature must be an object")
        wid = _str(cosig, "key_id")
        if witness_keys is None or wid not in witness_keys:
            continue  # a witness we were not told to trust proves nothing to us
        walg, wkey = witness_keys[wid]
        message = cosign_message(head.message(), _int(cosig, "timestamp"))
        verify_signature(walg, wkey, message, b64decode(cosig.get("signature"), "cosignature"))
        cosigned.append(str(cosig.get("witness") or wid))
    return head, cosigned


# -- documents: receipts and bundles -------------------------------------------------------


@dataclass
class Report:
    """What was checked; `ok` only when every check held."""

    kind: str
    checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def ok(self, message: str) -> None:
        self.checks.append(message)


def _trusted(doc: dict[str, Any], trusted: Keys | None, report: Report) -> Keys:
    if trusted:
        return trusted
    keys = parse_keys(doc.get("keys"), "keys")
    if keys:
        report.warnings.append(
            "platform keys were taken from the document itself; compare their ids with the "
            "platform's published keys: " + ", ".join(sorted(keys))
        )
    return keys


def verify_receipt(receipt: dict[str, Any], trusted: Keys | None = None) -> Report:
    """Check a receipt: entry -> leaf hash -> inclusion proof -> signed (cosigned) head."""
    report = Report("receipt")
    status = receipt.get("status")
    if status != "proven":
        raise VerificationError(
            f"the receipt is {status!r}, not proven yet; fetch the proof from "
            f"{receipt.get('proof_url') or 'the ledger'} once it is sequenced"
        )
    keys = _trusted(receipt, trusted, report)
    witnesses = parse_keys(receipt.get("witness_keys"), "witness_keys")
    head, cosigned = verify_head(receipt.get("head"), keys, witnesses)
    report.ok(f"head of size {head.size} signed by the platform key")
    hasher = TreeHasher(head.hash_alg)
    entry = _str(receipt, "entry").encode()
    leaf = hasher.leaf(entry)
    if leaf != hexdecode(receipt.get("leaf_hash"), "leaf_hash"):
        raise VerificationError("the entry does not hash to the receipt's leaf hash")
    report.ok(f"entry hashes to leaf {leaf.hex()} ({head.hash_alg})")
    proof = [hexdecode(p, "inclusion proof") for p in receipt.get("inclusion_proof") or []]
    index = _int(receipt, "index")
    verify_inclusion(hasher, index, head.size, leaf, proof, head.root)
    report.ok(f"entry {index} is included in the tree of size {head.size}")
    if cosigned:
        report.ok("cosigned by witnesses: " + ", ".join(cosigned))
    elif witnesses:
        report.warnings.append("no valid cosignature from the listed witnesses")
    return report


def verify_bundle(bundle: dict[str, Any], trusted: Keys | None = None) -> Report:
    """Check an export: every head's signature, consistency between consecutive heads, and
    the entries (all of them: recompute the roots; some: their inclusion proofs)."""
    report = Report("bundle")
    keys = _trusted(bundle, trusted, report)
    witnesses = parse_keys(bundle.get("witness_keys"), "witness_keys")
    raw_heads = bundle.get("heads")
    if not isinstance(raw_heads, list) or not raw_heads:
        raise VerificationError("the bundle has no heads")
    heads = [verify_head(h, keys, witnesses)[0] for h in raw_heads]
    if len({(h.origin, h.hash_alg) for h in heads}) != 1:
        raise VerificationError("the bundle mixes heads of different ledgers")
    report.ok(f"{len(heads)} heads signed by the platform key")
    hasher = TreeHasher(heads[0].hash_alg)
    proofs = {(p.get("first"), p.get("second")): p for p in bundle.get("consistency") or []}
    for older, newer in itertools.pairwise(heads):
        if newer.size < older.size:
            raise VerificationError("the bundle's heads are not in order of size")
        if older.size == 0:
            continue
        item = proofs.get((older.size, newer.size))
        if item is None:
            raise VerificationError(f"no consistency proof from {older.size} to {newer.size}")
        path = [hexdecode(p, "consistency proof") for p in item.get("proof") or []]
        verify_consistency(hasher, older.size, newer.size, path, older.root, newer.root)
    if len(heads) > 1:
        report.ok(f"heads are consistent from size {heads[0].size} to {heads[-1].size}")
    latest = heads[-1]
    entries = bundle.get("entries") or []
    if bundle.get("complete"):
        leaves = [hasher.leaf(_str(e, "entry").encode()) for e in entries]
        for head in heads:
            if head.size > len(leaves) or hasher.root_of_leaves(leaves[: head.size]) != head.root:
                raise VerificationError(f"the entries do not rebuild the root of size {head.size}")
        report.ok(f"all {len(leaves)} entries rebuild every head's root")
        return report
    for item in entries:
        index = _int(item, "index")
        leaf = hasher.leaf(_str(item, "entry").encode())
        path = [hexdecode(p, "inclusion proof") for p in item.get("inclusion_proof") or []]
        verify_inclusion(hasher, index, latest.size, leaf, path, latest.root)
    report.ok(f"{len(entries)} entries included in the tree of size {latest.size}")
    return report


def verify_document(doc: Any, trusted: Keys | None = None) -> Report:
    if not isinstance(doc, dict):
        raise VerificationError("expected a JSON object (a receipt or a bundle)")
    kind = doc.get("format")
    if kind == RECEIPT_FORMAT:
        return verify_receipt(doc, trusted)
    if kind == BUNDLE_FORMAT:
        return verify_bundle(doc, trusted)
    raise VerificationError(f"unknown document format {kind!r}")


def load_public_key(path: Path) -> tuple[str, bytes]:
    """A trusted key from a file: raw base64 of an Ed25519 key, or a PEM public key."""
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise VerificationError(f"{path} is not an Ed25519 public key")
        return "ed25519", key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    raw = b64decode(text, f"the key in {path}")
    if len(raw) != 32:
        raise VerificationError(f"{path} does not hold a 32-byte Ed25519 public key")
    return "ed25519", raw


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a cityhub ledger receipt or bundle.")
    parser.add_argument("document", type=Path, help="receipt or bundle (JSON)")
    parser.add_argument("--key", type=Path, action="append", default=[], help="trusted key")
    args = parser.parse_args(argv)
    try:
        trusted: Keys = {}
        for path in args.key:
            algorithm, raw = load_public_key(path)
            trusted[key_id(algorithm, raw)] = (algorithm, raw)
        doc = json.loads(args.document.read_text(encoding="utf-8"))
        report = verify_document(doc, trusted or None)
    except (OSError, ValueError, VerificationError) as exc:
        print(f"verify: FAILED: {exc}", file=sys.stderr)
        return 1
    for line in report.checks:
        print(f"ok: {line}")
    for line in report.warnings:
        print(f"warning: {line}")
    print(f"verify: the {report.kind} is valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
