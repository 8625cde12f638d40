"""The consent artefact: who lets whom receive which data, from which provider, for what, how long, how often.

Why this shape: IES defines no consent artefact (only the free-text `MeterDataAuthorisation.purpose` and
`consumerConsent[]` strings), while the DPDP Act 2023 and DEPA require a consent that is specific (one
purpose, one data consumer, a named scope), limited in time and use, and provable. The artefact is the
published JSON document `schema/consent-artefact.schema.json`; `ConsentArtefact` is its typed view.

Canonical form: every signature covers `canonical_bytes(doc)`, the RFC 8785 (JCS) serialisation of the
artefact without its `signatures` member. Documents are first brought to one normal form (`normalise`:
instants in UTC with `Z`), so the bytes a principal signs on their phone are the bytes the consent manager
and the data provider recompute. The artefact never carries lifecycle state: a signed artefact stays
valid while its state moves, and the state lives in the manager's signed transition records.

Checks, in order (each raises `ArtefactInvalid` naming the JSON path):
  (1) the JSON Schema; (2) instants and durations parse; (3) validFrom < validUntil, dataFrom < dataUntil;
  (4) the purpose is in the catalogue the artefact names, and (5) the purpose allows every profile, the
  validity and the retention asked for.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import rfc8785
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, ConfigDict, Field

from ies.consent._time import Duration, format_instant, parse_duration, parse_instant
from ies.consent.errors import ArtefactInvalid
from ies.consent.purposes import Purpose, PurposeCatalogue, purpose_catalogue

__all__ = [
    "ConsentArtefact",
    "DataScope",
    "ProfileScope",
    "artefact_digest",
    "artefact_schema",
    "canonical_bytes",
    "check_schema",
    "normalise",
]

_INSTANT_PATHS = (
    ("createdAt",),
    ("validFrom",),
    ("validUntil",),
    ("dataScope", "dataFrom"),
    ("dataScope", "dataUntil"),
)


@cache
def artefact_schema() -> dict[str, Any]:
    text = resources.files("ies.consent").joinpath("schema/consent-artefact.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(artefact_schema(), format_checker=FormatChecker())


def _path(parts: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def check_schema(doc: Any) -> None:
    """(1) Raise ArtefactInvalid with the first schema error (deepest path first, for a useful message)."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (-len(e.absolute_path), str(e.message)))
    if errors:
        first = errors[0]
        raise ArtefactInvalid(
            f"consent artefact: {first.message}",
            details={"path": _path(first.absolute_path), "errors": len(errors)},
        )


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy with every instant (and signature `created`) in the one written form."""
    out = copy.deepcopy(doc)
    for path in _INSTANT_PATHS:
        holder: Any = out
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and path[-1] in holder:
            holder[path[-1]] = format_instant(parse_instant(holder[path[-1]], path=_path(path)))
    for i, sig in enumerate(out.get("signatures") or []):
        if isinstance(sig, dict) and "created" in sig:
            sig["created"] = format_instant(parse_instant(sig["created"], path=f"$.signatures[{i}].created"))
    return out


def canonical_bytes(doc: dict[str, Any]) -> bytes:
    """JCS (RFC 8785) bytes of the artefact without `signatures`: what every signature covers."""
    body = {k: v for k, v in doc.items() if k != "signatures"}
    return rfc8785.dumps(body)


def artefact_digest(doc: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical bytes; names this exact artefact in transitions and audit lines."""
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")


class ReadingScope(_Frozen):
    value: str
    mode: str | None = None


class ProfileScope(_Frozen):
    profile_type: str = Field(alias="profileType")
    readings: tuple[ReadingScope, ...] | None = None


class DataScope(_Frozen):
    resources: tuple[str, ...]
    profiles: tuple[ProfileScope, ...]
    data_from: datetime = Field(alias="dataFrom")
    data_until: datetime = Field(alias="dataUntil")

    def profile(self, profile_type: str) -> ProfileScope | None:
        return next((p for p in self.profiles if p.profile_type == profile_type), None)


