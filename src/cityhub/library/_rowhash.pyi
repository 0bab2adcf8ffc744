def hash_block(points: object, width: int, lengths: object, /) -> bytes:
    """n uint64 fingerprints of n rows of `width` UCS-4 code points (buffers)."""

def hash_arrow(stream: object, /) -> list[bytes]:
    """uint64 fingerprints of the strings of an Arrow C stream capsule, per array."""
