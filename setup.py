"""The compiled parts, both optional (a pure Python and NumPy twin is used without them):
the ledger's batch tree hashing (_treehash.c) and the library's row fingerprints
(_rowhash.c)."""

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
            optional=True,  # no compiler: fingerprint.py hashes with NumPy
        ),
    ]
)
