"""Does a live consent cover this data request? The pure check every data provider runs before serving.

    check_access(consent, request, at=…, recent_accesses=…)
      (1) state: ACTIVE, and `at` inside [validFrom, validUntil)     POL_CONSENT_{NOT_ACTIVE,REJECTED,PAUSED,
                                                                       REVOKED,EXPIRED,NOT_YET_VALID}
      (2) parties: the requester is the data consumer, this node the data provider    POL_CONSENT_WRONG_PARTY
      (3) purpose: the request's purpose is the consent's                         POL_CONSENT_PURPOSE_MISMATCH
      (4) resources: every requested meter is in the scope (and, when the provider can tell, belongs to
          the principal)                              POL_CONSENT_RESOURCE_NOT_COVERED / PRINCIPAL_MISMATCH
      (5) profiles: every requested profile and register (resolved to its OBIS code) is granted
                                                                              POL_CONSENT_PROFILE_NOT_COVERED
      (6) dates: the requested period lies inside [dataFrom, dataUntil)      POL_CONSENT_PERIOD_NOT_COVERED
      (7) frequency: fewer than maxAccesses transfers started in the rolling period
                                                                              POL_CONSENT_FREQUENCY_EXCEEDED
Each refusal raises (sigstore style) with `details` naming what was not covered, so the NACK tells the data
consumer exactly which meter, register or day to drop. The check is pure: the caller brings the consent (as
verified from its manager), the clock and the number of recent accesses, so the same function serves the
exchange handler, the policy decision point's `consent_check` and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ies.consent._time import format_instant, parse_duration, parse_instant
from ies.consent.artefact import ConsentArtefact
from ies.consent.errors import (
    ArtefactInvalid,
    ConsentFrequencyExceeded,
    ConsentNotYetValid,
    ConsentPeriodNotCovered,
    ConsentPrincipalMismatch,
    ConsentProfileNotCovered,
    ConsentPurposeMismatch,
    ConsentResourceNotCovered,
    ConsentWrongParty,
    refusal_for_state,
)
from ies.consent.lifecycle import ConsentState
from ies.schemas import reading_types

__all__ = ["AccessRequest", "RequestedReading", "check_access", "granted_readings"]

#: Resource → does it belong to the consent's principal? (the provider's customer records answer it)
OwnershipCheck = Callable[[ConsentArtefact, str], bool]


@dataclass(frozen=True)
class RequestedReading:
    """One requested (profile, register, mode); `value` None asks for the whole profile."""

    profile_type: str
    value: str | None = None
    mode: str | None = None


@dataclass(frozen=True)
class AccessRequest:
    """What a data consumer asks a provider for, independent of how it travelled."""

    requester: str
    provider: str
    purpose: str
    resources: tuple[str, ...]
    readings: tuple[RequestedReading, ...]
    data_from: datetime
    data_until: datetime

    @classmethod
    def from_meter_data_request(
        cls, mdr: dict[str, Any], *, requester: str, provider: str, purpose: str
    ) -> AccessRequest:
        """From an IES MeterDataRequest v0.6 (`from` + `duration`, `resources`, `capabilitiesRequested`)."""
        start = parse_instant(mdr.get("from"), path="$.from")
        until = parse_duration(mdr.get("duration"), path="$.duration").after(start)
        resources = mdr.get("resources")
        if not isinstance(resources, list) or not resources or not all(isinstance(r, str) for r in resources):
            raise ArtefactInvalid(
                "a consent-based request names the meters it wants in `resources`",
                details={"path": "$.resources"},
            )
        readings: list[RequestedReading] = []
        caps = mdr.get("capabilitiesRequested")
        profiles = caps.get("profiles") if isinstance(caps, dict) else None
        if not isinstance(profiles, list) or not profiles:
            raise ArtefactInvalid(
                "capabilitiesRequested.profiles names no profile", details={"path": "$.capabilitiesRequested"}
            )
        for profile in profiles:
            if not isinstance(profile, dict) or not isinstance(profile.get("profileType"), str):
                raise ArtefactInvalid(
                    "every requested profile has a profileType", details={"path": "$.profiles"}
                )
            wanted = profile.get("readings")
            if not wanted:
                readings.append(RequestedReading(profile["profileType"]))
                continue
            for reading in wanted:
                if not isinstance(reading, dict) or not isinstance(reading.get("value"), str):
                    raise ArtefactInvalid(
                        "every requested reading has a value", details={"path": "$.readings"}
                    )
                readings.append(
                    RequestedReading(profile["profileType"], reading["value"], reading.get("mode"))
                )
        return cls(
            requester, provider, purpose, tuple(dict.fromkeys(resources)), tuple(readings), start, until
        )

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> AccessRequest:
        """The inverse of `to_dict` (how a provider keeps a transfer's request between pages)."""
        return cls(
            requester=stored["requester"],
            provider=stored["provider"],
            purpose=stored["purpose"],
            resources=tuple(stored["resources"]),
            readings=tuple(
                RequestedReading(r["profileType"], r.get("value"), r.get("mode")) for r in stored["readings"]
            ),
            data_from=parse_instant(stored["dataFrom"]),
            data_until=parse_instant(stored["dataUntil"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "requester": self.requester,
            "provider": self.provider,
            "purpose": self.purpose,
            "resources": list(self.resources),
            "readings": [
                {"profileType": r.profile_type, "value": r.value, "mode": r.mode} for r in self.readings
            ],
            "dataFrom": format_instant(self.data_from),
            "dataUntil": format_instant(self.data_until),
        }


def _obis(value: str) -> str | None:
    entry = reading_types().resolve(value)
    return entry.obis if entry is not None else None


def granted_readings(artefact: ConsentArtefact) -> dict[str, set[tuple[str, str | None]] | None]:
    """profile type → granted (OBIS code, mode) pairs, or None when the whole profile is granted."""
    out: dict[str, set[tuple[str, str | None]] | None] = {}
    for profile in artefact.scope.profiles:
        if profile.readings is None:
            out[profile.profile_type] = None
            continue
        pairs = {(_obis(r.value) or r.value, r.mode) for r in profile.readings}
        current = out.get(profile.profile_type, set())
        out[profile.profile_type] = None if current is None else current | pairs
    return out


def _reading_granted(granted: set[tuple[str, str | None]] | None, obis: str, mode: str | None) -> bool:
    if granted is None:
        return True
    return any(g_obis == obis and (g_mode is None or g_mode == mode) for g_obis, g_mode in granted)


def check_access(
    artefact: ConsentArtefact,
    state: ConsentState,
    request: AccessRequest,
    *,
    at: datetime,
    recent_accesses: int | None = None,
    owns: OwnershipCheck | None = None,
) -> None:
    """Raise the refusal for the first check (1)–(7) that fails; return when the consent covers it all.

    `recent_accesses` is the number of transfers started under this consent in the rolling period ending
    at `at`; None skips (7) (a later page of a transfer already counted).
    """
    base = {"consentId": artefact.id}
    # (1) live
    if state is ConsentState.ACTIVE and at >= artefact.valid_until:
        state = ConsentState.EXPIRED
    if state is not ConsentState.ACTIVE:
        refusal = refusal_for_state(state.value)
        raise refusal(f"consent {artefact.id} is {state.value}", details={**base, "state": state.value})
    if at < artefact.valid_from:
        raise ConsentNotYetValid(
            f"consent {artefact.id} is valid from {artefact.doc['validFrom']}", details=base
        )
    # (2) parties
    if request.requester != artefact.consumer_id:
        raise ConsentWrongParty(
            f"consent {artefact.id} lets {artefact.consumer_id} receive data, not {request.requester}",
            details={**base, "requester": request.requester},
        )
    if request.provider != artefact.provider_id:
        raise ConsentWrongParty(
            f"consent {artefact.id} is for data held by {artefact.provider_id}, not {request.provider}",
            details={**base, "provider": request.provider},
        )
    # (3) purpose
    if request.purpose != artefact.purpose.code:
        raise ConsentPurposeMismatch(
            f"consent {artefact.id} is for {artefact.purpose.code!r}, not {request.purpose!r}",
            details={**base, "purpose": request.purpose, "consented": artefact.purpose.code},
        )
    # (4) resources
    scope = set(artefact.scope.resources)
    for resource in request.resources:
        if resource not in scope:
            raise ConsentResourceNotCovered(
                f"meter {resource} is not in the scope of consent {artefact.id}",
                details={**base, "resource": resource},
            )
        if owns is not None and not owns(artefact, resource):
            raise ConsentPrincipalMismatch(
                f"meter {resource} does not belong to the consent's principal",
                details={**base, "resource": resource},
            )
    # (5) profiles and registers
    granted = granted_readings(artefact)
    for reading in request.readings:
        where = {**base, "profileType": reading.profile_type}
        if reading.profile_type not in granted:
            raise ConsentProfileNotCovered(
                f"{reading.profile_type} is not in the scope of consent {artefact.id}", details=where
            )
        pairs = granted[reading.profile_type]
        if reading.value is None:
            if pairs is not None:
                raise ConsentProfileNotCovered(
                    f"consent {artefact.id} grants only some registers of {reading.profile_type}; name them",
                    details=where,
                )
            continue
        obis = _obis(reading.value)
        if obis is None or not _reading_granted(pairs, obis, reading.mode):
            raise ConsentProfileNotCovered(
                f"{reading.profile_type} {reading.value!r} ({reading.mode or 'any mode'}) is not granted by "
                f"consent {artefact.id}",
                details={**where, "reading": reading.value, "mode": reading.mode},
            )
    # (6) dates
    if request.data_from < artefact.scope.data_from or request.data_until > artefact.scope.data_until:
        raise ConsentPeriodNotCovered(
            f"data from {format_instant(request.data_from)} to {format_instant(request.data_until)} is "
            "outside "
            f"{artefact.doc['dataScope']['dataFrom']} – {artefact.doc['dataScope']['dataUntil']} of consent "
            f"{artefact.id}",
            details={
                **base,
                "requested": [format_instant(request.data_from), format_instant(request.data_until)],
                "consented": [artefact.doc["dataScope"]["dataFrom"], artefact.doc["dataScope"]["dataUntil"]],
            },
        )
    # (7) frequency
    if recent_accesses is not None and recent_accesses >= artefact.max_accesses:
        raise ConsentFrequencyExceeded(
            f"consent {artefact.id} allows {artefact.max_accesses} transfer(s) per "
            f"{artefact.doc['frequency']['period']}; {recent_accesses} already started",
            details={
                **base,
                "maxAccesses": artefact.max_accesses,
                "period": artefact.doc["frequency"]["period"],
            },
        )
