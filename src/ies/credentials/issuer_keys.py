"""Finding the public key a proof names, in the signer's DID document, failing closed at each step.

Why not only `ies.identity.resolver.resolve_key`: credential keys may be P-256 (`JsonWebKey2020` with an EC
JWK, the IES guides' credential key), which the Beckn-oriented identity layer does not read, and the
failures must become credential error codes: a key that is not the issuer's is VC_UNKNOWN_KEY, a key not
authorised for the proof's purpose is VC_PROOF_PURPOSE, an unreachable issuer is VC_ISSUER_UNRESOLVABLE.

Steps: (1) the DID of the key must be the signer's DID (issuer, or holder for presentations); (2) resolve
that DID; (3) find the method (in `verificationMethod` or embedded in a relationship); (4) it must be listed
under the verification relationship of the proof purpose; (5) its controller must be the DID; (6) read the
key (Ed25519 Multikey / 2018 / 2020 / OKP JWK, or P-256 EC JWK); (7) it must be usable at the moment of use
(`validFrom`, `expires`, `revoked`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ies.credentials.errors import IssuerUnreachable, ProofPurposeInvalid, UnknownKey
from ies.credentials.keys import KeyAlgorithm
from ies.errors import IESError, NotFoundError
from ies.identity.did_errors import DIDDocumentInvalid, MultibaseInvalid
from ies.identity.keys import verify_ed25519
from ies.identity.multibase import b64url_decode, b64url_encode
from ies.identity.resolver import DIDResolver
from ies.identity.verification_method import key_from_method

__all__ = ["PublicKey", "resolve_public_key"]


@dataclass(frozen=True)
class PublicKey:
    """A verification key found in a DID document: Ed25519 raw bytes or a P-256 public key."""

    method_id: str
    controller: str
    algorithm: KeyAlgorithm
    ed25519: bytes | None = None
    p256: ec.EllipticCurvePublicKey | None = None

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Ed25519, or ES256 with the JOSE raw r‖s signature encoding (64 bytes)."""
        if self.ed25519 is not None:
            return verify_ed25519(self.ed25519, message, signature)
        if self.p256 is None or len(signature) != 64:
            return False
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            self.p256.verify(der, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    def jwk(self) -> dict[str, str]:
        if self.ed25519 is not None:
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.ed25519)}
        assert self.p256 is not None
        numbers = self.p256.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }


def public_key_from_jwk(jwk: Any, method_id: str, controller: str) -> PublicKey:
    """A PublicKey from a public JWK (OKP Ed25519 or EC P-256); UnknownKey for anything else."""
    if not isinstance(jwk, Mapping):
        raise UnknownKey(f"{method_id}: no usable public JWK")
    if "d" in jwk:
        raise UnknownKey(f"{method_id}: the JWK carries a private key ('d'); refusing it")
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            raw = b64url_decode(str(jwk.get("x", "")))
            if len(raw) != 32:
                raise UnknownKey(f"{method_id}: Ed25519 JWK 'x' is {len(raw)} bytes, not 32")
            return PublicKey(method_id, controller, "Ed25519", ed25519=raw)
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x = int.from_bytes(b64url_decode(str(jwk.get("x", ""))), "big")
            y = int.from_bytes(b64url_decode(str(jwk.get("y", ""))), "big")
            key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
            return PublicKey(method_id, controller, "P-256", p256=key)
    except (MultibaseInvalid, ValueError) as exc:
        raise UnknownKey(f"{method_id}: the JWK is not a valid public key ({exc})") from exc
    raise UnknownKey(f"{method_id}: key type {jwk.get('kty')}/{jwk.get('crv')} cannot verify credentials")


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref


def _find_method(document: Mapping[str, Any], did: str, method_id: str) -> dict[str, Any] | None:
    candidates: list[Any] = list(document.get("verificationMethod") or [])
    for name in ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
        candidates += [m for m in document.get(name) or [] if isinstance(m, Mapping)]
    for entry in candidates:
        if isinstance(entry, Mapping) and _absolute(did, str(entry.get("id", ""))) == method_id:
            return dict(entry)
    return None


