"""The published purpose catalogue: the only purposes a consent may name, and what each one allows.

Why a catalogue rather than free text: IES carries purpose as a free string (`MeterDataAuthorisation.purpose`
"ESG Carbon Accounting & Trend Analysis"), which no provider can enforce. DPDP Act 2023 §6 asks that
consent be specific to a stated purpose and limited to the data necessary for it, so each catalogued
purpose bounds the consent that names it: its longest validity, the longest the data consumer may keep
the data, the profiles it may ask for, and whether it receives only pseudonymised data. The catalogue
ships as package data (`data/purposes.json`) so every participant reads the same version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ies.consent.errors import ArtefactInvalid

__all__ = ["CATALOGUE_ID", "Purpose", "PurposeCatalogue", "purpose_catalogue"]

CATALOGUE_ID = "ies-consent-purposes"

REQUEST_PROFILES = (
    "CustomerProfile",
    "IntervalProfile",
    "DailyProfile",
    "MonthlyProfile",
    "BillDetails",
    "InstantaneousProfile",
    "EventProfile",
    "AlarmProfile",
)


class Purpose(BaseModel):
    """One catalogued purpose."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,63}$")
    title: str
    description: str
    aliases: tuple[str, ...] = ()
    max_validity: str = Field(alias="maxValidity", description="longest validity window, ISO 8601")
    max_retention: str = Field(alias="maxRetention", description="longest the consumer may keep the data")
    profiles: tuple[str, ...] = Field(description="MeterDataRequest profile types this purpose may ask for")
    anonymised_only: bool = Field(alias="anonymisedOnly", description="pseudonymised meters, no customer")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


class PurposeCatalogue:
    """The purposes of one catalogue version, by code (aliases resolve to codes, case-insensitively)."""

    def __init__(self, document: dict[str, Any]):
        self.id = str(document.get("id", CATALOGUE_ID))
        self.version = str(document["version"])
        self._by_code: dict[str, Purpose] = {}
        self._by_alias: dict[str, str] = {}
        for raw in document["purposes"]:
            purpose = Purpose.model_validate(raw)
            unknown = set(purpose.profiles) - set(REQUEST_PROFILES)
            if unknown:
                raise ValueError(f"purpose {purpose.code}: unknown profile types {sorted(unknown)}")
            self._by_code[purpose.code] = purpose
            for name in (purpose.code, purpose.title, *purpose.aliases):
                self._by_alias[name.strip().lower()] = purpose.code

    @property
    def ref(self) -> str:
        """`<id>/<version>`, written into every artefact so a reader knows which catalogue it named."""
        return f"{self.id}/{self.version}"

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Purpose]:
        return iter(self._by_code.values())

    def get(self, code: str) -> Purpose:
        try:
            return self._by_code[code]
        except KeyError:
            raise ArtefactInvalid(
                f"purpose {code!r} is not in the purpose catalogue ({', '.join(sorted(self._by_code))})",
                details={"path": "$.purpose.code"},
            ) from None

    def resolve(self, text: str) -> Purpose:
        """A purpose from its code, title or a published alias (how free-text IES purposes map in)."""
        code = self._by_alias.get(text.strip().lower())
        if code is None:
            raise ArtefactInvalid(
                f"purpose {text!r} matches no catalogued purpose; "
                f"use one of {', '.join(sorted(self._by_code))}",
                details={"path": "$.purpose"},
            )
        return self._by_code[code]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "purposes": [p.to_dict() for p in self]}


@cache
def purpose_catalogue() -> PurposeCatalogue:
    """The catalogue shipped with this build."""
    text = resources.files("ies.consent").joinpath("data/purposes.json").read_text("utf-8")
    return PurposeCatalogue(json.loads(text))
