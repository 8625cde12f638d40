"""Issuing a credential: complete the envelope, check the schema, stamp its status, sign, remember.

The pipeline, in order (nothing is stored unless every step passes; the holder's proof is checked, and its
nonce or OTP spent, only once the credential itself is known to be valid):
  (1) the family: the one IES type the credential names (ElectricityCredential, MeterDataCredential,
      MeterDataRequestCredential), or — naming none — a generic W3C VC 2.0 credential (what the W3C
      VC-API interoperability suites send); two IES types at once are refused;
  (2) complete the VC 2.0 envelope: for IES types `@context` (VC v2 first, then the family context) and
      the `VerifiableCredential` type are added when missing (a generic credential must bring its own);
      a lower-case `urn:uuid:` id, `issuer` = `{id: our DID, name}` (a different issuer is refused,
      never overwritten), `validFrom` (now) and `validUntil` (now + the default validity) unless given;
  (3) the status the family allows (`status_plan`): Bitstring Status List entries for revocation and
      suspension where the schema allows them (and for generic credentials), the single `dediregistry`
      entry the ElectricityCredential v1.2 schema requires for the passport;
  (4) validate the whole credential, with a placeholder status — before any status index is spent —
      against its IES schema (`ies.schemas.require_valid`), or, for a generic credential, against the
      VC 2.0 envelope rules with bundled contexts only (`ies.credentials.envelope`); then bind the holder
      (`binding`, a callable so the caller's check runs here);
  (5) in one transaction: allocate random status indexes, sign with `ies.credentials.issue`, record the
      credential (`vc_issued_credentials`) and append a `credential.issue` audit line (no claims in it).

Without a requested format the credential gets `ies.credentials.issue.default_format`: eddsa-rdfc-2022 when
it canonicalises offline — every generic credential, since step (4) demands it — else eddsa-jcs-2022: the
published IES contexts import contexts that cannot be bundled, so IES credentials are signed with
eddsa-jcs-2022 (docs/decisions/0003-credential-default-proof.md).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ies.credentials.envelope import GENERIC_FAMILY, VC_V2, require_vc2_envelope
from ies.credentials.issue import default_format, issue
from ies.credentials.model import ProofFormat
from ies.credentials.service.holder import HolderBinding
from ies.credentials.service.state import IssuerState
from ies.credentials.status import (
    allocate,
    bitstring_entry,
    dedi_status_entry,
    format_vc_time,
    revocation_hash,
)
from ies.credentials.status.lists import StatusAllocation
from ies.credentials.tables import IssuedCredentialRow
from ies.credentials.verify import IES_CREDENTIAL_TYPES
from ies.errors import ConflictError, UsageError
from ies.schemas import get as schema_entry
from ies.schemas import require_valid
from ies.store import session_factory, utcnow

__all__ = [
    "GENERIC_FAMILY",
    "IES_CREDENTIAL_TYPES",
    "STATUS_METHODS",
    "VC_V2",
    "check_credential",
    "credential_type",
    "default_disclosable",
    "issue_credential",
    "parse_format",
    "recorded_type",
    "status_plan",
]

STATUS_METHODS = ("bitstring", "dedi", "none")
_UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: The status each family gets by default. The ElectricityCredential v1.2 schema types `credentialStatus`
#: as ONE object of type `dediregistry`; the EnergyCredential v2.0 envelope of the others allows a list.
_DEFAULT_STATUS = {
    "ElectricityCredential": "dedi",
    "MeterDataCredential": "bitstring",
    "MeterDataRequestCredential": "bitstring",
    GENERIC_FAMILY: "bitstring",
}


def parse_format(value: Any, default: ProofFormat | None) -> ProofFormat | None:
    """The requested proof format; None means "the best Data Integrity format this credential allows"."""
    if value is None or value == "auto":
        return default
    try:
        return ProofFormat(value)
    except ValueError:
        known = ", ".join(f.value for f in ProofFormat)
        raise UsageError(f"unknown proof format {value!r}; use one of: {known}") from None


def credential_type(credential: Any) -> str:
    """The family: the one IES type a credential declares, or GENERIC_FAMILY when it names none."""
    if not isinstance(credential, dict):
        raise UsageError("`credential` must be a JSON object")
    types = credential.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list):
        raise UsageError("`credential.type` must list VerifiableCredential (and at most one IES type)")
    found = [t for t in types if t in IES_CREDENTIAL_TYPES]
    if len(found) > 1:
        raise UsageError(f"a credential may declare only one of {', '.join(IES_CREDENTIAL_TYPES)}")
    return found[0] if found else GENERIC_FAMILY


def recorded_type(credential: dict[str, Any], family: str) -> str:
    """What `vc_issued_credentials.credential_type` holds: the IES family, or a generic credential's most
    specific type (its last one other than VerifiableCredential, when it fits the 64-character column)."""
    if family != GENERIC_FAMILY:
        return family
    specific = [t for t in credential["type"] if t != GENERIC_FAMILY and isinstance(t, str) and len(t) <= 64]
    return specific[-1] if specific else GENERIC_FAMILY


def status_plan(family: str, requested: Any) -> str:
    """bitstring | dedi | none: what `credentialStatus` the credential gets."""
    if requested is None:
        return _DEFAULT_STATUS[family]
    if requested not in STATUS_METHODS:
        raise UsageError(f"options.credentialStatus must be one of {', '.join(STATUS_METHODS)}")
    return str(requested)


def _instant(value: Any, name: str) -> datetime:
    """An aware instant from an XML Schema dateTime; UsageError for anything else (no naive times)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(f"{name} {value!r} is not an ISO 8601 date-time with an offset")
    return moment.astimezone(UTC)


