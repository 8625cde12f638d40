"""Weights and the weighted ranking of §7.1 / Annexure 4, in exact arithmetic.

Why exact (`fractions.Fraction`): Annexure 4 publishes totals to three decimals and many use cases tie
exactly (eleven at 0.606). Floating point would split those ties by rounding noise and make the ranking
depend on summation order; with fractions a tie is a tie and the published totals are reproduced exactly.

Total = Σ wᵢ·sᵢ / (10 · Σ wᵢ): the weighted mean score scaled to 0–1. Weights are relative (20/20/… or
0.2/0.2/… rank the same), so any non-negative vector with a positive sum is accepted and renormalised.
Ranks are competition ranks ("1224"): tied use cases share the best rank and the next rank is skipped.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from ies.usecases.catalogue._errors import InvalidWeights, UnknownCriterion
from ies.usecases.catalogue._model import Catalogue, UseCase

__all__ = [
    "RankedUseCase",
    "Weights",
    "competition_ranks",
    "load_weights",
    "rank_use_cases",
    "round3",
    "weighted_total",
]


@dataclass(frozen=True)
class Weights:
    """Relative criterion weights, one per criterion key, as exact fractions."""

    raw: dict[str, Fraction]

    def __post_init__(self) -> None:
        if any(w < 0 for w in self.raw.values()):
            bad = ", ".join(f"{k}={float(w):g}" for k, w in self.raw.items() if w < 0)
            raise InvalidWeights(f"weights must not be negative: {bad}")
        if sum(self.raw.values()) <= 0:
            raise InvalidWeights("weights must sum to a positive number (all are zero)")

    @classmethod
    def default(cls, catalogue: Catalogue) -> Weights:
        """The published weights 20/20/20/10/8/8/5/9 % (Annexure 4)."""
        return cls({c.key: Fraction(c.default_weight_percent) for c in catalogue.criteria})

    @property
    def normalised(self) -> dict[str, Fraction]:
        total = sum(self.raw.values())
        return {k: w / total for k, w in self.raw.items()}

    def percent(self) -> dict[str, float]:
        """Normalised weights in per cent, for display and JSON."""
        return {k: round(float(w * 100), 4) for k, w in self.normalised.items()}

    def scaled(self, key: str, factor: Fraction) -> Weights:
        return Weights({k: w * factor if k == key else w for k, w in self.raw.items()})


def _number(value: Any, where: str) -> Fraction:
    """An exact fraction from a weight given as int, float or text ("20", "0.2", "20%")."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidWeights(f"weight for {where} must be a number, got {value!r}")
    text = str(value).strip().removesuffix("%").strip()
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise InvalidWeights(f"weight for {where} must be a number, got {value!r}") from None
    if not dec.is_finite():
        raise InvalidWeights(f"weight for {where} must be finite, got {value!r}")
    return Fraction(dec)


def _criterion_key(catalogue: Catalogue, name: str) -> str:
    wanted = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    for c in catalogue.criteria:
        if wanted in (c.key, str(c.number)):
            return c.key
    raise UnknownCriterion(
        f"unknown criterion {name!r}; use one of: {', '.join(catalogue.criterion_keys)} (or 1–8)",
        details={"criterion": str(name)},
    )


def weights_from_mapping(catalogue: Catalogue, given: Mapping[str, Any]) -> Weights:
    """Defaults overridden by `given` (criterion key or number -> relative weight), then checked.

    Criteria not named keep their default weight, so `system_impact=30` means "raise system impact to 30
    while the others stay at their published values" (and all are renormalised together).
    """
    raw = dict(Weights.default(catalogue).raw)
    for name, value in given.items():
        key = _criterion_key(catalogue, name)
        raw[key] = _number(value, key)
    return Weights(raw)


def load_weights(catalogue: Catalogue, spec: str | None) -> Weights:
    """Weights from `--weights`: None (defaults), `k=v,k=v`, or a YAML/JSON/TOML file of k: v."""
    if spec is None or not spec.strip():
        return Weights.default(catalogue)
    path = Path(spec)
    if "=" in spec and not path.exists():
        pairs: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, value = item.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise InvalidWeights(f"weights must be written criterion=value, got {item!r}")
            pairs[name.strip()] = value.strip()
        return weights_from_mapping(catalogue, pairs)
    if not path.is_file():
        raise InvalidWeights(f"weights file {spec!r} not found (or give criterion=value pairs)")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise InvalidWeights(f"cannot read weights file {spec!r}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("weights"), dict):
        data = data["weights"]
    if not isinstance(data, dict) or not data:
        raise InvalidWeights(f"weights file {spec!r} must be a mapping of criterion: weight")
    return weights_from_mapping(catalogue, data)


def weighted_total(scores: Mapping[str, Decimal | Fraction | int], weights: Weights) -> Fraction:
    """Σ wᵢ·sᵢ / (10·Σ wᵢ): the 0–1 total of Annexure 4, exact."""
    norm = weights.normalised
    return sum((w * Fraction(scores[k]) for k, w in norm.items()), Fraction(0)) / 10


def round3(total: Fraction) -> Decimal:
    """Three decimals, half up, as Annexure 4 prints totals."""
    return (Decimal(total.numerator) / Decimal(total.denominator)).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP
    )


def competition_ranks(values: Sequence[Fraction | float]) -> list[int]:
    """Rank 1 for the largest; equal values share the best rank and the next rank is skipped."""
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    ranks = [0] * len(values)
    for pos, i in enumerate(order):
        prev = order[pos - 1] if pos else None
        ranks[i] = ranks[prev] if prev is not None and values[prev] == values[i] else pos + 1
    return ranks


@dataclass(frozen=True)
class RankedUseCase:
    rank: int
    use_case: UseCase
    total: Fraction
    tied: bool

    def to_dict(self) -> dict[str, Any]:
        uc = self.use_case
        return {
            "rank": self.rank,
            "tied": self.tied,
            "id": uc.id,
            "number": uc.number,
            "name": uc.name,
            "total": float(round3(self.total)),
            "scores": {k: _plain(v) for k, v in uc.scores.items()},
            "stakeholders": list(uc.stakeholders),
        }


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def rank_use_cases(catalogue: Catalogue, weights: Weights) -> list[RankedUseCase]:
    """Every use case of `catalogue` with its total and competition rank, best first.

    Within a tie the Annexure 4 order is kept (then the id), so with the default weights the list reads
    exactly like the published table.
    """
    ucs = catalogue.use_cases
    totals = [weighted_total(u.scores, weights) for u in ucs]
    ranks = competition_ranks(totals)
    counts: dict[int, int] = {}
    for r in ranks:
        counts[r] = counts.get(r, 0) + 1
    rows = [RankedUseCase(ranks[i], ucs[i], totals[i], counts[ranks[i]] > 1) for i in range(len(ucs))]
    return sorted(rows, key=lambda r: (r.rank, r.use_case.annexure_4_position or math.inf, r.use_case.id))
