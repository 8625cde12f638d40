"""Eligibility: the DISCOM's signed record of a prosumer's connection, and its verification by a TP.

Why a DISCOM-signed record: a trading platform must not take a prosumer's word for their meter, their
sanctioned load (the 500 % cap is computed from it) or the DER behind the meter. The DISCOM, which holds
the connection, signs those facts with its registered Ed25519 key; any TP checks the signature against the
DISCOM's key in the registry, without calling the DISCOM. (An `ElectricityCredential` carries the same
facts as a W3C VC; this record is the minimum until every DISCOM issues those.)

The signature covers the RFC 8785 canonical JSON of the record without its `proof`, so whitespace and key
order never matter and the verifier never re-serialises differently from the signer.

Verification steps (each raises `IneligibleProsumer` with its own reason):
  (1) the record has the fields a P2P eligibility decision needs, of the right types
  (2) the issuer is a DISCOM this TP accepts for the record's utility
  (3) the key named in the proof is a registered, active key of that issuer
  (4) the Ed25519 signature verifies over the canonical record
  (5) the record is inside its validity window and says `eligibleForP2P`
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785

from ies.errors import PolicyError
from ies.identity.keys import SigningKeyPair, b64decode_strict, verify_ed25519
from ies.usecases.p2p.timeseries import iso, parse_time

__all__ = [
    "RECORD_TYPE",
    "ConnectionFacts",
    "IneligibleProsumer",
    "sign_record",
    "verify_record",
]

RECORD_TYPE = "P2PConnectionRecord"
PROOF_TYPE = "Ed25519Signature-RFC8785"


class IneligibleProsumer(PolicyError):
    """The prosumer's onboarding record does not make them eligible (with the step that failed)."""

    code = "POL_P2P_INELIGIBLE"


@dataclass(frozen=True)
class ConnectionFacts:
    """What a verified record establishes about a prosumer's connection."""

    issuer: str
    utility_id: str
    meter_id: str
    customer_id: str
    sanctioned_load_w: int
    solar_w: int
    feeder_id: str
    valid_until: datetime


def sign_record(
    facts: ConnectionFacts, *, key: SigningKeyPair, key_id: str, issued_at: datetime | None = None
) -> dict[str, Any]:
    """The record a DISCOM hands its customer (and the customer hands their TP)."""
    issued = (issued_at or datetime.now(UTC)).astimezone(UTC)
    record: dict[str, Any] = {
        "type": RECORD_TYPE,
        "issuer": facts.issuer,
        "utilityId": facts.utility_id,
        "meterId": facts.meter_id,
        "utilityCustomerId": facts.customer_id,
        "sanctionedLoadW": facts.sanctioned_load_w,
        "der": [{"type": "SOLAR", "capacityW": facts.solar_w}] if facts.solar_w else [],
        "feederId": facts.feeder_id,
        "eligibleForP2P": True,
        "issuedAt": iso(issued),
        "validUntil": iso(facts.valid_until),
    }
    signature = key.sign(rfc8785.dumps(record))
    record["proof"] = {
        "type": PROOF_TYPE,
        "keyId": f"{facts.issuer}|{key_id}|ed25519",
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return record


def _field(record: Mapping[str, Any], name: str, kind: type) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise IneligibleProsumer(
            f"onboarding record: {name} is missing or not a {kind.__name__}",
            details={"rule": "RECORD_MALFORMED", "field": name},
        )
    return value


def verify_record(
    record: Any,
    *,
    accepted_issuers: Mapping[str, str],
    issuer_keys: Mapping[str, str],
    now: datetime | None = None,
) -> ConnectionFacts:
    """Check a record; `accepted_issuers` maps utility id → DISCOM subscriber id, `issuer_keys` the
    issuer's active key ids → base64 public keys (from the registry). Raises IneligibleProsumer."""
    # (1) form
    if not isinstance(record, dict) or record.get("type") != RECORD_TYPE:
        raise IneligibleProsumer("not a P2P connection record", details={"rule": "RECORD_MALFORMED"})
    issuer = _field(record, "issuer", str)
    utility = _field(record, "utilityId", str)
    meter = _field(record, "meterId", str)
    customer = _field(record, "utilityCustomerId", str)
    sanctioned = _field(record, "sanctionedLoadW", int)
    feeder = _field(record, "feederId", str)
    proof = record.get("proof")
    if not isinstance(proof, dict) or proof.get("type") != PROOF_TYPE:
        raise IneligibleProsumer("the record carries no proof", details={"rule": "RECORD_UNSIGNED"})
    solar = sum(int(d.get("capacityW", 0)) for d in record.get("der") or [] if isinstance(d, dict))
    if sanctioned <= 0:
        raise IneligibleProsumer("sanctioned load must be positive", details={"rule": "RECORD_MALFORMED"})
    # (2) issuer accepted for this utility
    if accepted_issuers.get(utility) != issuer:
        raise IneligibleProsumer(
            f"{issuer} is not the DISCOM this platform accepts for utility {utility}",
            details={"rule": "ISSUER_NOT_ACCEPTED", "issuer": issuer, "utility": utility},
        )
    # (3) key registered for the issuer
    parts = str(proof.get("keyId", "")).split("|")
    if len(parts) != 3 or parts[0] != issuer or parts[2] != "ed25519":
        raise IneligibleProsumer(
            "proof keyId does not name a key of the issuer", details={"rule": "KEY_UNKNOWN"}
        )
    public_b64 = issuer_keys.get(parts[1])
    if public_b64 is None:
        raise IneligibleProsumer(
            f"key {parts[1]} is not an active registered key of {issuer}", details={"rule": "KEY_UNKNOWN"}
        )
    # (4) signature
    unsigned = {k: v for k, v in record.items() if k != "proof"}
    try:
        signature = base64.b64decode(str(proof.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if not verify_ed25519(b64decode_strict(public_b64, lengths=(32,)), rfc8785.dumps(unsigned), signature):
        raise IneligibleProsumer(
            "the DISCOM's signature does not verify", details={"rule": "SIGNATURE_INVALID"}
        )
    # (5) window and eligibility
    at = now or datetime.now(UTC)
    valid_until = parse_time(record.get("validUntil"), "validUntil")
    issued_at = parse_time(record.get("issuedAt"), "issuedAt")
    if not issued_at - timedelta(minutes=5) <= at <= valid_until:
        raise IneligibleProsumer(
            "the onboarding record is outside its validity window", details={"rule": "RECORD_EXPIRED"}
        )
    if record.get("eligibleForP2P") is not True:
        raise IneligibleProsumer(
            "the DISCOM does not declare this connection eligible for P2P trading",
            details={"rule": "NOT_ELIGIBLE"},
        )
    return ConnectionFacts(issuer, utility, meter, customer, sanctioned, solar, feeder, valid_until)
