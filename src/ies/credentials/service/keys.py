"""The issuer's signing keys: the node's Ed25519 key, and a P-256 key for ES256 kept next to it.

Why the node key: an issuer node is already a did:web identity whose Ed25519 key is published in its
`did.json` (`ies.identity.did_web.node_did_document`), so Data Integrity, EdDSA JOSE and SD-JWT credentials
verify against the document the node serves anyway, and a key rotation of the node rotates its credential
key too. ES256 (the IES guides' VC-JOSE default) needs a P-256 key, which the identity layer does not hold:
it is generated once, stored as PKCS#8 PEM with mode 0600 before any byte is written, and published as a
JsonWebKey2020 verification method (`verification_method_entry`) under `#vc-es256`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ies.credentials.keys import IssuerKey, verification_method_entry
from ies.credentials.model import ProofFormat
from ies.errors import UsageError
from ies.identity.keys import NodeKeys

__all__ = ["P256_FRAGMENT", "P256_KEY_FILE", "IssuerKeys", "load_or_create_p256"]

P256_KEY_FILE = "credentials-p256.pem"
"""File name of the ES256 key, in the same folder as the node's `keys.json`."""

P256_FRAGMENT = "vc-es256"


def load_or_create_p256(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read the P-256 key at `path`, creating it (mode 0600) the first time."""
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"{path} is not a readable unencrypted PEM private key") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise UsageError(f"{path} does not hold a P-256 key")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
    finally:
        os.close(fd)
    return key


@dataclass
class IssuerKeys:
    """The keys an issuer signs with, looked up at signing time (the node key can rotate while it runs)."""

    did: str
    node_keys: Callable[[], NodeKeys]
    p256: ec.EllipticCurvePrivateKey | None = None

    def ed25519(self) -> IssuerKey:
        keys = self.node_keys()
        return IssuerKey(f"{self.did}#{keys.key_id}", keys.signing)

    def es256(self) -> IssuerKey:
        if self.p256 is None:
            raise UsageError("this issuer has no P-256 key, so it cannot issue vc-jose-es256")
        return IssuerKey(f"{self.did}#{P256_FRAGMENT}", self.p256)

    def for_format(self, proof_format: ProofFormat) -> IssuerKey:
        """ES256 for `vc-jose-es256`; the node's Ed25519 key for every other format."""
        return self.es256() if proof_format == ProofFormat.VC_JOSE_ES256 else self.ed25519()

    def extra_verification_methods(self) -> list[dict[str, Any]]:
        """Methods to add to the node's DID document (under `assertionMethod`) beyond its node keys."""
        return [verification_method_entry(self.es256())] if self.p256 is not None else []

    def extend_did_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """`document` with the P-256 method added to `verificationMethod` and `assertionMethod`."""
        extra = self.extra_verification_methods()
        if not extra:
            return document
        out = dict(document)
        contexts = out.get("@context", [])
        contexts = list(contexts) if isinstance(contexts, list) else [contexts]
        jws_context = "https://w3id.org/security/suites/jws-2020/v1"
        if jws_context not in contexts:
            contexts.append(jws_context)
        out["@context"] = contexts
        methods = list(out.get("verificationMethod", []))
        known = {m.get("id") for m in methods if isinstance(m, dict)}
        methods += [m for m in extra if m["id"] not in known]
        out["verificationMethod"] = methods
        assertion = list(out.get("assertionMethod", []))
        assertion += [m["id"] for m in extra if m["id"] not in assertion]
        out["assertionMethod"] = assertion
        return out
