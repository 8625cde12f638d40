"""Signing keys, the public API, VC 1.1 documents, and JOSE tokens checked by a second implementation."""

from __future__ import annotations

import json
import warnings
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey

import ies.credentials as api
from ies.credentials import IssuerKey, ProofFormat, issue, verify
from ies.credentials.errors import CredentialInvalid
from ies.credentials.keys import verification_method_entry
from ies.errors import IESError, UsageError
from ies.identity.keys import SigningKeyPair
from ies.identity.multibase import b64url_encode
from ies.identity.resolver import DIDResolver

from .conftest import ISSUER, NOW, Issuer


class TestIssuerKey:
    def test_needs_a_did_url_with_fragment(self) -> None:
        with pytest.raises(UsageError):
            IssuerKey("did:web:discom.example", SigningKeyPair.generate())
        with pytest.raises(UsageError):
            IssuerKey("https://discom.example#key-1", SigningKeyPair.generate())

    def test_only_p256_ec_keys(self) -> None:
        with pytest.raises(UsageError, match="P-256"):
            IssuerKey(f"{ISSUER}#k", ec.generate_private_key(ec.SECP384R1()))

    def test_did_key_identity(self) -> None:
        key = IssuerKey.did_key(SigningKeyPair.generate())
        assert key.did.startswith("did:key:z6Mk")
        assert key.verification_method == f"{key.did}#{key.did.removeprefix('did:key:')}"
        assert key.algorithm == "Ed25519" and key.jws_alg == "EdDSA"

    def test_private_material_stays_out_of_repr(self) -> None:
        pair = SigningKeyPair.generate()
        assert pair.seed.hex() not in repr(IssuerKey(f"{ISSUER}#k", pair))

    def test_published_entries(self, issuer: Issuer) -> None:
        ed, p256 = verification_method_entry(issuer.ed25519), verification_method_entry(issuer.p256)
        assert ed["type"] == "Multikey" and ed["publicKeyMultibase"].startswith("z6Mk")
        assert p256["type"] == "JsonWebKey2020" and p256["publicKeyJwk"]["crv"] == "P-256"
        assert "d" not in p256["publicKeyJwk"]

    def test_eddsa_suites_need_an_ed25519_key(self, issuer: Issuer, credential: dict[str, Any]) -> None:
        with pytest.raises(UsageError, match="Ed25519"):
            issue(credential, key=issuer.p256, format=ProofFormat.EDDSA_JCS_2022)
        with pytest.raises(UsageError, match="P-256"):
            issue(credential, key=issuer.ed25519, format=ProofFormat.VC_JOSE_ES256)


def test_public_api_is_exactly_what_all_lists() -> None:
    exported = {n for n in dir(api) if not n.startswith("_") and not isinstance(getattr(api, n), ModuleType)}
    assert set(api.__all__) == exported
    assert callable(api.issue) and callable(api.verify)  # the functions, not their modules
    for name in api.__all__:
        value = getattr(api, name)
        if isinstance(value, type) and issubclass(value, IESError):
            assert issubclass(value, CredentialInvalid) and value.code.startswith(("VC_", "VP_"))


def test_error_codes_are_unique() -> None:
    codes = [c.code for c in vars(api).values() if isinstance(c, type) and issubclass(c, CredentialInvalid)]
    assert len(codes) == len(set(codes)) >= 18


@pytest.mark.parametrize("fmt", [ProofFormat.ED25519_SIGNATURE_2020, ProofFormat.EDDSA_JCS_2022], ids=str)
def test_vc_1_1_credentials(
    fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, holder: IssuerKey
) -> None:
    legacy = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:5f2e1c3a-8b7d-4e6f-9a0b-1c2d3e4f5a6b",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2026-02-01T00:00:00Z",
        "credentialSubject": {"id": holder.did, "alumniOf": "The School of Examples"},
    }
    vc = issue(legacy, key=issuer.ed25519, format=fmt, created=NOW.replace(month=1, day=2))
    assert verify(vc, resolver=resolver, at=NOW.replace(month=1, day=15)).issuer == ISSUER
    with pytest.raises(CredentialInvalid) as caught:
        verify(vc, resolver=resolver, at=NOW)
    assert caught.value.code == "VC_EXPIRED"


class TestJoseInterop:
    def test_joserfc_accepts_our_tokens(self, issuer: Issuer, credential: dict[str, Any]) -> None:
        es = issue(credential, key=issuer.p256, format=ProofFormat.VC_JOSE_ES256)
        ed = issue(credential, key=issuer.ed25519, format=ProofFormat.VC_JOSE_EDDSA)
        assert isinstance(es, str) and isinstance(ed, str)
        es_key = ECKey.import_key(issuer.p256.public_jwk())  # type: ignore[arg-type]
        assert json.loads(jws.deserialize_compact(es, es_key, algorithms=["ES256"]).payload) == credential
        ed_key = OKPKey.import_key(issuer.ed25519.public_jwk())  # type: ignore[arg-type]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joserfc flags the "EdDSA" name as deprecated by RFC 9864
            assert json.loads(jws.deserialize_compact(ed, ed_key, algorithms=["EdDSA"]).payload) == credential

    def test_we_accept_joserfc_tokens_with_the_rfc_9864_alg(
        self, issuer: Issuer, resolver: DIDResolver, credential: dict[str, Any]
    ) -> None:
        header = {"alg": "Ed25519", "kid": issuer.ed25519.verification_method, "typ": "vc+jwt"}
        private = OKPKey.import_key(issuer.ed25519.private_jwk())  # type: ignore[arg-type]
        token = jws.serialize_compact(
            header, json.dumps(credential).encode(), private, algorithms=["Ed25519"]
        )
        result = verify(token, resolver=resolver, at=NOW)
        assert result.format is ProofFormat.VC_JOSE_EDDSA and result.credential == credential

    def test_vc_jwt_1_1_form(self, issuer: Issuer, resolver: DIDResolver, credential: dict[str, Any]) -> None:
        claims = {"iss": ISSUER, "nbf": int(NOW.timestamp()) - 60, "exp": int(NOW.timestamp()) + 60}
        claims["vc"] = credential
        header = {"alg": "ES256", "kid": "#key-2", "typ": "JWT"}
        private = ECKey.import_key(issuer.p256.private_key)  # type: ignore[arg-type]
        token = jws.serialize_compact(header, json.dumps(claims).encode(), private, algorithms=["ES256"])
        result = verify(token, resolver=resolver, at=NOW)
        assert result.verification_method == issuer.p256.verification_method
        assert result.valid_until is not None and result.valid_until.timestamp() == claims["exp"]
        later = NOW.replace(hour=13)
        with pytest.raises(CredentialInvalid) as caught:
            verify(token, resolver=resolver, at=later)
        assert caught.value.code == "VC_EXPIRED"

    def test_unsigned_alg_none_is_refused(self, resolver: DIDResolver, credential: dict[str, Any]) -> None:
        header = b64url_encode(json.dumps({"alg": "none", "kid": f"{ISSUER}#key-1"}).encode())
        payload = b64url_encode(json.dumps(credential).encode())
        with pytest.raises(CredentialInvalid) as caught:
            verify(f"{header}.{payload}.", resolver=resolver, at=NOW)
        assert caught.value.code == "VC_UNSUPPORTED_FORMAT"
