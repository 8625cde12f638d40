"""The reading-type registry (MeterData v0.6 `ies-codes.json`) as a lookup table for the bulk validator.

Why a registry object and not constants: every fact about a reading type — its unit, the profiles it may
appear in, its modes, whether it accumulates — is published upstream in `ies-codes.json` and changes with the
spec, so the validator asks this table and never hard-codes an OBIS code. A reading type resolves by its OBIS
code or by its short label ("kWh imp block"), exactly as the upstream validator resolves them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ies.errors import InternalError

__all__ = ["CodeRegistry", "ReadingTypeInfo", "code_registry"]

#: Where the schemas block bundles the upstream MeterData v0.6 material (package data, MIT notice alongside).
_CODES_RELATIVE = ("data", "schemas", "MeterData", "v0.6", "ies-codes.json")

#: The registry writes "no unit" as an empty string; descriptors write it as "NONE".
_NO_UNIT = {"", "NONE"}


@dataclass(frozen=True)
class ReadingTypeInfo:
    """Registry facts about one reading type (one entry of `codes[]`)."""

    obis: str
    short_label: str
    name: str
    unit: str
    category: str
    profiles: frozenset[str]
    supported_modes: frozenset[str]
    default_mode: str
    accumulation: str | None
    flow_direction: str | None
    allowed_attributes: frozenset[str]

    @property
    def is_cumulative(self) -> bool:
        """A register that only ever grows (until a declared reset or a meter change)."""
        return self.accumulation == "CUMULATIVE"

    @property
    def is_delta(self) -> bool:
        """Energy accumulated over one interval (block load survey)."""
        return self.accumulation == "DELTA"

    def unit_matches(self, unit: str) -> bool:
        """True when a descriptor's declared unit agrees with the registry's."""
        if self.unit in _NO_UNIT:
            return unit in _NO_UNIT
        return unit == self.unit

    def allowed_in(self, profile_type: str) -> bool:
        """Upstream treats BILL_DETAILS as MONTHLY when checking where a register may appear."""
        effective = "MONTHLY" if profile_type == "BILL_DETAILS" else profile_type
        return effective in self.profiles


class CodeRegistry:
    """Resolve reading types by OBIS code or short label."""

    def __init__(self, entries: list[dict[str, Any]]):
        self._by_key: dict[str, ReadingTypeInfo] = {}
        for raw in entries:
            info = ReadingTypeInfo(
                obis=raw["obis"],
                short_label=raw.get("shortLabel", ""),
                name=raw.get("name", ""),
                unit=raw.get("unit", ""),
                category=raw.get("category", ""),
                profiles=frozenset(raw.get("profiles", ())),
                supported_modes=frozenset(raw.get("supportedModes", ())),
                default_mode=raw.get("defaultMode", "READING"),
                accumulation=raw.get("accumulationBehaviour"),
                flow_direction=raw.get("flowDirection"),
                allowed_attributes=frozenset(raw.get("allowedAttributes", ())),
            )
            self._by_key[info.obis] = info
            if info.short_label:
                self._by_key[info.short_label] = info

    def resolve(self, reading_type: str, obis: str | None = None) -> ReadingTypeInfo | None:
        """The registry entry for a reading type (or its descriptor's `obis`), None when unknown."""
        found = self._by_key.get(reading_type)
        if found is None and obis:
            found = self._by_key.get(obis)
        return found

    def __len__(self) -> int:
        return len({info.obis for info in self._by_key.values()})

    @classmethod
    def from_file(cls, path: Path) -> CodeRegistry:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["codes"])


def _codes_path() -> Path:
    base = resources.files("ies.schemas")
    for part in _CODES_RELATIVE:
        base = base / part
    return Path(str(base))


@cache
def code_registry() -> CodeRegistry:
    """The bundled MeterData v0.6 registry (loaded once per process)."""
    path = _codes_path()
    if not path.is_file():
        raise InternalError(f"the bundled reading-type registry is missing: {path}")
    return CodeRegistry.from_file(path)
