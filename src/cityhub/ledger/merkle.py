"""RFC 9162 proofs over stored perfect subtrees, independent of where they are stored.

Every range of leaves the RFC's recursion visits starts at a multiple of the next power
of two above its length, so its hash folds from at most log2(n) *perfect* aligned
subtrees, each stored once as a node (level, index). A proof or a root therefore needs
O(log n) node reads: plan the keys, read them in one query, fold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from cityhub.ledger.verify import TreeHasher

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


def frontier_keys(size: int) -> list[NodeKey]:
    """The perfect subtrees of a tree of `size` leaves: what an append needs to go on."""
    return perfect_pieces(0, size)


def row_of(key: NodeKey) -> tuple[int, int]:
    """Where node (level, index) is stored: (row = the leaf that closed it, byte offset)."""
    level, index = key
    return ((index + 1) << level) - 1, 32 * level


def extend(
    hasher: TreeHasher, size: int, frontier: Sequence[bytes], leaves: Sequence[bytes]
) -> list[bytes]:
    """The stored rows of leaves size, size+1, ...: each leaf hash followed by the roots
    of the subtrees it closed. `frontier` holds the hashes of `frontier_keys(size)`."""
    stack = list(frontier)  # the right edge's perfect subtrees, biggest first
    rows: list[bytes] = []
    node, push, pop, add = hasher.node, stack.append, stack.pop, rows.append
    n = size
    for leaf in leaves:
        n += 1
        if n & 1:  # an odd count closes no subtree: half the leaves
            push(leaf)
            add(leaf)
            continue
        h, parts, m = leaf, [leaf], n
        while not m & 1:  # the new leaf closed a subtree one level up
            h = node(pop(), h)
            parts.append(h)
            m >>= 1
        push(h)
        add(b"".join(parts))
    return rows


def pick(rows: Mapping[int, bytes], keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """The nodes `keys` out of stored rows (absent where a row is missing or short)."""
    found: dict[NodeKey, bytes] = {}
    for key in keys:
        row, offset = row_of(key)
        blob = rows.get(row)
        if blob is not None and len(blob) >= offset + 32:
            found[key] = blob[offset : offset + 32]
    return found


class MemoryTree:
    """The same storage scheme in a dict, for tests and for the offline witness."""

    def __init__(self, hasher: TreeHasher) -> None:
        self.hasher = hasher
        self.rows: dict[int, bytes] = {}
        self.size = 0
        self.prover = Prover(hasher, lambda keys: pick(self.rows, keys))

    def leaf(self, index: int) -> bytes:
        return self.rows[index][:32]

    def append(self, entries: Iterable[bytes]) -> None:
        leaves = [self.hasher.leaf(e) for e in entries]
        frontier = pick(self.rows, frontier_keys(self.size))
        stack = [frontier[k] for k in frontier_keys(self.size)]
        for i, row in enumerate(extend(self.hasher, self.size, stack, leaves)):
            self.rows[self.size + i] = row
        self.size += len(leaves)