class ConsentArtefact:
    """A checked artefact: the normalised document (what is signed) and typed views of its fields.

    Build one with `ConsentArtefact.parse(doc)`; `doc` stays the source of truth (`canonical_bytes`,
    `digest`) and the attributes are read-only conveniences over it.
    """

    def __init__(self, doc: dict[str, Any], purpose: Purpose):
        self.doc = doc
        self.purpose = purpose
        self.id: str = doc["id"]
        self.consent_manager: str = doc["consentManager"]
        self.created_at = parse_instant(doc["createdAt"])
        principal = doc["dataPrincipal"]
        self.principal_number: str | None = principal.get("consumerNumber")
        self.principal_did: str | None = principal.get("id")
        self.provider_id: str = doc["dataProvider"]["id"]
        self.consumer_id: str = doc["dataConsumer"]["id"]
        self.scope = DataScope.model_validate(doc["dataScope"])
        self.max_accesses: int = doc["frequency"]["maxAccesses"]
        self.frequency_period: Duration = parse_duration(doc["frequency"]["period"])
        self.valid_from = parse_instant(doc["validFrom"])
        self.valid_until = parse_instant(doc["validUntil"])
        self.retention: Duration = parse_duration(doc["retention"])

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def parse(cls, doc: Any, *, catalogue: PurposeCatalogue | None = None) -> ConsentArtefact:
        """Check (1)–(5) and return the artefact; raises ArtefactInvalid naming the first problem."""
        if not isinstance(doc, dict):
            raise ArtefactInvalid("a consent artefact is a JSON object", details={"path": "$"})
        check_schema(doc)  # (1)
        doc = normalise(doc)  # (2)
        for path, text in (
            ("$.frequency.period", doc["frequency"]["period"]),
            ("$.retention", doc["retention"]),
        ):
            parse_duration(text, path=path)
        if parse_instant(doc["validUntil"]) <= parse_instant(doc["validFrom"]):  # (3)
            raise ArtefactInvalid("validUntil must be after validFrom", details={"path": "$.validUntil"})
        scope = doc["dataScope"]
        if parse_instant(scope["dataUntil"]) <= parse_instant(scope["dataFrom"]):
            raise ArtefactInvalid(
                "dataUntil must be after dataFrom", details={"path": "$.dataScope.dataUntil"}
            )
        catalogue = catalogue or purpose_catalogue()
        if doc["purpose"]["catalogue"] != catalogue.ref:  # (4)
            raise ArtefactInvalid(
                f"the artefact names purpose catalogue {doc['purpose']['catalogue']!r}; this node reads "
                f"{catalogue.ref!r}",
                details={"path": "$.purpose.catalogue"},
            )
        purpose = catalogue.get(doc["purpose"]["code"])
        artefact = cls(doc, purpose)
        artefact._check_purpose_limits()  # (5)
        return artefact

    def _check_purpose_limits(self) -> None:
        p = self.purpose
        for i, profile in enumerate(self.scope.profiles):
            if profile.profile_type not in p.profiles:
                raise ArtefactInvalid(
                    f"purpose {p.code!r} does not allow {profile.profile_type} "
                    f"(allowed: {', '.join(p.profiles)})",
                    details={"path": f"$.dataScope.profiles[{i}].profileType"},
                )
        if parse_duration(p.max_validity).after(self.valid_from) < self.valid_until:
            raise ArtefactInvalid(
                f"purpose {p.code!r} allows a validity of at most {p.max_validity}",
                details={"path": "$.validUntil"},
            )
        if self.retention.longest() > parse_duration(p.max_retention).longest():
            raise ArtefactInvalid(
                f"purpose {p.code!r} allows a retention of at most {p.max_retention}",
                details={"path": "$.retention"},
            )

    # -- the signed bytes ----------------------------------------------------------------------------
    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.doc)

    @property
    def digest(self) -> str:
        return artefact_digest(self.doc)

    @property
    def signatures(self) -> list[dict[str, Any]]:
        return list(self.doc.get("signatures") or [])

    def with_signature(self, signature: dict[str, Any]) -> ConsentArtefact:
        """A copy carrying one more signature (the signed bytes do not change)."""
        doc = copy.deepcopy(self.doc)
        doc.setdefault("signatures", []).append(signature)
        return ConsentArtefact.parse(doc)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.doc)

    def summary(self) -> dict[str, Any]:
        """What a list shows (no scope detail)."""
        return {
            "id": self.id,
            "principal": {k: v for k, v in self.doc["dataPrincipal"].items()},
            "provider": self.provider_id,
            "consumer": self.consumer_id,
            "purpose": self.purpose.code,
            "validFrom": self.doc["validFrom"],
            "validUntil": self.doc["validUntil"],
        }
