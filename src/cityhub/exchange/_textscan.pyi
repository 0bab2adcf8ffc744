def scan(stream: object, /) -> list[bytes]:
    """One uint32 per string of an Arrow C stream capsule, per array: length and flags."""
