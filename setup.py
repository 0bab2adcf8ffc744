"""The compiled parts, all optional (a Python, NumPy or Polars twin is used without them):
the ledger's batch tree hashing (_treehash.c), the library's row fingerprints (_rowhash.c)
and the exchange's text scan (_textscan.c); the last two read Polars' strings in place
through the Arrow C interface (_arrow.h)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cityhub.ledger._treehash",
            sources=["src/cityhub/ledger/_treehash.c"],
            libraries=["crypto"],
            optional=True,  # no compiler or OpenSSL headers: merkle.BulkHasher uses hashlib
        ),
        Extension(
            "cityhub.library._rowhash",
            sources=["src/cityhub/library/_rowhash.c"],
            depends=["src/cityhub/_arrow.h"],
            optional=True,  # no compiler: fingerprint.py hashes with NumPy
        ),
        Extension(
            "cityhub.exchange._textscan",
            sources=["src/cityhub/exchange/_textscan.c"],
            depends=["src/cityhub/_arrow.h"],
            optional=True,  # no compiler: canonical.py tests text with Polars
        ),
    ]
)
