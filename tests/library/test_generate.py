"""The synthetic population: valid, unique ID numbers, Linyi's sex ratio and county
shares, departments with the configured share of bad rows, reproducible by seed."""

from __future__ import annotations

import numpy as np
import polars as pl

from cityhub.library.generate import COUNTY_CODES, COUNTY_WEIGHTS, Population, departments
from cityhub.library.generate_world import Entities
from cityhub.standards import credit_code, id_number, industry, phone


def people(n: int = 30_000, seed: int = 7, chunk_rows: int = 10_000) -> pl.DataFrame:
    return pl.concat(list(Population(n, seed, chunk_rows).chunks()))


def test_ids_are_valid_unique_and_match_sex_and_birth_date() -> None:
    frame = people()
    ids = frame.get_column("gmsfhm")
    assert id_number.validate_series(ids).all()
    assert ids.n_unique() == frame.height  # unique across chunks
    assert ids.str.slice(0, 6).is_in(list(COUNTY_CODES)).all()
    odd = ids.str.slice(16, 1).cast(pl.Int64) % 2 == 1
    assert (odd == (frame.get_column("xb") == "1")).all()
    assert (ids.str.slice(6, 8) == frame.get_column("csrq").dt.strftime("%Y%m%d")).all()
    assert phone.validate_series(frame.get_column("lxdh").drop_nulls()).all()


def test_sex_ratio_age_and_county_shares_are_linyi_like() -> None:
    frame = people()
    assert abs((frame.get_column("xb") == "1").mean() - 0.51) < 0.01  # type: ignore[operator]
    shares = frame.group_by("hjqh").len().sort("hjqh")
    observed = dict(zip(shares["hjqh"], shares["len"] / frame.height, strict=True))
    for code, expected in zip(COUNTY_CODES, COUNTY_WEIGHTS, strict=True):
        assert abs(observed[code] - expected) < 0.01, code
    age = (np.datetime64("2024-12-31") - frame.get_column("csrq").to_numpy()).astype(int) / 365.25
    assert 0.17 < (age < 15).mean() < 0.23
    assert 0.17 < (age >= 60).mean() < 0.24


def test_reproducible_by_seed() -> None:
    assert people(5000, seed=1).equals(people(5000, seed=1))
    assert not people(5000, seed=1).equals(people(5000, seed=2))


def test_departments_overlap_and_spoil_the_configured_share() -> None:
    frame = people(20_000)
    rng = np.random.default_rng(1)
    split = departments(rng, frame, bad_rate=0.05)
    for name, (rows, bad) in split.items():
        valid = id_number.validate_series(rows.get_column("gmsfhm"))
        fifteen = rows.get_column("gmsfhm").str.len_chars() == 15
        dates_ok = (
            rows.get_column("csrq").str.to_date("%Y-%m-%d", strict=False).is_not_null()
            if "csrq" in rows.columns
            else pl.Series([True] * rows.height)
        )
        regions_ok = (
            rows.get_column("hjqh") != "371399"
            if "hjqh" in rows.columns
            else pl.Series([True] * rows.height)
        )
        spoiled = int((~((valid | fifteen) & dates_ok & regions_ok)).sum())
        assert spoiled == bad, name
        assert abs(bad / rows.height - 0.05) < 0.02, name
    ga, mz, rs = split["ga"][0], split["mz"][0], split["rs"][0]
    shared = mz.get_column("gmsfhm").is_in(ga.get_column("gmsfhm").implode()).mean()
    assert shared > 0.9  # 民政 and 公安 know mostly the same people
    assert rs.height > 0.6 * ga.height


def test_entities_have_valid_unique_credit_codes() -> None:
    firms = pl.concat(list(Entities(3000, seed=5, chunk_rows=1000).chunks()))
    codes = firms.get_column("tyshxydm")
    assert credit_code.validate_series(codes).all()
    assert codes.n_unique() == firms.height
    assert industry.validate_series(firms.get_column("hydm")).all()
