"""Issuers, holders and credentials for the credential tests, resolved in process through DID overrides.

The issuer `did:web:discom.example` publishes an Ed25519 key (#key-1, Multikey) and a P-256 key (#key-2,
JsonWebKey2020) under assertionMethod, and authentication-only keys (#auth-1 Ed25519, #auth-2 P-256);
holders are did:keys.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ies.credentials import IssuerKey, ProofFormat
from ies.credentials.keys import verification_method_entry
from ies.identity.keys import SigningKeyPair
from ies.identity.resolver import DIDResolver
from ies.schemas import DATA_ROOT

ISSUER = "did:web:discom.example"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
"""Verification time of the tests: inside the validity window of every credential they build."""

ALUMNI_CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
PASSPORT_EXAMPLE = (
    DATA_ROOT / "use-cases" / "consumer-energy-passport" / "examples" / "schedule-i-example.json"
)


class Issuer:
    """The test issuer's keys and the DID document that publishes them."""

    def __init__(self) -> None:
        self.ed25519 = IssuerKey(f"{ISSUER}#key-1", SigningKeyPair.generate())
        self.p256 = IssuerKey.generate_p256(f"{ISSUER}#key-2")
        self.auth_only = IssuerKey(f"{ISSUER}#auth-1", SigningKeyPair.generate())
        self.auth_only_p256 = IssuerKey.generate_p256(f"{ISSUER}#auth-2")
        self.document: dict[str, Any] = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": ISSUER,
            "verificationMethod": [
                verification_method_entry(k)
                for k in (self.ed25519, self.p256, self.auth_only, self.auth_only_p256)
            ],
            "assertionMethod": [self.ed25519.verification_method, self.p256.verification_method],
            "authentication": [self.auth_only.verification_method, self.auth_only_p256.verification_method],
        }

    def key_for(self, fmt: ProofFormat) -> IssuerKey:
        return self.p256 if fmt is ProofFormat.VC_JOSE_ES256 else self.ed25519


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="session")
def resolver(issuer: Issuer) -> DIDResolver:
    return DIDResolver({ISSUER: issuer.document})


@pytest.fixture(scope="session")
def holder() -> IssuerKey:
    return IssuerKey.did_key(SigningKeyPair.generate())


def alumni_credential(subject_id: str) -> dict[str, Any]:
    """A small VC 2.0 credential whose every term is defined offline (RDFC canonicalises it safely)."""
    return {
        "@context": list(ALUMNI_CONTEXT),
        "id": "urn:uuid:0d3e8a5c-5b7e-4c1a-9f2e-7a1b2c3d4e5f",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "issuer": {"id": ISSUER, "name": "Example DISCOM"},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {
            "id": subject_id,
            "alumniOf": "The School of Examples",
            "fullName": "Asha Verma",
        },
    }


@pytest.fixture
def credential(holder: IssuerKey) -> dict[str, Any]:
    return alumni_credential(holder.did)


def passport_credential(subject_id: str) -> dict[str, Any]:
    """The IES Consumer Energy Passport example (ElectricityCredential v1.2), re-issued by our issuer."""
    doc = json.loads(PASSPORT_EXAMPLE.read_text("utf-8"))
    doc.pop("proof")
    doc.pop("credentialStatus")
    doc["issuer"] = {"id": ISSUER, "name": doc["issuer"]["name"]}
    doc["credentialSubject"]["id"] = subject_id
    return doc


@pytest.fixture
def passport(holder: IssuerKey) -> dict[str, Any]:
    return passport_credential(holder.did)


IssueFn = Callable[..., dict[str, Any] | str]


def deep(value: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(value)
