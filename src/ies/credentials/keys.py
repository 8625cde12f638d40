"""Signing keys for credentials: an Ed25519 or P-256 private key together with the DID URL that names it.

Why the pairing: every proof format writes the verification method (`did:web:discom.example#key-1`,
`did:key:z6Mk…#z6Mk…`) into the proof or the JWS `kid`, and a verifier resolves exactly that; carrying
them together means a proof can never name one key while being signed by another. Ed25519 keys are the
identity layer's `SigningKeyPair` (PyNaCl); P-256 keys (ES256, the IES guides' credential key) come from
`cryptography`. `verification_method_entry` gives the DID-document entry an issuer publishes for its key
(Multikey for Ed25519, JsonWebKey2020 with an EC JWK for P-256, as the IES guides ask).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec

from ies.errors import UsageError
from ies.identity.did_key import did_key_from_ed25519
from ies.identity.keys import SigningKeyPair
from ies.identity.multibase import ED25519_PRIV, ED25519_PUB, b64url_encode, decode_multikey, encode_multikey

__all__ = ["IssuerKey", "KeyAlgorithm", "p256_public_jwk", "verification_method_entry"]

KeyAlgorithm = Literal["Ed25519", "P-256"]


@dataclass(frozen=True)
class IssuerKey:
    """A private signing key and the DID URL of its verification method (issuer, or holder for VPs)."""

    verification_method: str
    private_key: SigningKeyPair | ec.EllipticCurvePrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if "#" not in self.verification_method or not self.verification_method.startswith("did:"):
            raise UsageError(
                f"verification method {self.verification_method!r} must be a DID URL with a #fragment"
            )
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(self.private_key.curve, ec.SECP256R1):
                raise UsageError(f"only P-256 EC keys are supported, got {self.private_key.curve.name}")
        elif not isinstance(self.private_key, SigningKeyPair):
            raise UsageError("an IssuerKey holds an Ed25519 SigningKeyPair or a P-256 private key")

    # -- named constructors ----------------------------------------------------------------------------

    @classmethod
    def did_key(cls, pair: SigningKeyPair) -> IssuerKey:
        """The did:key identity of an Ed25519 key pair (how holders sign presentations)."""
        did = did_key_from_ed25519(pair.public_key)
        return cls(f"{did}#{did.removeprefix('did:key:')}", pair)

    @classmethod
    def from_multikey(cls, verification_method: str, private_key_multibase: str) -> IssuerKey:
        """An Ed25519 key from a `privateKeyMultibase` (`z3u2…`, ed25519-priv), as the W3C vectors give."""
        _, seed = decode_multikey(private_key_multibase, expect=(ED25519_PRIV,))
        return cls(verification_method, SigningKeyPair.from_seed(seed))

    @classmethod
    def generate_p256(cls, verification_method: str) -> IssuerKey:
        return cls(verification_method, ec.generate_private_key(ec.SECP256R1()))

    # -- properties ------------------------------------------------------------------------------------

    @property
    def did(self) -> str:
        return self.verification_method.split("#", 1)[0]

    @property
    def algorithm(self) -> KeyAlgorithm:
        return "P-256" if isinstance(self.private_key, ec.EllipticCurvePrivateKey) else "Ed25519"

    @property
    def jws_alg(self) -> str:
        """The JOSE `alg` this key signs with."""
        return "ES256" if self.algorithm == "P-256" else "EdDSA"

    def ed25519(self) -> SigningKeyPair:
        """The Ed25519 pair; UsageError for a P-256 key (Data Integrity eddsa suites need Ed25519)."""
        if not isinstance(self.private_key, SigningKeyPair):
            raise UsageError(f"{self.verification_method} is a P-256 key; this proof format needs Ed25519")
        return self.private_key

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (OKP/Ed25519 or EC/P-256), e.g. for an SD-JWT `cnf` claim."""
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return p256_public_jwk(self.private_key.public_key())
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.private_key.public_key)}

    def private_jwk(self) -> dict[str, str]:
        """The private JWK joserfc signs with; never logged or written anywhere by this package."""
        jwk = self.public_jwk()
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            d = self.private_key.private_numbers().private_value.to_bytes(32, "big")
        else:
            d = self.private_key.seed
        return {**jwk, "d": b64url_encode(d)}


def p256_public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }


def verification_method_entry(key: IssuerKey, *, controller: str | None = None) -> dict[str, Any]:
    """The DID-document `verificationMethod` entry that publishes `key` (list it under assertionMethod)."""
    entry: dict[str, Any] = {"id": key.verification_method, "controller": controller or key.did}
    if key.algorithm == "P-256":
        entry["type"] = "JsonWebKey2020"
        entry["publicKeyJwk"] = key.public_jwk()
    else:
        entry["type"] = "Multikey"
        entry["publicKeyMultibase"] = encode_multikey(ED25519_PUB, key.ed25519().public_key)
    return entry