def _listed_under(document: Mapping[str, Any], did: str, method_id: str, relationship: str) -> bool:
    for ref in document.get(relationship) or []:
        ident = ref if isinstance(ref, str) else ref.get("id") if isinstance(ref, Mapping) else None
        if isinstance(ident, str) and _absolute(did, ident) == method_id:
            return True
    return False


def _moment(method: Mapping[str, Any], name: str, method_id: str) -> datetime | None:
    value = method.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise UnknownKey(f"{method_id}: {name} {value!r} is not a date-time") from exc
    if moment.tzinfo is None:
        raise UnknownKey(f"{method_id}: {name} has no time zone")
    return moment


def _read_key(method: Mapping[str, Any], method_id: str, did: str) -> PublicKey:
    jwk = method.get("publicKeyJwk")
    if isinstance(jwk, Mapping) and jwk.get("kty") == "EC":
        return public_key_from_jwk(jwk, method_id, did)
    try:
        key_type, raw = key_from_method(method)
    except DIDDocumentInvalid as exc:
        raise UnknownKey(f"{method_id}: {exc.message}") from exc
    if key_type != "Ed25519":
        raise UnknownKey(f"{method_id} is an {key_type} key-agreement key; it cannot sign")
    return PublicKey(method_id, did, "Ed25519", ed25519=raw)


def resolve_public_key(
    resolver: DIDResolver,
    method_id: str,
    *,
    signer: str,
    relationship: str,
    at: datetime,
) -> PublicKey:
    """Steps (1)-(7) of the module docstring for the DID URL `method_id` used by `signer` at `at`."""
    did, sep, fragment = method_id.partition("#")
    # (1) the key belongs to the signer
    if not sep or not fragment or not did.startswith("did:"):
        raise UnknownKey(f"verification method {method_id!r} is not a DID URL (did:…#fragment)")
    if did != signer:
        raise UnknownKey(
            f"the proof names a key of {did}, but the signer is {signer}", details={"key": method_id}
        )
    # (2) resolve the DID
    try:
        document = resolver.resolve(did)
    except NotFoundError as exc:
        raise UnknownKey(f"{did} does not resolve: {exc.message}", details={"key": method_id}) from exc
    except IESError as exc:
        raise IssuerUnreachable(f"cannot resolve {did}: {exc.message}", details={"did": did}) from exc
    # (3) find the method
    method = _find_method(document, did, method_id)
    if method is None:
        raise UnknownKey(f"{did} publishes no key {method_id}", details={"key": method_id})
    # (4) authorised for the purpose
    if not _listed_under(document, did, method_id, relationship):
        raise ProofPurposeInvalid(
            f"{method_id} is not listed under {relationship} in the DID document of {did}",
            details={"key": method_id, "relationship": relationship},
        )
    # (5) controlled by the DID itself
    controller = _absolute(did, str(method.get("controller", "")))
    if controller != did:
        raise UnknownKey(f"{method_id} is controlled by {controller!r}, not by {did}")
    # (6) the key material
    key = _read_key(method, method_id, did)
    # (7) usable at the moment of use
    revoked, expires = _moment(method, "revoked", method_id), _moment(method, "expires", method_id)
    valid_from = _moment(method, "validFrom", method_id)
    if revoked is not None and revoked <= at:
        raise UnknownKey(f"{method_id} was revoked at {revoked.isoformat()}", details={"key": method_id})
    if expires is not None and expires <= at:
        raise UnknownKey(f"{method_id} expired at {expires.isoformat()}", details={"key": method_id})
    if valid_from is not None and at < valid_from:
        raise UnknownKey(
            f"{method_id} is not valid before {valid_from.isoformat()}", details={"key": method_id}
        )
    return key
