"""The one compiled part: the ledger's batch tree hashing (optional; see _treehash.c)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cityhub.ledger._treehash",
            sources=["src/cityhub/ledger/_treehash.c"],
            libraries=["crypto"],
            optional=True,  # no compiler or OpenSSL headers: merkle.BulkHasher uses hashlib
        )
    ]
)
