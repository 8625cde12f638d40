"""The sensitivity check of §7.1.2: is the top-N ranking driven by a single assumption?

Two complementary readings:

(a) One at a time, in exact arithmetic: every single score moved by ±`perturb` (clamped to 0–10) and
    every single weight scaled by 1 ± `jitter` (then all weights renormalised). For each change we record
    which use cases enter or leave the top N, and every rank move inside it. The single assumption the
    top N is most sensitive to is the change that swaps the most use cases in or out of it; when no change
    alters membership (the published top 10 is that robust), the one that reorders it most, then the one
    that displaces ranks most overall.

(b) Monte Carlo: each sample draws every weight as wᵢ·U(1−jitter, 1+jitter) (renormalised) and every score
    as sᵢ + U(−perturb, +perturb) clamped to 0–10, and ranks all use cases. We report per use case the
    probability of being in the top N and the 90 % rank interval (5th–95th percentile rank). numpy's PCG64
    generator seeded with `seed` makes a run reproducible; totals are rounded to 12 decimals before
    ranking so that floating-point noise cannot split a genuine tie.

"Top N" means rank ≤ N under competition ranking, so a tie at the boundary keeps every tied use case in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from ies.errors import UsageError
from ies.usecases.catalogue._model import Catalogue
from ies.usecases.catalogue._scoring import Weights, competition_ranks, rank_use_cases, weighted_total

__all__ = [
    "MonteCarlo",
    "OneAtATime",
    "Perturbation",
    "check_parameters",
    "monte_carlo",
    "one_at_a_time",
]

#: Samples per vectorised batch: bounds memory (batch × n² booleans) and fixes the draw order, so results
#: depend only on the seed and the parameters.
BATCH: Final = 1000


def check_parameters(top_n: int, perturb: float, jitter: float, samples: int | None = None) -> None:
    if top_n < 1:
        raise UsageError(f"--top must be at least 1, got {top_n}")
    if not 0 <= perturb <= 10:
        raise UsageError(f"--perturb must be between 0 and 10 score points, got {perturb}")
    if not 0 <= jitter < 1:
        raise UsageError(f"--weight-jitter must be at least 0 and below 1 (a fraction), got {jitter}")
    if samples is not None and samples < 1:
        raise UsageError(f"--samples must be at least 1, got {samples}")


@dataclass(frozen=True)
class Move:
    id: str
    name: str
    rank_before: int
    rank_after: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "rank_before": self.rank_before,
            "rank_after": self.rank_after,
        }


@dataclass(frozen=True)
class Perturbation:
    """One single change of assumption and what it does to the top N."""

    kind: str  # "score" or "weight"
    criterion: str
    use_case_id: str | None
    before: Fraction  # the score, or the weight in per cent of the total
    after: Fraction
    moved: tuple[Move, ...]
    entered: tuple[Move, ...]
    left: tuple[Move, ...]
    top_shift: int
    total_shift: int

    @property
    def swaps(self) -> int:
        """Use cases entering plus leaving the top N."""
        return len(self.entered) + len(self.left)

    @property
    def influence(self) -> tuple[int, int, int]:
        """Ordering key: membership changes first, then reordering inside the top N, then all ranks."""
        return (self.swaps, self.top_shift, self.total_shift)

    def describe(self, catalogue: Catalogue) -> str:
        if self.kind == "weight":
            return (
                f"weight of {self.criterion} {float(self.before):.4g}% → {float(self.after):.4g}% "
                "(the others rescaled to keep 100 %)"
            )
        name = catalogue.find(self.use_case_id or "").name
        return f"{self.criterion} score of {name!r} {float(self.before):g} → {float(self.after):g}"

    def to_dict(self, catalogue: Catalogue) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "criterion": self.criterion,
            "use_case": self.use_case_id,
            "before": float(self.before),
            "after": float(self.after),
            "unit": "percent of total weight" if self.kind == "weight" else "score points",
            "description": self.describe(catalogue),
            "entered_top_n": [m.to_dict() for m in self.entered],
            "left_top_n": [m.to_dict() for m in self.left],
            "moved_in_top_n": [m.to_dict() for m in self.moved],
            "top_n_rank_shift": self.top_shift,
            "total_rank_shift": self.total_shift,
        }


@dataclass
class OneAtATime:
    top_n: int
    evaluated: int
    changes: list[Perturbation]
    most_influential: Perturbation | None
    equally_influential: int
    per_use_case: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self, catalogue: Catalogue) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "changing_top_n_membership": sum(1 for c in self.changes if c.swaps),
            "reordering_top_n": len(self.changes),
            "most_influential": self.most_influential.to_dict(catalogue) if self.most_influential else None,
            "equally_influential": self.equally_influential,
            "changes": [c.to_dict(catalogue) for c in self.changes],
            "per_use_case": self.per_use_case,
        }


def _outcome(catalogue: Catalogue, base: list[int], totals: list[Fraction], top_n: int) -> dict[str, Any]:
    """What one changed set of totals does to the top N, compared with the base ranks."""
    ranks = competition_ranks(totals)
    ucs = catalogue.use_cases
    moved = tuple(
        Move(ucs[i].id, ucs[i].name, base[i], ranks[i])
        for i in range(len(ucs))
        if ranks[i] != base[i] and min(ranks[i], base[i]) <= top_n
    )
    return {
        "moved": moved,
        "entered": tuple(m for m in moved if m.rank_after <= top_n < m.rank_before),
        "left": tuple(m for m in moved if m.rank_before <= top_n < m.rank_after),
        "top_shift": sum(abs(m.rank_after - m.rank_before) for m in moved),
        "total_shift": sum(abs(r - b) for r, b in zip(ranks, base, strict=True)),
    }


def one_at_a_time(
    catalogue: Catalogue, weights: Weights, top_n: int, perturb: float, jitter: float
) -> OneAtATime:
    """Every single score ±perturb and every single weight ×(1±jitter); see the module docstring."""
    check_parameters(top_n, perturb, jitter)
    ucs = catalogue.use_cases
    step = Fraction(Decimal(str(perturb)))
    factor = Fraction(Decimal(str(jitter)))
    base_totals = [weighted_total(u.scores, weights) for u in ucs]
    base = competition_ranks(base_totals)
    found: list[Perturbation] = []
    evaluated = 0
    for key in catalogue.criterion_keys:
        for f in (1 + factor, 1 - factor):
            if f == 1:
                continue
            changed = weights.scaled(key, f)
            totals = [weighted_total(u.scores, changed) for u in ucs]
            evaluated += 1
            found.append(
                Perturbation(
                    "weight",
                    key,
                    None,
                    weights.normalised[key] * 100,
                    changed.normalised[key] * 100,
                    **_outcome(catalogue, base, totals, top_n),
                )
            )
    norm = weights.normalised
    for i, uc in enumerate(ucs):
        for key in catalogue.criterion_keys:
            old = Fraction(uc.scores[key])
            for new in (min(old + step, Fraction(10)), max(old - step, Fraction(0))):
                if new == old:
                    continue
                totals = list(base_totals)
                totals[i] = base_totals[i] + norm[key] * (new - old) / 10
                evaluated += 1
                found.append(
                    Perturbation("score", key, uc.id, old, new, **_outcome(catalogue, base, totals, top_n))
                )
    changes = [p for p in found if p.moved]
    best = max(changes, key=lambda p: p.influence, default=None)
    ties = sum(1 for p in changes if best and p.influence == best.influence) - 1
    per_uc: dict[str, dict[str, int]] = {}
    for p in changes:
        for m in p.moved:
            row = per_uc.setdefault(m.id, {"enters_top_n": 0, "leaves_top_n": 0, "max_rank_shift": 0})
            row["enters_top_n"] += m in p.entered
            row["leaves_top_n"] += m in p.left
            row["max_rank_shift"] = max(row["max_rank_shift"], abs(m.rank_after - m.rank_before))
    return OneAtATime(top_n, evaluated, changes, best, max(ties, 0), per_uc)


def rank_percentile(counts: Any, percent: int) -> list[int]:
    """Per row of a rank histogram, the smallest rank r with P(rank ≤ r) ≥ percent/100.

    The inverse of the empirical distribution function (Hyndman & Fan type 1, numpy's "inverted_cdf"), in
    integers so that the 5th percentile of 10 000 samples is exactly the 500th smallest rank.
    """
    import numpy as np

    cumulative = np.cumsum(counts, axis=1)
    total = int(cumulative[0, -1])
    need = -(-percent * total // 100)  # ceil(percent · total / 100), exactly
    return [int(np.argmax(row >= need)) for row in cumulative]


@dataclass
class MonteCarlo:
    samples: int
    seed: int
    top_n: int
    perturb: float
    jitter: float
    ids: list[str]
    base_rank: dict[str, int]
    p_top: dict[str, float]
    rank_low: dict[str, int]
    rank_median: dict[str, int]
    rank_high: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "seed": self.seed,
            "perturb": self.perturb,
            "weight_jitter": self.jitter,
            "use_cases": [
                {
                    "id": i,
                    "base_rank": self.base_rank[i],
                    "p_top_n": self.p_top[i],
                    "rank_p05": self.rank_low[i],
                    "rank_median": self.rank_median[i],
                    "rank_p95": self.rank_high[i],
                }
                for i in self.ids
            ],
        }


def monte_carlo(
    catalogue: Catalogue,
    weights: Weights,
    *,
    top_n: int,
    perturb: float,
    jitter: float,
    samples: int,
    seed: int,
) -> MonteCarlo:
    """Probability of being in the top N and 90 % rank interval under random weights and scores."""
    import numpy as np

    check_parameters(top_n, perturb, jitter, samples)
    ucs = catalogue.use_cases
    keys = catalogue.criterion_keys
    n, k = len(ucs), len(keys)
    scores = np.array([[float(u.scores[c]) for c in keys] for u in ucs], dtype=np.float64).reshape(n, k)
    norm = weights.normalised
    w = np.array([float(norm[c]) for c in keys], dtype=np.float64)
    rng = np.random.default_rng(seed)
    # counts[i, r]: samples in which use case i had rank r. Memory stays n² whatever --samples is.
    counts = np.zeros((n, n + 1), dtype=np.int64)
    offsets = np.arange(n) * (n + 1)
    done = 0
    while done < samples:
        m = min(BATCH, samples - done)
        factors = rng.uniform(1 - jitter, 1 + jitter, size=(m, k)) if jitter else np.ones((m, k))
        sampled_w = w * factors
        sampled_w /= sampled_w.sum(axis=1, keepdims=True)
        noisy = (
            scores + rng.uniform(-perturb, perturb, size=(m, n, k))
            if perturb
            else np.broadcast_to(scores, (m, n, k))
        )
        noisy = np.clip(noisy, 0.0, 10.0)
        totals = np.zeros((m, n))
        for c in range(k):  # elementwise per criterion: identical inputs give bit-identical totals
            totals += sampled_w[:, c, None] * noisy[:, :, c]
        totals = np.round(totals / 10, 12)
        ranks = 1 + (totals[:, None, :] > totals[:, :, None]).sum(axis=2)
        counts += np.bincount((ranks + offsets).ravel(), minlength=n * (n + 1)).reshape(n, n + 1)
        done += m
    low, median, high = (rank_percentile(counts, pct) for pct in (5, 50, 95))
    in_top = counts[:, : top_n + 1].sum(axis=1) / samples
    ranked = rank_use_cases(catalogue, weights)
    base = {r.use_case.id: r.rank for r in ranked}
    ids = [u.id for u in ucs]
    return MonteCarlo(
        samples=samples,
        seed=seed,
        top_n=top_n,
        perturb=perturb,
        jitter=jitter,
        ids=[r.use_case.id for r in ranked],  # reported best first, like the ranking
        base_rank=base,
        p_top={i: round(float(in_top[j]), 4) for j, i in enumerate(ids)},
        rank_low={i: low[j] for j, i in enumerate(ids)},
        rank_median={i: median[j] for j, i in enumerate(ids)},
        rank_high={i: high[j] for j, i in enumerate(ids)},
    )
