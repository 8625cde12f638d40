"""`did:key`: a DID that is its own public key, expanded into a document without any network.

Why: IES holders (wallets, consumers) identify themselves with did:key, and every credential they
present names a `did:key:z6Mk…#z6Mk…` verification method. Following the W3C CCG did:key spec
(v0.7): the identifier is `z` + base58btc(multicodec ‖ key); an Ed25519 DID gets one verification
method whose fragment is that same value, referenced from authentication, assertionMethod,
capabilityInvocation and capabilityDelegation, plus an X25519 key-agreement key derived from the
Ed25519 key by the birational map (libsodium's `crypto_sign_ed25519_pk_to_curve25519`). Note the
derived key is not the node's separate X25519 encryption key: anyone can derive it from the DID alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519

from ies.identity.did_errors import DIDInvalid, MultibaseInvalid
from ies.identity.did_syntax import parse_did
from ies.identity.multibase import ED25519_PUB, X25519_PUB, decode_multikey, encode_multikey
from ies.identity.verification_method import KeyFormat, KeyType, context_for, make_method

__all__ = [
    "DIDKey",
    "did_key_document",
    "did_key_from_ed25519",
    "did_key_from_x25519",
    "ed25519_public_to_x25519",
    "parse_did_key",
]


@dataclass(frozen=True)
class DIDKey:
    """A parsed did:key: the DID, its multibase value (also the key's fragment) and the raw public key."""

    did: str
    multibase: str
    key_type: KeyType
    public_key: bytes

    @property
    def key_id(self) -> str:
        """The DID URL of the key itself, `did:key:z…#z…`."""
        return f"{self.did}#{self.multibase}"


def did_key_from_ed25519(public_key: bytes) -> str:
    _require_valid_ed25519_point(public_key)
    return "did:key:" + encode_multikey(ED25519_PUB, public_key)


def did_key_from_x25519(public_key: bytes) -> str:
    return "did:key:" + _multikey_or_usage_error(X25519_PUB, public_key)


def parse_did_key(did: str) -> DIDKey:
    """Read the public key back out of a did:key; DIDInvalid when it is not a supported key."""
    parsed = parse_did(did)
    if parsed.method != "key":
        raise DIDInvalid(f"{did!r} is not a did:key")
    value = parsed.method_specific_id
    if ":" in value:
        raise DIDInvalid(f"{did!r}: versioned or multi-part did:key identifiers are not supported")
    try:
        codec, key = decode_multikey(value, expect=(ED25519_PUB, X25519_PUB))
    except MultibaseInvalid as exc:
        raise DIDInvalid(f"{did!r} does not encode a supported public key: {exc.message}") from exc
    key_type: KeyType = "Ed25519" if codec == ED25519_PUB else "X25519"
    if key_type == "Ed25519":
        _require_valid_ed25519_point(key)
    return DIDKey(did=did, multibase=value, key_type=key_type, public_key=key)


def ed25519_public_to_x25519(public_key: bytes) -> bytes:
    """The X25519 public key that corresponds to an Ed25519 public key (RFC 7748 §4.1 birational map)."""
    if len(public_key) != 32:
        raise DIDInvalid(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    try:
        return bytes(crypto_sign_ed25519_pk_to_curve25519(public_key))
    except Exception as exc:  # libsodium refuses small-order or non-canonical points with a RuntimeError
        raise DIDInvalid("the Ed25519 public key is not a valid curve point") from exc


def did_key_document(
    did: str, *, key_format: KeyFormat = "Multikey", derive_key_agreement: bool = True
) -> dict[str, Any]:
    """Expand a did:key into its DID document (the spec's "Document Creation Algorithm")."""
    key = parse_did_key(did)
    methods = [make_method(key.key_id, did, key.key_type, key.public_key, key_format)]
    doc: dict[str, Any] = {"@context": [], "id": did, "verificationMethod": methods}
    if key.key_type == "X25519":
        doc["@context"] = context_for(key_format, with_x25519=True)
        doc["keyAgreement"] = [key.key_id]
        if key_format == "Ed25519VerificationKey2018":
            doc["@context"] = [doc["@context"][0], doc["@context"][2]]
        return doc
    doc["@context"] = context_for(key_format, with_x25519=derive_key_agreement)
    for relation in ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"):
        doc[relation] = [key.key_id]
    if derive_key_agreement:
        x_pub = ed25519_public_to_x25519(key.public_key)
        x_id = f"{did}#{encode_multikey(X25519_PUB, x_pub)}"
        methods.append(make_method(x_id, did, "X25519", x_pub, key_format))
        doc["keyAgreement"] = [x_id]
    return doc


def _require_valid_ed25519_point(public_key: bytes) -> None:
    ed25519_public_to_x25519(public_key)


def _multikey_or_usage_error(codec: int, key: bytes) -> str:
    try:
        return encode_multikey(codec, key)
    except MultibaseInvalid as exc:
        raise DIDInvalid(exc.message) from exc
