"""Estimation of missing and rejected interval values (the E of VEE), as pure functions over arrays.

Why these methods: they are the two every meter data management system offers for interval data and that
regulators accept for settlement. A short gap (≤ `max_interp` intervals, one hour of 15-minute blocks by
default) is bridged by linear interpolation between its valid neighbours. A long gap would flatten a load
curve, so each missing block takes the mean of the same block on the same weekday in other weeks of the
same series (households repeat weekly); when the series is shorter than two weeks the same block of other
days is used instead, and the method says so. Cumulative registers (READING mode) are only ever
interpolated between two valid readings, since a profile of a register is meaningless.

A series is cut into segments at every declared register reset or meter change; an estimate only ever uses
values from its own segment, so nothing is interpolated across a meter change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "METHOD_LINEAR",
    "METHOD_NAMES",
    "METHOD_NONE",
    "METHOD_TIME_OF_DAY",
    "METHOD_WEEKDAY",
    "Estimate",
    "estimate_series",
    "nan_runs",
]

METHOD_NONE, METHOD_LINEAR, METHOD_WEEKDAY, METHOD_TIME_OF_DAY = 0, 1, 2, 3
#: `changeMethod` written on every estimated cell.
METHOD_NAMES: dict[int, str] = {
    METHOD_LINEAR: "linear-interpolation",
    METHOD_WEEKDAY: "same-weekday-profile",
    METHOD_TIME_OF_DAY: "same-time-of-day-profile",
}
#: Longest gap (in intervals) bridged by linear interpolation: one hour of 15-minute blocks.
DEFAULT_MAX_INTERP = 4


@dataclass(frozen=True)
class Estimate:
    """Estimated values (NaN where nothing could be estimated) and the method per position."""

    values: np.ndarray
    method: np.ndarray


def nan_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) index pairs of the True runs of a boolean mask."""
    if not mask.any():
        return []
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def estimate_series(
    y: np.ndarray,
    segment: np.ndarray,
    *,
    per_day: int | None,
    max_interp: int = DEFAULT_MAX_INTERP,
    cumulative: bool = False,
) -> Estimate:
    """Estimate every NaN of `y`, a contiguous series (position i = interval id first + i).

    `segment[i]` numbers the register run position i belongs to (it changes at a reset or meter change);
    `per_day` is the number of intervals in a day (None when the interval does not divide a day).
    """
    n = len(y)
    out = np.full(n, np.nan)
    method = np.zeros(n, dtype=np.int8)
    known = ~np.isnan(y)
    for a, b in nan_runs(~known):
        seg = segment[a]
        left = a - 1 if a > 0 and segment[a - 1] == seg else None
        right = b + 1 if b + 1 < n and segment[b + 1] == seg else None
        length = b - a + 1
        if left is not None and right is not None and (length <= max_interp or cumulative):
            fraction = (np.arange(a, b + 1) - left) / (right - left)
            out[a : b + 1] = y[left] + (y[right] - y[left]) * fraction
            method[a : b + 1] = METHOD_LINEAR
        elif not cumulative and per_day:
            for p in range(a, b + 1):
                _profile_one(y, known, segment, p, per_day, out, method)
    return Estimate(out, method)


def _profile_one(
    y: np.ndarray,
    known: np.ndarray,
    segment: np.ndarray,
    p: int,
    per_day: int,
    out: np.ndarray,
    method: np.ndarray,
) -> None:
    """Mean of the same block in other weeks, else in other days, within p's segment."""
    for stride, code in ((7 * per_day, METHOD_WEEKDAY), (per_day, METHOD_TIME_OF_DAY)):
        candidates = np.concatenate(
            (np.arange(p - stride, -1, -stride), np.arange(p + stride, len(y), stride))
        )
        if not len(candidates):
            continue
        usable = candidates[known[candidates] & (segment[candidates] == segment[p])]
        if len(usable):
            out[p] = float(np.mean(y[usable]))
            method[p] = code
            return
