"""Public databases (公共数据库): the physical tables behind published tabular resources.

`datastore` keeps one table per resource (named after the resource code) and is the one
door through which rows are written (exchange, demo) and read (the gateway's rows API).
"""

from __future__ import annotations

from cityhub.library import datastore

__all__ = ["datastore"]
