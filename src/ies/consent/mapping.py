"""Between our consent artefact and the IES vocabulary: MeterDataAuthorisation, MeterDataRequest, and the
MeterDataRequestCredential that carries them.

IES `MeterDataAuthorisation` (MeterDataRequest v0.6) holds grantor, grantee, purpose (free text), validity
and capabilities. It has no room for the consent's meters, data period, frequency, retention or id, which
travel beside it in the `MeterDataRequest` (`resources`, `from` + `duration`, `consumerConsent`). So:

- `to_authorisation(artefact)`: grantor = the principal (their did:key, else `did:web:<provider>:consumers:
  <number>`, the IES asset-identifier pattern), grantee = `did:web:<consumer subscriber id>`, purpose = the
  catalogue title, validity and capabilities (the scope's profiles) copied;
- `to_meter_data_request(artefact)`: the request a data consumer sends under this consent: the consent id
  in `consumerConsent` and as the `authorisation` URI. Not the authorisation inline: IES reads an
  authorisation's validity as bounding the requested *data* period (the `mdr.authorisation-expired` rule),
  while a consent separates the window in which data may be fetched (validFrom/validUntil) from the
  period the data may cover (dataFrom/dataUntil) — a loan underwriter fetches a year of history within a
  30-day consent — so an inline authorisation would either fail that rule or misstate the consent;
- `from_authorisation(auth, …)`: a draft consent request from an IES authorisation plus what it cannot say
  (provider, meters, data period, frequency, retention); the free-text purpose must resolve in the purpose
  catalogue (by code, title or published alias), or the mapping refuses;
- `to_request_credential(artefact, key=…, issuer=…)`: a W3C VC 2.0 MeterDataRequestCredential issued
  through `ies.credentials` (eddsa-jcs-2022 by default: the IES contexts cannot be canonicalised offline),
  valid exactly as long as the consent; `request_of_credential` verifies one and returns its request.

Every IES document built here is checked with `ies.schemas` before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ies.consent._time import format_instant, parse_instant
from ies.consent.artefact import ConsentArtefact
from ies.consent.errors import ArtefactInvalid
from ies.consent.purposes import PurposeCatalogue, purpose_catalogue
from ies.identity.did_web import did_web_for_subscriber
from ies.schemas import require_valid

__all__ = [
    "MDR_CONTEXT",
    "VerifiedRequest",
    "from_authorisation",
    "grantee_of",
    "grantor_of",
    "request_of_credential",
    "to_authorisation",
    "to_meter_data_request",
    "to_request_credential",
    "verify_request_credential",
]

MDR_CONTEXT = (
    "https://india-energy-stack.github.io/ies-accelerator/schemas/MeterDataRequest/v0.6/context.jsonld"
)
MDRC_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://schema.nfh.global/EnergyCredential/v2.0/context.jsonld",
    "https://india-energy-stack.github.io/ies-accelerator/schemas/MeterDataRequestCredential/v0.1/context.jsonld",
]


def grantor_of(artefact: ConsentArtefact) -> str:
    if artefact.principal_did:
        return artefact.principal_did
    number = quote(str(artefact.principal_number), safe="")
    return f"{did_web_for_subscriber(artefact.provider_id)}:consumers:{number}"


def grantee_of(artefact: ConsentArtefact) -> str:
    return did_web_for_subscriber(artefact.consumer_id)


def _profiles(artefact: ConsentArtefact) -> list[dict[str, Any]]:
    return [dict(p) for p in artefact.doc["dataScope"]["profiles"]]


def to_authorisation(artefact: ConsentArtefact) -> dict[str, Any]:
    """The IES MeterDataAuthorisation this consent grants."""
    auth = {
        "@context": MDR_CONTEXT,
        "@type": "MeterDataAuthorisation",
        "grantor": grantor_of(artefact),
        "grantee": grantee_of(artefact),
        "purpose": artefact.purpose.title,
        "validFrom": artefact.doc["validFrom"],
        "validUntil": artefact.doc["validUntil"],
        "capabilities": {"profiles": _profiles(artefact), "supportedScopes": ["ResourceOnly"]},
    }
    require_valid(auth, "MeterDataRequest", "0.6")
    return auth


def _duration(start: datetime, end: datetime) -> str:
    seconds = int((end - start).total_seconds())
    if seconds <= 0:
        raise ArtefactInvalid("the data period is empty")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time_part = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")


def to_meter_data_request(
    artefact: ConsentArtefact,
    *,
    data_from: datetime | None = None,
    data_until: datetime | None = None,
    resources: list[str] | None = None,
    max_records: int | None = None,
) -> dict[str, Any]:
    """A MeterDataRequest for (part of) the consented scope, naming the consent (id and authorisation URI)."""
    start = data_from or artefact.scope.data_from
    end = data_until or artefact.scope.data_until
    mdr: dict[str, Any] = {
        "@context": MDR_CONTEXT,
        "@type": "MeterDataRequest",
        "resources": list(resources or artefact.scope.resources),
        "scope": "ResourceOnly",
        "from": format_instant(start),
        "duration": _duration(start, end),
        "consumerConsent": [artefact.id],
        "authorisation": artefact.id,
        "capabilitiesRequested": {"profiles": _profiles(artefact)},
    }
    if artefact.principal_did or artefact.principal_number:
        mdr["consumers"] = [grantor_of(artefact)]
    if max_records is not None:
        mdr["maxRecordsShared"] = max_records
    require_valid(mdr, "MeterDataRequest", "0.6")
    return mdr


def from_authorisation(
    auth: Mapping[str, Any],
    *,
    provider_id: str,
    consumer_id: str,
    resources: list[str],
    data_from: datetime,
    data_until: datetime,
    max_accesses: int,
    period: str,
    retention: str,
    consumer_number: str | None = None,
    catalogue: PurposeCatalogue | None = None,
) -> dict[str, Any]:
    """A draft consent request (what `ConsentStore.request` takes) from an IES MeterDataAuthorisation."""
    require_valid(dict(auth), "MeterDataRequest", "0.6")
    if auth.get("@type") != "MeterDataAuthorisation":
        raise ArtefactInvalid("not a MeterDataAuthorisation", details={"path": "$.@type"})
    catalogue = catalogue or purpose_catalogue()
    purpose = catalogue.resolve(str(auth["purpose"]))
    grantee = str(auth["grantee"])
    if grantee != did_web_for_subscriber(consumer_id):
        raise ArtefactInvalid(
            f"the authorisation's grantee {grantee} is not {did_web_for_subscriber(consumer_id)}",
            details={"path": "$.grantee"},
        )
    grantor = str(auth["grantor"])
    principal: dict[str, Any] = {}
    if grantor.startswith("did:key:"):
        principal["id"] = grantor
    if consumer_number is not None:
        principal["consumerNumber"] = consumer_number
    if not principal:
        raise ArtefactInvalid(
            f"grantor {grantor} is not a did:key; give the consumer number", details={"path": "$.grantor"}
        )
    profiles = []
    for profile in auth["capabilities"]["profiles"]:
        entry: dict[str, Any] = {"profileType": profile["profileType"]}
        if profile.get("readings"):
            entry["readings"] = [{k: r[k] for k in ("value", "mode") if k in r} for r in profile["readings"]]
        profiles.append(entry)
    return {
        "dataPrincipal": principal,
        "dataProvider": {"id": provider_id},
        "dataConsumer": {"id": consumer_id},
        "purpose": {"code": purpose.code, "catalogue": catalogue.ref, "text": str(auth["purpose"])[:500]},
        "dataScope": {
            "resources": list(resources),
            "profiles": profiles,
            "dataFrom": format_instant(data_from),
            "dataUntil": format_instant(data_until),
        },
        "frequency": {"maxAccesses": max_accesses, "period": period},
        "validFrom": format_instant(parse_instant(auth["validFrom"])),
        "validUntil": format_instant(parse_instant(auth["validUntil"])),
        "retention": retention,
    }


def to_request_credential(
    artefact: ConsentArtefact,
    *,
    key: Any,
    issuer: Mapping[str, Any],
    format: str = "eddsa-jcs-2022",
    created: datetime | None = None,
) -> dict[str, Any] | str:
    """A MeterDataRequestCredential for this consent, issued with `key` (an `ies.credentials.IssuerKey`)."""
    from ies.credentials import issue

    credential = {
        "@context": list(MDRC_CONTEXTS),
        "id": f"urn:uuid:{artefact.id.removeprefix('urn:uuid:')}",
        "type": ["VerifiableCredential", "MeterDataRequestCredential"],
        "issuer": dict(issuer),
        "validFrom": artefact.doc["validFrom"],
        "validUntil": artefact.doc["validUntil"],
        "credentialSubject": {
            "id": grantee_of(artefact),
            "meterDataRequest": to_meter_data_request(artefact),
        },
    }
    return issue(credential, key=key, format=format, created=created)


@dataclass(frozen=True)
class VerifiedRequest:
    """A verified MeterDataRequestCredential: who issued it, to whom, and the request it carries."""

    issuer: str
    subject: str | None
    request: dict[str, Any]


def verify_request_credential(
    credential: Mapping[str, Any] | str, *, resolver: Any, at: datetime | None = None
) -> VerifiedRequest:
    """Verify a MeterDataRequestCredential (signature, validity, schema through `ies.credentials`).

    It carries no status entry: a consent's live state is asked of its manager, which a credential
    cannot replace, so the status step is skipped on purpose (`UnsafeNoStatusCheck` logs that)."""
    from ies.credentials import UnsafeNoStatusCheck, verify

    verified = verify(credential, resolver=resolver, at=at, status_checker=UnsafeNoStatusCheck())
    types = verified.credential.get("type") or []
    if "MeterDataRequestCredential" not in types:
        raise ArtefactInvalid("not a MeterDataRequestCredential", details={"path": "$.type"})
    subject = verified.credential.get("credentialSubject") or {}
    request = subject.get("meterDataRequest") if isinstance(subject, dict) else None
    if not isinstance(request, dict):
        raise ArtefactInvalid(
            "the credential carries no meterDataRequest", details={"path": "$.credentialSubject"}
        )
    subject_id = subject.get("id") if isinstance(subject.get("id"), str) else None
    return VerifiedRequest(verified.issuer, subject_id, request)


def request_of_credential(
    credential: Mapping[str, Any] | str, *, resolver: Any, at: datetime | None = None
) -> dict[str, Any]:
    """The MeterDataRequest of a verified MeterDataRequestCredential."""
    return verify_request_credential(credential, resolver=resolver, at=at).request
