"""Simulated settlement meter data for a sandbox DISCOM: one day of 15-minute import/export per meter.

Why simulated here: the DISCOM node must answer its ledger provider's pulls with realistic numbers
(rooftop PV that exports at midday, household load peaking morning and evening, weather and noise), and
the same meter on the same day must always give the same numbers, whichever process asks — the seed is
derived from (node seed, meter id, day) with a stable hash, never from Python's randomised `hash()`.

Per block the meter nets load against PV (15-minute net metering): import = max(load − pv, 0), export =
max(pv − load, 0), integer Wh, so a block has import or export, never both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from ies.usecases.p2p.market import BLOCKS_PER_DAY, Block, blocks_of_day

__all__ = ["DayProfile", "simulate_day"]


@dataclass(frozen=True)
class DayProfile:
    meter_id: str
    blocks: tuple[Block, ...]
    import_wh: tuple[int, ...]
    export_wh: tuple[int, ...]


def _rng(seed: int, meter_id: str, day: date) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}|{meter_id}|{day.isoformat()}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def simulate_day(meter_id: str, day: date, *, sanctioned_load_w: int, solar_w: int, seed: int) -> DayProfile:
    """One IST day of a prosumer's (or consumer's, when `solar_w` is 0) metered blocks."""
    rng = _rng(seed, meter_id, day)
    hours = (np.arange(BLOCKS_PER_DAY) + 0.5) / 4  # IST hour at the middle of each block
    shape = (
        0.22 + 0.45 * np.exp(-(((hours - 8.0) / 1.6) ** 2)) + 0.85 * np.exp(-(((hours - 20.5) / 2.0) ** 2))
    )
    load_w = (
        shape * sanctioned_load_w * 0.35 * rng.uniform(0.85, 1.15) * rng.lognormal(0.0, 0.18, BLOCKS_PER_DAY)
    )
    bell = np.clip(np.sin(np.pi * (hours - 6.0) / 12.0), 0.0, None) ** 1.3
    cloud = rng.uniform(0.6, 1.0)
    pv_w = solar_w * 0.82 * bell * cloud * rng.uniform(0.85, 1.0, BLOCKS_PER_DAY)
    net_wh = np.rint((load_w - pv_w) / 4).astype(np.int64)  # W over a quarter hour → Wh
    imports = np.clip(net_wh, 0, None)
    exports = np.clip(-net_wh, 0, None)
    return DayProfile(
        meter_id=meter_id,
        blocks=tuple(blocks_of_day(day)),
        import_wh=tuple(int(v) for v in imports),
        export_wh=tuple(int(v) for v in exports),
    )
