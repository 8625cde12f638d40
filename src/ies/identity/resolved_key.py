"""Picking a key out of a resolved DID document, failing closed.

Why its own module: this is the step that decides whether a signature may be checked with a key, so it
follows the sigstore habit of raising instead of returning a verdict. In order: (1) find the method the
fragment names (embedded or in `verificationMethod`, relative `#ids` made absolute); (2) require it to be
listed under the requested verification relationship, so a key-agreement key never verifies an
assertion; (3) require its controller to be the DID itself; (4) read the raw key and check its type fits
the purpose; (5) check `validFrom`/`expires`/`revoked` against the moment of use (rotation windows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ies.errors import KeyExpiredOrRevoked, UsageError
from ies.identity.did_errors import DIDDocumentInvalid, VerificationMethodNotFound
from ies.identity.verification_method import KeyType, key_from_method

__all__ = ["RELATIONSHIPS", "ResolvedKey", "list_keys", "select_verification_method"]

RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)
_PURPOSE_KEY_TYPE: dict[str, KeyType] = {
    "authentication": "Ed25519",
    "assertionMethod": "Ed25519",
    "capabilityInvocation": "Ed25519",
    "capabilityDelegation": "Ed25519",
    "keyAgreement": "X25519",
}


@dataclass(frozen=True)
class ResolvedKey:
    """A public key found in a DID document, with what it may be used for and when."""

    id: str
    controller: str
    method_type: str
    key_type: KeyType
    public_key: bytes
    relationships: frozenset[str]
    valid_from: datetime | None = None
    expires: datetime | None = None
    revoked: datetime | None = None
    method: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def usable_at(self, at: datetime) -> bool:
        if self.revoked is not None and self.revoked <= at:
            return False
        if self.expires is not None and self.expires <= at:
            return False
        return self.valid_from is None or self.valid_from <= at


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref


def _methods_and_relationships(
    document: Mapping[str, Any], did: str
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    methods: dict[str, dict[str, Any]] = {}
    relations: dict[str, set[str]] = {name: set() for name in RELATIONSHIPS}

    def add_method(entry: Any) -> str:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise DIDDocumentInvalid(f"{did}: a verification method lacks a string 'id'")
        method = dict(entry)
        method["id"] = _absolute(did, method["id"])
        if isinstance(method.get("controller"), str):
            method["controller"] = _absolute(did, method["controller"])
        methods.setdefault(method["id"], method)
        return str(method["id"])

    listed = document.get("verificationMethod", [])
    if not isinstance(listed, list):
        raise DIDDocumentInvalid(f"{did}: verificationMethod is not a list")
    for entry in listed:
        add_method(entry)
    for name in RELATIONSHIPS:
        refs = document.get(name, [])
        if not isinstance(refs, list):
            raise DIDDocumentInvalid(f"{did}: {name} is not a list")
        for ref in refs:
            relations[name].add(_absolute(did, ref) if isinstance(ref, str) else add_method(ref))
    return methods, relations


def _time(method: Mapping[str, Any], name: str) -> datetime | None:
    value = method.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise DIDDocumentInvalid(
            f"verification method {method.get('id')!r}: {name} is not a date-time"
        ) from exc
    if moment.tzinfo is None:
        raise DIDDocumentInvalid(f"verification method {method.get('id')!r}: {name} has no time zone")
    return moment


def _resolved(method_id: str, method: dict[str, Any], uses: frozenset[str]) -> ResolvedKey:
    key_type, public_key = key_from_method(method)
    return ResolvedKey(
        id=method_id,
        controller=str(method.get("controller")),
        method_type=str(method.get("type")),
        key_type=key_type,
        public_key=public_key,
        relationships=uses,
        valid_from=_time(method, "validFrom"),
        expires=_time(method, "expires"),
        revoked=_time(method, "revoked"),
        method=method,
    )


def list_keys(document: Mapping[str, Any], did: str) -> list[ResolvedKey]:
    """Every Ed25519/X25519 key in a document with its relationships and validity, for display.

    Nothing is checked for use here (no purpose, no time); methods holding other key types are skipped.
    """
    methods, relations = _methods_and_relationships(document, did)
    keys: list[ResolvedKey] = []
    for method_id, method in methods.items():
        uses = frozenset(name for name, ids in relations.items() if method_id in ids)
        try:
            keys.append(_resolved(method_id, method, uses))
        except DIDDocumentInvalid:
            continue
    return keys


def select_verification_method(
    document: Mapping[str, Any],
    did: str,
    fragment: str | None,
    *,
    purpose: str | None = "assertionMethod",
    at: datetime | None = None,
) -> ResolvedKey:
    """Steps (1)-(5) of the module docstring; `fragment` None means "the only key for this purpose"."""
    if purpose is not None and purpose not in RELATIONSHIPS:
        raise UsageError(f"purpose must be one of {', '.join(RELATIONSHIPS)}, got {purpose!r}")
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None:
        raise UsageError("the moment a key is used at must be timezone-aware")
    methods, relations = _methods_and_relationships(document, did)
    # (1) find the method
    if fragment is None:
        candidates = sorted(relations[purpose]) if purpose else sorted(methods)
        if len(candidates) != 1:
            raise VerificationMethodNotFound(
                f"{did} has {len(candidates)} keys for {purpose or 'any purpose'}; name one with '#fragment'"
            )
        method_id = candidates[0]
    else:
        method_id = f"{did}#{fragment}"
    method = methods.get(method_id)
    if method is None:
        raise VerificationMethodNotFound(f"{did} has no verification method {method_id!r}")
    # (2) authorised for the purpose
    uses = frozenset(name for name, ids in relations.items() if method_id in ids)
    if purpose is not None and purpose not in uses:
        raise VerificationMethodNotFound(f"{method_id} is not listed under {purpose} in the DID document")
    # (3) controlled by the DID itself
    if method.get("controller") != did:
        raise DIDDocumentInvalid(f"{method_id} is controlled by {method.get('controller')!r}, not by {did}")
    # (4) the key, of the type the purpose needs
    key = _resolved(method_id, method, uses)
    if purpose is not None and key.key_type != _PURPOSE_KEY_TYPE[purpose]:
        raise DIDDocumentInvalid(f"{method_id} is an {key.key_type} key, unusable for {purpose}")
    # (5) valid at the moment of use
    if not key.usable_at(at):
        if key.revoked is not None and key.revoked <= at:
            why = f"was revoked at {key.revoked.isoformat()}"
        elif key.expires is not None and key.expires <= at:
            why = f"expired at {key.expires.isoformat()}"
        else:
            why = f"is not valid before {key.valid_from.isoformat() if key.valid_from else '?'}"
        raise KeyExpiredOrRevoked(f"{method_id} {why}", details={"key": method_id})
    return key
