"""Verification methods: writing a public key into a DID document, and reading it back out.

Why one module for both directions: did:key expansion, the did:web document builder and the resolver
must agree on every spelling of a key. We write Multikey (the current W3C form) by default,
JsonWebKey2020 when a verifier needs JWKs (the IES guides ask for it), and the legacy 2018/2019 base58
types only to reproduce the published did:key vectors. We read all of those plus the 2020 suites, so
documents made by other stacks (Digital Bazaar, Veramo, ACA-Py, IES OpenCred) resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from ies.identity.did_errors import DIDDocumentInvalid, MultibaseInvalid
from ies.identity.multibase import (
    ED25519_PUB,
    X25519_PUB,
    b58decode,
    b58encode,
    b64url_decode,
    b64url_encode,
    decode_multikey,
    encode_multikey,
)

__all__ = [
    "CONTEXT_DID_V1",
    "KeyFormat",
    "KeyType",
    "context_for",
    "key_from_method",
    "make_method",
]

KeyType = Literal["Ed25519", "X25519"]
KeyFormat = Literal["Multikey", "JsonWebKey2020", "Ed25519VerificationKey2018"]
KEY_FORMATS: tuple[str, ...] = get_args(KeyFormat)

CONTEXT_DID_V1 = "https://www.w3.org/ns/did/v1"
_FORMAT_CONTEXTS: dict[str, list[str]] = {
    "Multikey": ["https://w3id.org/security/multikey/v1"],
    "JsonWebKey2020": ["https://w3id.org/security/suites/jws-2020/v1"],
    "Ed25519VerificationKey2018": [
        "https://w3id.org/security/suites/ed25519-2018/v1",
        "https://w3id.org/security/suites/x25519-2019/v1",
    ],
}
_CODEC: dict[str, int] = {"Ed25519": ED25519_PUB, "X25519": X25519_PUB}
_KEY_TYPE_OF_CODEC: dict[int, KeyType] = {ED25519_PUB: "Ed25519", X25519_PUB: "X25519"}
_LEGACY_TYPE: dict[str, str] = {
    "Ed25519": "Ed25519VerificationKey2018",
    "X25519": "X25519KeyAgreementKey2019",
}


def context_for(key_format: KeyFormat, *, with_x25519: bool = True) -> list[str]:
    """The `@context` of a document whose keys are written in `key_format`."""
    extra = _FORMAT_CONTEXTS[key_format]
    if key_format == "Ed25519VerificationKey2018" and not with_x25519:
        extra = extra[:1]
    return [CONTEXT_DID_V1, *extra]


def make_method(
    method_id: str, controller: str, key_type: KeyType, public_key: bytes, key_format: KeyFormat = "Multikey"
) -> dict[str, Any]:
    """A verification method object for one raw 32-byte public key."""
    if len(public_key) != 32:
        raise MultibaseInvalid(f"an {key_type} public key is 32 bytes, got {len(public_key)}")
    method: dict[str, Any] = {"id": method_id, "controller": controller}
    if key_format == "Multikey":
        method["type"] = "Multikey"
        method["publicKeyMultibase"] = encode_multikey(_CODEC[key_type], public_key)
    elif key_format == "JsonWebKey2020":
        method["type"] = "JsonWebKey2020"
        method["publicKeyJwk"] = {"kty": "OKP", "crv": key_type, "x": b64url_encode(public_key)}
    elif key_format == "Ed25519VerificationKey2018":
        method["type"] = _LEGACY_TYPE[key_type]
        method["publicKeyBase58"] = b58encode(public_key)
    else:
        raise ValueError(f"unknown key format {key_format!r}")
    return method


_MULTIBASE_TYPES: dict[str, tuple[int, ...]] = {
    "Multikey": (ED25519_PUB, X25519_PUB),
    "Ed25519VerificationKey2020": (ED25519_PUB,),
    "X25519KeyAgreementKey2020": (X25519_PUB,),
}
_BASE58_TYPES: dict[str, KeyType] = {
    "Ed25519VerificationKey2018": "Ed25519",
    "X25519KeyAgreementKey2019": "X25519",
}
_JWK_TYPES = ("JsonWebKey2020", "JsonWebKey")


def key_from_method(method: Mapping[str, Any]) -> tuple[KeyType, bytes]:
    """(key type, raw public key) of a verification method; DIDDocumentInvalid when it holds no usable key."""
    vm_type = method.get("type")
    where = f"verification method {method.get('id')!r}"
    try:
        if vm_type in _MULTIBASE_TYPES:
            value = _string_member(method, "publicKeyMultibase", where)
            codec, key = decode_multikey(value, expect=_MULTIBASE_TYPES[vm_type])
            return _KEY_TYPE_OF_CODEC[codec], key
        if vm_type in _BASE58_TYPES:
            key = b58decode(_string_member(method, "publicKeyBase58", where))
            if len(key) != 32:
                raise DIDDocumentInvalid(f"{where}: publicKeyBase58 is {len(key)} bytes, not 32")
            return _BASE58_TYPES[vm_type], key
        if vm_type in _JWK_TYPES:
            return _key_from_jwk(method.get("publicKeyJwk"), where)
    except MultibaseInvalid as exc:
        raise DIDDocumentInvalid(f"{where}: {exc.message}") from exc
    raise DIDDocumentInvalid(f"{where} has type {vm_type!r}, which holds no Ed25519 or X25519 key we read")


def _key_from_jwk(jwk: Any, where: str) -> tuple[KeyType, bytes]:
    if not isinstance(jwk, Mapping):
        raise DIDDocumentInvalid(f"{where} has no publicKeyJwk object")
    if "d" in jwk:
        raise DIDDocumentInvalid(f"{where} publishes a private key ('d'); refusing it")
    crv = jwk.get("crv")
    if jwk.get("kty") != "OKP" or crv not in ("Ed25519", "X25519"):
        raise DIDDocumentInvalid(
            f"{where}: only OKP Ed25519/X25519 JWKs are supported, got {jwk.get('crv')!r}"
        )
    key = b64url_decode(_string_member(jwk, "x", where))
    if len(key) != 32:
        raise DIDDocumentInvalid(f"{where}: JWK 'x' is {len(key)} bytes, not 32")
    return crv, key


def _string_member(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise DIDDocumentInvalid(f"{where} lacks a string {name}")
    return value
