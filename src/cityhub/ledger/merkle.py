"""RFC 9162 proofs over stored perfect subtrees, and the tiles that store them.

Every range of leaves the RFC's recursion visits starts at a multiple of the next power
of two above its length, so its hash folds from at most log2(n) *perfect* aligned
subtrees, each stored once as a node (level, index). A proof or a root therefore needs
O(log n) node reads: plan the keys, read them in one query, fold.

Nodes are stored in tiles (Go's tlog, Trillian): the hashes of level l, 256 at a time,
one blob per (level, tile); the right edge's partial tile of each level is rewritten by
the next append. An append writes ~n/128 rows for n entries, a proof reads at most two
tiles per level.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from cityhub.ledger.verify import SM3_NATIVE, TreeHasher

try:  # compiled at install where a C compiler and OpenSSL's headers are present
    from cityhub.ledger import _treehash
except ImportError:  # pragma: no cover - depends on the install
    _treehash = None  # type: ignore[assignment]

NodeKey = tuple[int, int]  # (level, index): the subtree of leaves [index << level, +2**level)
Range = tuple[int, int]  # leaves [start, end)


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1): the RFC's k."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_pieces(start: int, end: int) -> list[NodeKey]:
    """The aligned perfect subtrees that make up [start, end), left to right."""
    pieces: list[NodeKey] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1  # biggest power of two that fits
        pieces.append((level, start >> level))
        start += 1 << level
    return pieces


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes make PATH(index, D[size]), bottom first."""
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose hashes make PROOF(first, D[second]), RFC 9162 section 2.1.4.1."""
    ranges: list[Range] = []
    lo, hi, whole = 0, second, True
    while first != hi:
        k = split_point(hi - lo)
        if first - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            whole = False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def keys_for(ranges: Iterable[Range]) -> set[NodeKey]:
    keys: set[NodeKey] = set()
    for start, end in ranges:
        keys.update(perfect_pieces(start, end))
    return keys


def fold(hasher: TreeHasher, pieces: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect pieces: node(p1, node(p2, ... node(pk-1, pk)))."""
    root = pieces[-1]
    for left in reversed(pieces[:-1]):
        root = hasher.node(left, root)
    return root


def range_hash(hasher: TreeHasher, nodes: Mapping[NodeKey, bytes], rng: Range) -> bytes:
    return fold(hasher, [nodes[key] for key in perfect_pieces(*rng)])


class MissingNode(LookupError):
    """A stored node the proof needs is not there (the store is damaged or behind)."""


Reader = Callable[[set[NodeKey]], Mapping[NodeKey, bytes]]


@dataclass(frozen=True)
class Prover:
    """Roots and proofs for any size, from a reader of stored nodes."""

    hasher: TreeHasher
    read: Reader

    def _nodes(self, keys: set[NodeKey]) -> Mapping[NodeKey, bytes]:
        nodes = self.read(keys)
        missing = keys - nodes.keys()
        if missing:
            raise MissingNode(f"stored tree nodes are missing: {sorted(missing)[:5]}")
        return nodes

    def root(self, size: int) -> bytes:
        if size == 0:
            return self.hasher.empty_root()
        return range_hash(self.hasher, self._nodes(keys_for([(0, size)])), (0, size))

    def inclusion(self, index: int, size: int) -> list[bytes]:
        if not 0 <= index < size:
            raise ValueError(f"index {index} is outside a tree of size {size}")
        ranges = inclusion_ranges(index, size)
        nodes = self._nodes(keys_for(ranges))
        return [range_hash(self.hasher, nodes, r) for r in ranges]

    def consistency(self, first: int, second: int) -> list[bytes]:
        if not 0 < first <= second:
            raise ValueError(f"no consistency proof exists from size {first} to {second}")
        ranges = consistency_ranges(first, second)
        nodes = self._nodes(keys_for(ranges))
        return [range_hash(self.hasher, nodes, r) for r in ranges]


TILE_BITS = 8
TILE_WIDTH = 1 << TILE_BITS  # hashes per tile, as in Go's tlog and Trillian's tiles
TileKey = tuple[int, int]  # (level, tile index): nodes (level, t * 256 .. t * 256 + 255)


def tile_of(key: NodeKey) -> tuple[TileKey, int]:
    """Where node (level, index) is stored: its tile and the byte offset inside it."""
    level, index = key
    return (level, index >> TILE_BITS), (index & (TILE_WIDTH - 1)) * 32


def edge_tiles(size: int) -> list[TileKey]:
    """The partial tiles of a tree of `size` leaves (one per level at most): what an
    append reads, extends and writes back, beside the new full tiles."""
    return [
        (level, (size >> level) >> TILE_BITS)
        for level in range(size.bit_length())
        if (size >> level) & (TILE_WIDTH - 1)
    ]


