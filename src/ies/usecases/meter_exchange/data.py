"""The data provider's side of the records: which meters belong to which consumer, and their readings.

Why a synthetic source behind a small interface: a DISCOM serves from its MDMS; the sandbox has none, so
`SyntheticMeterData` derives every reading deterministically from (seed, meter, day) — the same request
always returns the same numbers, in any process, which is what the tests and a dispute replay need. A
real deployment replaces it with an MDMS adapter with the same two methods.

Units: energy in integer Wh internally (written as kWh with three decimals on the wire, as IES MeterData
does); 15-minute intervals aligned to UTC; daily cumulative registers read at 00:00 UTC. Consumers import
along an IST day curve (morning and evening peaks); prosumers also export a rooftop-PV bell between 06:00
and 18:00 IST.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from ies.consent.artefact import ConsentArtefact
from ies.errors import UsageError

__all__ = ["STEP", "Customer", "Customers", "MeterDataSource", "SyntheticMeterData"]

STEP = timedelta(minutes=15)
READS_PER_DAY = 96
REFERENCE_DAY = date(2025, 1, 1)
"""Cumulative registers count from this day (their reading there is the meter's base value)."""

INTERVAL_REGISTERS = ("kWh imp block", "kWh exp block")
DAILY_REGISTERS = ("kWh imp", "kWh exp")


@dataclass(frozen=True)
class Customer:
    number: str
    did: str | None
    meters: tuple[str, ...]
    prosumer: bool = False


@dataclass
class Customers:
    """The provider's customer records: consumer number → did:key (if bound) and meters."""

    by_number: dict[str, Customer] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, raw: Any) -> Customers:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise UsageError("settings.meter_exchange.customers maps consumer numbers to {did, meters}")
        out = cls()
        for number, entry in raw.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("meters"), list):
                raise UsageError(f"settings.meter_exchange.customers.{number} needs meters = [...]")
            out.by_number[str(number)] = Customer(
                str(number),
                entry.get("did"),
                tuple(str(m) for m in entry["meters"]),
                bool(entry.get("prosumer")),
            )
        return out

    def owner_of(self, meter: str) -> Customer | None:
        return next((c for c in self.by_number.values() if meter in c.meters), None)

    def is_prosumer(self, meter: str) -> bool:
        owner = self.owner_of(meter)
        return bool(owner and owner.prosumer)

    def owns(self, artefact: ConsentArtefact, meter: str) -> bool:
        """Does `meter` belong to the consent's principal (by consumer number and, if bound, did:key)?"""
        owner = self.owner_of(meter)
        if owner is None:
            return False
        if artefact.principal_number is not None:
            did_agrees = (
                artefact.principal_did is None or owner.did is None or owner.did == artefact.principal_did
            )
            return artefact.principal_number == owner.number and did_agrees
        return owner.did is not None and owner.did == artefact.principal_did


class MeterDataSource(Protocol):
    def interval_wh(self, meter: str, start: datetime, count: int) -> dict[str, list[int]]:
        """Per interval register, `count` 15-minute energies (Wh) from `start` (UTC, on a 15-min boundary)."""
        ...

    def daily_register_wh(self, meter: str, day: date) -> dict[str, int]:
        """Per daily register, its cumulative reading (Wh) at 00:00 UTC of `day`."""
        ...


def _rng(seed: int, meter: str, day: date, stream: str) -> np.random.Generator:
    digest = hashlib.blake2b(f"{seed}|{meter}|{day.isoformat()}|{stream}".encode(), digest_size=16).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


class SyntheticMeterData:
    """Deterministic readings for the meters in `customers`."""

    def __init__(self, customers: Customers, seed: int = 1):
        self.customers = customers
        self.seed = seed
        self._totals: dict[tuple[str, date], tuple[int, int]] = {}  # (meter, day) → Wh imported, exported

    def _day_wh(self, meter: str, day: date) -> dict[str, np.ndarray]:
        """The 96 interval energies (Wh) of one UTC day, import and export."""
        rng = _rng(self.seed, meter, day, "load")
        hours = (np.arange(READS_PER_DAY) * 0.25 + 5.5) % 24  # IST hour of each UTC interval
        curve = 0.35 + 0.25 * np.exp(-((hours - 8.0) ** 2) / 4) + 0.55 * np.exp(-((hours - 20.5) ** 2) / 5)
        load_w = curve * rng.uniform(800, 2200) * rng.lognormal(0.0, 0.15, READS_PER_DAY)
        imp = np.rint(load_w / 4).astype(np.int64)
        exp = np.zeros(READS_PER_DAY, dtype=np.int64)
        if self.customers.is_prosumer(meter):
            sun = np.clip(np.sin((hours - 6.0) / 12.0 * math.pi), 0, None)
            pv_w = sun * 3000 * _rng(self.seed, meter, day, "sky").uniform(0.4, 1.0)
            net = load_w - pv_w
            imp = np.rint(np.clip(net, 0, None) / 4).astype(np.int64)
            exp = np.rint(np.clip(-net, 0, None) / 4).astype(np.int64)
        return {"kWh imp block": imp, "kWh exp block": exp}

    def interval_wh(self, meter: str, start: datetime, count: int) -> dict[str, list[int]]:
        start = start.astimezone(UTC)
        out: dict[str, list[int]] = {r: [] for r in INTERVAL_REGISTERS}
        day = start.date()
        slot = (start.hour * 60 + start.minute) // 15
        while len(out[INTERVAL_REGISTERS[0]]) < count:
            values = self._day_wh(meter, day)
            take = min(READS_PER_DAY - slot, count - len(out[INTERVAL_REGISTERS[0]]))
            for register in INTERVAL_REGISTERS:
                out[register].extend(int(v) for v in values[register][slot : slot + take])
            day += timedelta(days=1)
            slot = 0
        return out

    def _day_totals(self, meter: str, day: date) -> tuple[int, int]:
        key = (meter, day)
        hit = self._totals.get(key)
        if hit is None:
            values = self._day_wh(meter, day)
            hit = self._totals[key] = (int(values["kWh imp block"].sum()), int(values["kWh exp block"].sum()))
        return hit

    def daily_register_wh(self, meter: str, day: date) -> dict[str, int]:
        if day < REFERENCE_DAY:
            raise UsageError(f"no readings before {REFERENCE_DAY.isoformat()}")
        base = int.from_bytes(
            hashlib.blake2b(f"{self.seed}|{meter}|base".encode(), digest_size=4).digest(), "big"
        )
        imp, exp = base % 5_000_000, 0
        current = REFERENCE_DAY
        while current < day:
            day_imp, day_exp = self._day_totals(meter, current)
            imp, exp = imp + day_imp, exp + day_exp
            current += timedelta(days=1)
        return {"kWh imp": imp, "kWh exp": exp}