def _envelope(state: IssuerState, credential: dict[str, Any], family: str, now: datetime) -> dict[str, Any]:
    out = dict(credential)
    if family != GENERIC_FAMILY:  # a generic credential must bring a proper envelope (checked in step 4)
        out.pop("proof", None)
        contexts = out.get("@context")
        if contexts is None:
            contexts = [VC_V2, schema_entry(family).context_url]
        elif isinstance(contexts, str):
            contexts = [contexts]
        out["@context"] = contexts
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        if "VerifiableCredential" not in types:
            types = ["VerifiableCredential", *types]
        out["type"] = types
    cid = out.get("id")
    if cid is None:
        cid = f"urn:uuid:{uuid.uuid4()}"
    elif not isinstance(cid, str) or not _UUID_URN.fullmatch(cid):
        raise UsageError(f"credential id {cid!r} must be a lower-case urn:uuid")
    out["id"] = cid
    given = out.get("issuer")
    given_id = given.get("id") if isinstance(given, dict) else given
    if given_id not in (None, state.did):
        raise UsageError(f"this issuer signs as {state.did}, not as {given_id}")
    issuer: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    issuer.update(id=state.did, name=issuer.get("name") or state.settings.name)
    out["issuer"] = issuer
    valid_from = _instant(out["validFrom"], "validFrom") if "validFrom" in out else now
    out["validFrom"] = out.get("validFrom") or format_vc_time(now)
    if "validUntil" not in out:
        out["validUntil"] = format_vc_time(valid_from + state.settings.default_validity)
    elif _instant(out["validUntil"], "validUntil") <= valid_from:
        raise UsageError("validUntil must be after validFrom")
    return out


def _status(state: IssuerState, cid: str, plan: str, allocations: Sequence[StatusAllocation]) -> Any:
    if plan == "dedi":
        return dedi_status_entry(state.settings.base_url, state.settings.namespace, cid, "revocation")
    if plan == "bitstring":
        return [
            bitstring_entry(state.settings.url(f"/credentials/status-lists/{a.list_id}"), a)
            for a in allocations
        ]
    return None


def _with_status(credential: dict[str, Any], status: Any) -> dict[str, Any]:
    out = dict(credential)
    if status is None:
        out.pop("credentialStatus", None)
    else:
        out["credentialStatus"] = status
    return out


