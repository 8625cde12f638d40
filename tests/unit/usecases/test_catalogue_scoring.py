"""Weights parsing, exact totals and competition ranking, including the rubric's properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.usecases.catalogue import (
    InvalidWeights,
    UnknownCriterion,
    Weights,
    competition_ranks,
    load_catalogue,
    load_weights,
    rank_use_cases,
    round3,
    weights_from_mapping,
)

from ._synthetic import synthetic_catalogue

CATALOGUE = load_catalogue()
KEYS = CATALOGUE.criterion_keys

score_rows = st.lists(st.lists(st.integers(0, 10), min_size=8, max_size=8), min_size=2, max_size=12)


def test_competition_ranks_share_the_best_rank_and_skip() -> None:
    assert competition_ranks([Fraction(3), Fraction(2), Fraction(2), Fraction(1)]) == [1, 2, 2, 4]
    assert competition_ranks([1.0, 1.0, 1.0]) == [1, 1, 1]
    assert competition_ranks([]) == []


def test_round3_is_half_up_like_the_published_table() -> None:
    assert round3(Fraction(1235, 10000)) == Decimal("0.124")
    assert round3(Fraction(12349, 100000)) == Decimal("0.123")
    assert round3(Fraction(6, 10)) == Decimal("0.600")


def test_kv_weights_override_defaults_and_accept_numbers_and_percent() -> None:
    w = load_weights(CATALOGUE, "system_impact=30, 2=10%")
    assert w.raw["system_impact"] == 30 and w.raw["consumer_centricity"] == 10
    assert w.raw["value_demand"] == 20  # untouched criteria keep their default
    assert sum(w.normalised.values()) == 1
    assert w.normalised["system_impact"] == Fraction(30, 20 + 10 + 30 + 10 + 8 + 8 + 5 + 9)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("w.yaml", "system_impact: 30\nvalue_demand: 0.5\n"),
        ("w.json", '{"weights": {"system_impact": 30, "value_demand": 0.5}}'),
        ("w.toml", "[weights]\nsystem_impact = 30\nvalue_demand = 0.5\n"),
    ],
)
def test_weights_from_files(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    w = load_weights(CATALOGUE, str(path))
    assert w.raw["system_impact"] == 30 and w.raw["value_demand"] == Fraction(1, 2)


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("value_demand=-1", InvalidWeights, "must not be negative"),
        (",".join(f"{k}=0" for k in KEYS), InvalidWeights, "sum to a positive number"),
        ("value_demand=lots", InvalidWeights, "must be a number"),
        ("value_demand=nan", InvalidWeights, "must be finite"),
        ("value_demand", InvalidWeights, "not found"),
        ("value_demand=", InvalidWeights, "criterion=value"),
        ("popularity=10", UnknownCriterion, "unknown criterion 'popularity'"),
        ("9=10", UnknownCriterion, "unknown criterion"),
    ],
)
def test_bad_weights_are_refused(spec: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        load_weights(CATALOGUE, spec)


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1, 2]", "must be a mapping"), ("{}", "must be a mapping"), ("a: [", "cannot read"),
     ("value_demand: true", "must be a number")],
)  # fmt: skip
def test_bad_weights_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(InvalidWeights, match=message):
        load_weights(CATALOGUE, str(path))


@settings(max_examples=40, deadline=None)
@given(rows=score_rows, criterion=st.sampled_from(KEYS))
def test_weight_concentrated_on_one_criterion_ranks_by_that_criterion(
    rows: list[list[int]], criterion: str
) -> None:
    catalogue = synthetic_catalogue(rows)
    weights = weights_from_mapping(catalogue, {k: (1 if k == criterion else 0) for k in KEYS})
    ranked = {r.use_case.id: r.rank for r in rank_use_cases(catalogue, weights)}
    column = [Fraction(row[KEYS.index(criterion)]) for row in rows]
    assert [ranked[f"uc-{i}"] for i in range(len(rows))] == competition_ranks(column)


@settings(max_examples=40, deadline=None)
@given(rows=score_rows, weights=st.lists(st.integers(0, 50), min_size=8, max_size=8).filter(any))
def test_equal_scores_tie_under_any_weights(rows: list[list[int]], weights: list[int]) -> None:
    rows = [*rows, list(rows[0])]  # the last use case is a copy of the first
    catalogue = synthetic_catalogue(rows)
    w = weights_from_mapping(catalogue, dict(zip(KEYS, weights, strict=True)))
    ranked = {r.use_case.id: r for r in rank_use_cases(catalogue, w)}
    first, copy = ranked["uc-0"], ranked[f"uc-{len(rows) - 1}"]
    assert first.rank == copy.rank and first.total == copy.total and first.tied and copy.tied


@settings(max_examples=30, deadline=None)
@given(rows=score_rows, weights=st.lists(st.integers(0, 50), min_size=8, max_size=8).filter(any),
       scale=st.integers(1, 1000))  # fmt: skip
def test_weights_are_relative(rows: list[list[int]], weights: list[int], scale: int) -> None:
    catalogue = synthetic_catalogue(rows)
    w1 = Weights(dict(zip(KEYS, map(Fraction, weights), strict=True)))
    w2 = Weights({k: v * scale for k, v in w1.raw.items()})
    assert [(r.rank, r.use_case.id, r.total) for r in rank_use_cases(catalogue, w1)] == [
        (r.rank, r.use_case.id, r.total) for r in rank_use_cases(catalogue, w2)
    ]


@settings(max_examples=30, deadline=None)
@given(rows=score_rows)
def test_totals_stay_within_0_and_1_and_ranks_are_consistent(rows: list[list[int]]) -> None:
    ranked = rank_use_cases(synthetic_catalogue(rows), Weights.default(CATALOGUE))
    assert all(0 <= r.total <= 1 for r in ranked)
    for better, worse in pairwise(ranked):
        assert better.total >= worse.total
        assert (better.rank == worse.rank) == (better.total == worse.total)
