"""The demo's prosumers and what they ask for: connections, offers from forecast PV surplus, bids.

Deterministic from a seed. About half the prosumers have rooftop PV and offer a share of their forecast
midday surplus block by block; the others bid for daytime energy up to their expected load at a limit
price above the offers' typical price. Forecasts are the smooth curves behind the meter simulation
(no noise, no clouds), so what is traded differs from what is metered — which is what makes allocation,
deviations and settlement on actuals meaningful.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from ies.usecases.p2p.market import blocks_of_day

__all__ = ["Prosumer", "bids_for", "offers_for", "population"]

DAY_FIRST, DAY_LAST = 28, 70  # blocks 07:00–17:30 IST: when rooftop PV can be traded


@dataclass(frozen=True)
class Prosumer:
    participant_id: str
    meter_id: str
    customer_id: str
    region: str
    platform: str
    sanctioned_load_w: int
    solar_w: int
    aggregator: str = ""  # the aggregator that enrols and trades for this prosumer, if any


def population(
    count: int,
    regions: list[str],
    platforms: list[str],
    seed: int = 42,
    *,
    exchange: bool = False,
    aggregator: tuple[str, str] | None = None,
) -> list[Prosumer]:
    """`count` prosumers, alternating regions, half of them with rooftop PV in each region.

    With `exchange` (the call-auction market), every buyer of a region is on that region's exchange
    platform, so each DISCOM's bids meet in one auction per block; sellers stay on every platform.
    With `aggregator` = (aggregator, its platform), every fifth prosumer of that platform is enrolled
    and traded for by the aggregator.
    """
    rng = random.Random(seed)
    people = []
    for i in range(count):
        region = regions[i % len(regions)]
        platform = platforms[(i // (2 * len(regions))) % len(platforms)]
        load = rng.choice((3000, 4000, 5000, 6000, 8000, 10000))
        solar = (
            rng.choice((3000, 4000, 5000, 6000)) if (i // len(regions)) % 2 == 0 else 0
        )  # both regions sell
        if exchange and not solar:
            platform = platforms[regions.index(region) % len(platforms)]
        agent = aggregator[0] if aggregator and platform == aggregator[1] and i % 5 == 0 else ""
        people.append(
            Prosumer(
                f"P{i + 1:04d}",
                f"M-{region[:1].upper()}{i + 1:05d}",
                f"C{i + 1:06d}",
                region,
                platform,
                load,
                solar,
                agent,
            )
        )
    return people


def _hours(index: int) -> float:
    return (index + 0.5) / 4


def forecast_pv_wh(solar_w: int, index: int) -> int:
    bell = max(math.sin(math.pi * (_hours(index) - 6.0) / 12.0), 0.0) ** 1.3
    return int(solar_w * 0.82 * 0.8 * bell / 4)


def forecast_load_wh(sanctioned_load_w: int, index: int) -> int:
    h = _hours(index)
    shape = 0.22 + 0.45 * math.exp(-(((h - 8.0) / 1.6) ** 2)) + 0.85 * math.exp(-(((h - 20.5) / 2.0) ** 2))
    return int(shape * sanctioned_load_w * 0.35 / 4)


def offers_for(p: Prosumer, day: date, rng: random.Random) -> dict[str, Any] | None:
    """A share of the forecast surplus, the same Wh in each quarter of an hour (sellers offer by the hour)."""
    if not p.solar_w:
        return None
    blocks = list(blocks_of_day(day))
    base_price = rng.randint(380, 520)
    out = []
    for hour_start in range(DAY_FIRST, DAY_LAST, 4):
        quarters = range(hour_start, min(hour_start + 4, DAY_LAST))
        surplus = min(
            forecast_pv_wh(p.solar_w, i) - forecast_load_wh(p.sanctioned_load_w, i) for i in quarters
        )
        qty = int(surplus * 0.7) // 10 * 10
        if qty < 50:
            continue
        midday = abs(_hours(hour_start) - 12.0) < 2
        for index in quarters:
            out.append(
                {
                    "block": blocks[index],
                    "price_paise_per_kwh": base_price - (40 if midday else 0),
                    "available_wh": qty,
                }
            )
    if not out:
        return None
    return {"participant_id": p.participant_id, "source_type": "SOLAR", "blocks": out}


def bids_for(p: Prosumer, day: date, rng: random.Random) -> dict[str, Any] | None:
    """Most of the forecast daytime load, by the hour, up to one limit price."""
    if p.solar_w:
        return None
    blocks = list(blocks_of_day(day))
    limit = rng.randint(450, 700)
    out = []
    for hour_start in range(DAY_FIRST, DAY_LAST, 4):
        quarters = range(hour_start, min(hour_start + 4, DAY_LAST))
        load = min(forecast_load_wh(p.sanctioned_load_w, i) for i in quarters)
        qty = int(load * rng.uniform(0.6, 1.0)) // 10 * 10
        if qty >= 50:
            out += [
                {"block": blocks[i], "quantity_wh": qty, "limit_price_paise_per_kwh": limit} for i in quarters
            ]
    return {"participant_id": p.participant_id, "blocks": out} if out else None