def _validate(state: IssuerState, draft: dict[str, Any], family: str, plan: str, now: datetime) -> None:
    """Step (4): the IES schema, or the VC 2.0 envelope rules, over the draft with a placeholder status."""
    placeholder = [StatusAllocation("placeholder", 0, p) for p in ("revocation", "suspension")]
    with_status = _with_status(draft, _status(state, draft["id"], plan, placeholder))
    if family == GENERIC_FAMILY:
        require_vc2_envelope(with_status)
    else:
        require_valid(with_status, family, at=now)


def check_credential(state: IssuerState, credential: Any, *, status: Any = None) -> dict[str, Any]:
    """Steps (1)-(4) without issuing: the completed draft, or the error issuing would raise."""
    family = credential_type(credential)
    plan = status_plan(family, status)
    now = utcnow().replace(microsecond=0)
    draft = _envelope(state, credential, family, now)
    _validate(state, draft, family, plan, now)
    return draft


def default_disclosable(credential: dict[str, Any]) -> list[str]:
    """SD-JWT default: every claim under credentialSubject (one level into objects) except `id`.

    So a passport holder can show `consumptionProfiles` (sanctioned load, tariff category) and withhold
    `customerDetails.fullName`, `installationAddress` and `customerProfile.idRef` (the government id).
    """
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return []
    paths: list[str] = []
    for name, value in subject.items():
        if name == "id":
            continue
        if isinstance(value, dict) and value:
            paths += [f"credentialSubject.{name}.{child}" for child in value]
        else:
            paths.append(f"credentialSubject.{name}")
    return paths


def issue_credential(
    state: IssuerState,
    credential: Any,
    *,
    proof_format: ProofFormat | None,
    binding: HolderBinding | Callable[[], HolderBinding],
    status: Any = None,
    disclosable: Sequence[str] = (),
    audit_actor: str | None = None,
) -> tuple[dict[str, Any] | str, str]:
    """Run the pipeline of the module docstring; returns (the signed credential, its id)."""
    from ies.audit import append

    family = credential_type(credential)
    plan = status_plan(family, status)
    now = utcnow().replace(microsecond=0)
    draft = _envelope(state, credential, family, now)
    cid = draft["id"]
    _validate(state, draft, family, plan, now)
    if callable(binding):  # only now: a valid credential spends the holder's nonce or OTP
        binding = binding()
    sessions = session_factory(state.engine)
    with sessions.begin() as session:
        if session.get(IssuedCredentialRow, cid) is not None:
            raise ConflictError(f"credential {cid} was issued already; give a new id or none")
        allocations = (
            [allocate(session, state.did, p, cid) for p in ("revocation", "suspension")]
            if plan == "bitstring"
            else []
        )
        final = _with_status(draft, _status(state, cid, plan, allocations))
        fmt = proof_format or default_format(final)
        if fmt is ProofFormat.SD_JWT_VC and not disclosable:
            disclosable = default_disclosable(final)
        signed = issue(
            final,
            key=state.keys.for_format(fmt),
            format=fmt,
            created=now,
            disclosable=disclosable,
            holder=binding.holder if binding.holder.startswith("did:key:") else None,
            schema_check=False,
        )
        valid_until = _instant(final["validUntil"], "validUntil")
        session.add(
            IssuedCredentialRow(
                credential_id=cid,
                credential_type=recorded_type(final, family),
                proof_format=fmt.value,
                holder_binding=binding.method,
                issued_at=now,
                valid_from=_instant(final["validFrom"], "validFrom"),
                valid_until=valid_until,
                revocation_hash=revocation_hash(cid),
            )
        )
        session.flush()
        append(
            session,
            "credential.issue",
            audit_actor or state.did,
            cid,
            {
                "type": recorded_type(final, family),
                "format": fmt.value,
                "holderBinding": binding.method,
                "status": plan,
                "validUntil": final["validUntil"],
            },
        )
    return signed, cid
