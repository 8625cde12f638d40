"""k-anonymity of every anonymised release: an attacker tries to single out a consumer and must fail.

The attacker knows every consumer's identity, feeder and category (the quasi-identifiers) and sees the
release. It wins if it finds (1) a consumer id in the release, (2) a released cell covering fewer than k
consumers, or a count that misstates how many it covers, (3) two cells of the same period whose consumer
sets differ by exactly one consumer (differencing), or (4) a cell dominated by one consumer's energy.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import UsageError
from ies.policy.anonymise import (
    Reading,
    Release,
    anonymised_load_profiles,
    assert_k_anonymous,
    feeder_aggregates,
)

T0 = datetime(2026, 11, 1, 18, 30, tzinfo=UTC)
ids = st.text(alphabet="ghjkmnpqrstvwxyz", min_size=10, max_size=10)


@st.composite
def populations(draw: st.DrawFn) -> list[Reading]:
    """6 to 60 consumers on 1–3 feeders, mostly present in every block, some large users among them."""
    consumers = draw(st.lists(ids, min_size=6, max_size=60, unique=True))
    feeders = draw(st.integers(1, 3))
    blocks = draw(st.integers(1, 3))
    readings = []
    for i, consumer in enumerate(consumers):
        feeder = f"FDR-{draw(st.integers(0, feeders - 1))}"
        category = draw(st.sampled_from(["DOMESTIC", "COMMERCIAL", "AGRI"]))
        present = range(blocks) if i % 4 else draw(st.sets(st.integers(0, blocks - 1), min_size=1))
        for b in present:
            wh = draw(st.integers(0, 20_000) if i % 11 else st.integers(50_000, 500_000))
            readings.append(Reading(consumer, feeder, category, T0 + timedelta(minutes=15 * b), wh))
    return readings


def single_out(release: Release, readings: list[Reading], k: int, dominance: float) -> str | None:
    """The attacker: a consumer it can isolate from the release, or None."""
    text = json.dumps(release.to_json())
    for consumer in {r.consumer_id for r in readings}:
        if consumer in text:
            return f"identity {consumer} published"
    energy: dict[tuple[str, str], int] = {}
    for r in readings:
        key = (r.consumer_id, r.interval_start.strftime("%Y-%m-%dT%H:%M:%SZ"))
        energy[key] = energy.get(key, 0) + r.energy_wh
    for row, members in zip(release.rows, release.contributors, strict=True):
        if len(members) < k or row["consumers"] != len(members):
            return f"cell of {len(members)} consumers"
        if release.kind == "feeder-load-aggregates":
            values = [energy[(m, row["intervalStart"])] for m in members]
            if sum(values) > 0 and max(values) > dominance * sum(values):
                return "dominated cell"
    period = lambda row: row.get("intervalStart", "profile")  # noqa: E731
    for (r1, m1), (r2, m2) in itertools.combinations(zip(release.rows, release.contributors, strict=True), 2):
        if period(r1) == period(r2) and len(m1 ^ m2) == 1:
            return f"differencing isolates {next(iter(m1 ^ m2))}"
    return None


@settings(max_examples=80, deadline=None)
@given(readings=populations(), k=st.integers(2, 12))
def test_no_consumer_can_be_singled_out_of_feeder_aggregates(readings: list[Reading], k: int) -> None:
    release = feeder_aggregates(readings, k=k)
    assert single_out(release, readings, k, 0.5) is None
    assert_k_anonymous(release, k)


@settings(max_examples=80, deadline=None)
@given(readings=populations(), k=st.integers(2, 12))
def test_no_consumer_can_be_singled_out_of_load_profiles(readings: list[Reading], k: int) -> None:
    release = anonymised_load_profiles(readings, k=k)
    assert single_out(release, readings, k, 0.5) is None
    groups = list(release.contributors)
    assert all(not (a & b) for a, b in itertools.combinations(groups, 2)), "classes must partition consumers"


@settings(max_examples=40, deadline=None)
@given(readings=populations())
def test_cells_that_can_be_released_are_released(readings: list[Reading]) -> None:
    """Suppression withholds exactly the small or dominated cells (the release stays useful)."""
    release = feeder_aggregates(readings, k=10)
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for r in readings:
        cell = cells.setdefault((r.feeder_id, r.interval_start.strftime("%Y-%m-%dT%H:%M:%SZ")), {})
        cell[r.consumer_id] = cell.get(r.consumer_id, 0) + r.energy_wh
    ok = {
        key
        for key, values in cells.items()
        if len(values) >= 10
        and (sum(values.values()) == 0 or max(values.values()) <= 0.5 * sum(values.values()))
    }
    assert {(row["feederId"], row["intervalStart"]) for row in release.rows} == ok
    assert release.suppressed_cells == len(cells) - len(ok)
    for row in release.rows:
        assert row["energyWh"] == sum(cells[(row["feederId"], row["intervalStart"])].values())


def test_small_classes_are_pooled_before_they_are_suppressed() -> None:
    readings = [
        Reading(f"c{i:03d}", "FDR-1", "DOMESTIC" if i < 12 else f"RARE{i}", T0, 100 + i) for i in range(24)
    ]
    release = anonymised_load_profiles(readings, k=10)
    assert [(r["category"], r["consumers"]) for r in release.rows] == [("DOMESTIC", 12), ("OTHER", 12)]
    assert release.suppressed_cells == 0
    assert len(release.rows[0]["profileWh"]) == 96
    assert release.rows[0]["profileWh"][0] == round(sum(100 + i for i in range(12)) / 12)  # 00:00 IST block


def test_parameters_and_releases_are_checked() -> None:
    with pytest.raises(UsageError, match="k must be"):
        feeder_aggregates([], k=1)
    with pytest.raises(UsageError, match="dominance"):
        feeder_aggregates([], dominance=0)
    with pytest.raises(UsageError, match="fewer than k"):
        assert_k_anonymous({"rows": [{"consumers": 3}]}, 10)
    with pytest.raises(UsageError, match="rows"):
        assert_k_anonymous({}, 10)
    with pytest.raises(UsageError, match="timezone"):
        feeder_aggregates([Reading("a", "f", "c", datetime(2026, 1, 1), 1)])
