"""Compact JWS for VC-JOSE-COSE credentials and presentations, SD-JWTs and key-binding JWTs.

Why partly our own: a compact JWS is `b64url(header).b64url(payload).b64url(signature)`, and the verifier
must look at the header (alg, kid, typ) BEFORE choosing a key, then insist that the alg fits the key it
resolved (no algorithm confusion: an ES256 header never gets an Ed25519 key and vice versa). ES256 tokens
are signed by joserfc and checked by `cryptography` (two implementations meet in every round trip); EdDSA
tokens are signed and checked with PyNaCl, which is faster. We write `alg: EdDSA` (what VC stacks read
today) and accept the RFC 9864 name `Ed25519` as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws as _jws
from joserfc.jwk import ECKey

from ies.credentials.errors import CredentialMalformed, CredentialSignatureInvalid, UnsupportedProofFormat
from ies.credentials.issuer_keys import PublicKey
from ies.credentials.keys import IssuerKey
from ies.identity.did_errors import MultibaseInvalid
from ies.identity.multibase import b64url_decode, b64url_encode

__all__ = [
    "TYP_KB_JWT",
    "TYP_SD_JWT",
    "TYP_VC",
    "TYP_VP",
    "CompactJWS",
    "check_signature",
    "parse_compact",
    "sign_compact",
]

TYP_VC = "vc+jwt"
TYP_VP = "vp+jwt"
TYP_SD_JWT = "vc+sd-jwt"
TYP_KB_JWT = "kb+jwt"

_ALG_KEY = {"ES256": "P-256", "EdDSA": "Ed25519", "Ed25519": "Ed25519"}
MAX_TOKEN_CHARS = 1_000_000
"""A credential token larger than this is refused before decoding (an IES passport is a few KB)."""


@dataclass(frozen=True)
class CompactJWS:
    """A parsed, NOT yet verified compact JWS."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    token: str

    @property
    def alg(self) -> str:
        return str(self.header.get("alg"))

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_compact(
    payload: Mapping[str, Any], key: IssuerKey, *, typ: str, cty: str | None = None, kid: bool = True
) -> str:
    """Sign `payload` as a compact JWS with the key's algorithm (ES256 or EdDSA)."""
    header: dict[str, Any] = {"alg": key.jws_alg}
    if kid:
        header["kid"] = key.verification_method
    header["typ"] = typ
    if cty is not None:
        header["cty"] = cty
    body = _json_bytes(payload)
    if key.algorithm == "P-256":
        jwk = ECKey.import_key(key.private_key)  # type: ignore[arg-type]
        return str(_jws.serialize_compact(header, body, jwk, algorithms=["ES256"]))
    signing_input = f"{b64url_encode(_json_bytes(header))}.{b64url_encode(body)}"
    signature = key.ed25519().sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _decode_json_part(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (MultibaseInvalid, UnicodeDecodeError, ValueError) as exc:
        raise CredentialMalformed(f"{what} is not base64url-encoded JSON") from exc
    if not isinstance(value, dict):
        raise CredentialMalformed(f"{what} is not a JSON object")
    return value


def parse_compact(token: str, *, what: str = "JWT") -> CompactJWS:
    """Split and decode a compact JWS; CredentialMalformed when it is not one."""
    if len(token) > MAX_TOKEN_CHARS:
        raise CredentialMalformed(f"{what} is longer than {MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise CredentialMalformed(f"{what} is not a compact JWS (header.payload.signature)")
    header = _decode_json_part(parts[0], f"{what} header")
    payload = _decode_json_part(parts[1], f"{what} payload")
    try:
        signature = b64url_decode(parts[2])
    except MultibaseInvalid as exc:
        raise CredentialMalformed(f"{what} signature is not base64url") from exc
    if "crit" in header:
        raise UnsupportedProofFormat(f"{what} header has critical extensions {header['crit']!r}")
    if header.get("alg") not in _ALG_KEY:
        raise UnsupportedProofFormat(
            f"{what} alg {header.get('alg')!r} is not accepted (ES256, EdDSA/Ed25519 are)",
            details={"alg": str(header.get("alg"))},
        )
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return CompactJWS(header, payload, signing_input, signature, token)


def check_signature(token: CompactJWS, key: PublicKey, *, what: str = "JWT") -> None:
    """Raise CredentialSignatureInvalid unless `key` (of the type the alg demands) signed the token."""
    if _ALG_KEY[token.alg] != key.algorithm:
        raise CredentialSignatureInvalid(
            f"{what} alg {token.alg} does not fit {key.method_id}, a {key.algorithm} key",
            details={"key": key.method_id},
        )
    if not key.verify(token.signing_input, token.signature):
        raise CredentialSignatureInvalid(
            f"the {what} signature does not match its content (altered, or another key)",
            details={"key": key.method_id},
        )
