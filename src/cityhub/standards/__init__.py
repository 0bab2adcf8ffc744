"""Validators for Chinese national standards used across the platform's data.

Each module offers a scalar check (``is_valid``) and a vectorized one over Polars
(``is_valid_expr`` for an expression, ``validate_series`` for a Series) that agree value for
value; the vectorized forms use Polars expressions only, for millions of values per second.

- ``id_number``: GB 11643-1999 citizen identity numbers
- ``credit_code``: GB 32100-2015 unified social credit codes (with the GB 11714 check)
- ``phone``: mainland China mobile numbers
- ``regions``: GB/T 2260 administrative division codes (shipped code list)
- ``industry``: GB/T 4754-2017 industrial classification
"""

from __future__ import annotations

from cityhub.standards import credit_code, id_number, industry, phone, regions

__all__ = ["credit_code", "id_number", "industry", "phone", "regions"]
