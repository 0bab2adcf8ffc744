def hash_block(points: object, width: int, lengths: object, /) -> bytes:
    """n uint64 fingerprints of n rows of `width` UCS-4 code points (buffers)."""