def split32(blob: bytes) -> list[bytes]:
    """Concatenated hashes, one by one."""
    return [blob[at : at + 32] for at in range(0, len(blob), 32)]


class BulkHasher:
    """Leaf and node hashes of whole batches, as concatenated 32-byte hashes: the
    append's hot path. The compiled `_treehash` hashes a whole list per call (~0.4 us
    per SHA-256 leaf against ~1.2-1.7 us through hashlib); without it, C-level maps over
    copies of a pre-fed hashlib object; without SM3 in OpenSSL, the hasher's own calls."""

    def __init__(self, hasher: TreeHasher) -> None:
        self.hasher = hasher
        self.algorithm = hasher.algorithm
        self._native = _treehash is not None and (self.algorithm != "sm3" or SM3_NATIVE)
        self._leaf0: Any = None  # None: SM3 missing from OpenSSL, the hasher's fallback
        self._node0: Any = None
        if hasher.algorithm != "sm3" or SM3_NATIVE:
            self._leaf0 = hashlib.new(hasher.algorithm, b"\x00")
            self._node0 = hashlib.new(hasher.algorithm, b"\x01")

    @staticmethod
    def _digests(base: Any, messages: Sequence[bytes]) -> bytes:
        kind = type(base)
        objs = list(map(kind.copy, repeat(base, len(messages))))
        deque(map(kind.update, objs, messages), maxlen=0)
        return b"".join(map(kind.digest, objs))

    def leaves(self, entries: Sequence[bytes]) -> bytes:
        """H(0x00 || e) of every entry, concatenated."""
        if self._native:
            return _treehash.leaves(self.algorithm, entries)
        if self._leaf0 is None:
            return b"".join(map(self.hasher.leaf, entries))
        return self._digests(self._leaf0, entries)

    def nodes(self, level: bytes) -> bytes:
        """H(0x01 || l || r) of every 64-byte pair of `level` (a whole number of pairs)."""
        if self._native:
            return _treehash.nodes(self.algorithm, level)
        pairs = [level[at : at + 64] for at in range(0, len(level), 64)]
        if self._node0 is None:
            return b"".join(self.hasher.node(p[:32], p[32:]) for p in pairs)
        return self._digests(self._node0, pairs)


class DamagedTiles(LookupError):
    """A partial tile of the right edge is missing or has the wrong length."""


def extend(
    bulk: BulkHasher, size: int, edges: Mapping[TileKey, bytes], leaves: bytes
) -> dict[TileKey, bytes]:
    """The tiles to write when `leaves` (concatenated leaf hashes) follow a tree of `size`
    leaves: every level, level by level, as whole blobs. `edges` holds the stored partial
    tiles (`edge_tiles(size)`); each new level pairs its hashes, after the stored left
    sibling when the level's first new node has an odd index."""
    out: dict[TileKey, bytes] = {}
    level, start, new = 0, size, leaves
    step = TILE_WIDTH * 32
    while new:
        tail = b""
        if start & (TILE_WIDTH - 1):
            tail = edges.get((level, start >> TILE_BITS), b"")
            if len(tail) != (start & (TILE_WIDTH - 1)) * 32:
                raise DamagedTiles(f"the partial tile of level {level} is missing or damaged")
        blob = tail + new
        first = start >> TILE_BITS
        for at in range(0, len(blob), step):
            out[(level, first + at // step)] = blob[at : at + step]
        seq = tail[-32:] + new if start & 1 else new
        new = bulk.nodes(seq[: len(seq) // 64 * 64])
        level, start = level + 1, start >> 1
    return out


def pick(tiles: Mapping[TileKey, bytes], keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """The nodes `keys` out of stored tiles (absent where a tile is missing or short)."""
    found: dict[NodeKey, bytes] = {}
    for key in keys:
        tile, offset = tile_of(key)
        blob = tiles.get(tile)
        if blob is not None and len(blob) >= offset + 32:
            found[key] = blob[offset : offset + 32]
    return found


class MemoryTree:
    """The same storage scheme in a dict, for tests and for the offline witness."""

    def __init__(self, hasher: TreeHasher) -> None:
        self.hasher = hasher
        self.bulk = BulkHasher(hasher)
        self.tiles: dict[TileKey, bytes] = {}
        self.size = 0
        self.prover = Prover(hasher, lambda keys: pick(self.tiles, keys))

    def leaf(self, index: int) -> bytes:
        return pick(self.tiles, [(0, index)])[(0, index)]

    def append(self, entries: Iterable[bytes]) -> None:
        batch = list(entries)
        edges = {k: self.tiles[k] for k in edge_tiles(self.size) if k in self.tiles}
        self.tiles.update(extend(self.bulk, self.size, edges, self.bulk.leaves(batch)))
        self.size += len(batch)
