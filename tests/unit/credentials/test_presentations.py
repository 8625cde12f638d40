"""Verifiable Presentations: holder binding with challenge and domain, in every format that can carry one."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ies.credentials import (
    CredentialInvalid,
    IssuerKey,
    ProofFormat,
    issue,
    present,
    verify_presentation,
)
from ies.credentials.jose import sign_compact
from ies.errors import UsageError
from ies.identity.keys import SigningKeyPair
from ies.identity.multibase import b64url_decode
from ies.identity.resolver import DIDResolver

from .conftest import NOW, Issuer, alumni_credential

VP_FORMATS = [
    ProofFormat.EDDSA_RDFC_2022,
    ProofFormat.EDDSA_JCS_2022,
    ProofFormat.ED25519_SIGNATURE_2020,
    ProofFormat.VC_JOSE_EDDSA,
]
VC_FORMATS = [ProofFormat.EDDSA_RDFC_2022, ProofFormat.VC_JOSE_ES256, ProofFormat.EDDSA_JCS_2022]


def _vp(credentials: list[Any], holder: IssuerKey, fmt: ProofFormat, **kw: Any) -> dict[str, Any] | str:
    kw.setdefault("challenge", "c-123")
    kw.setdefault("domain", "bank.example")
    return present(credentials, holder_key=holder, format=fmt, created=NOW, **kw)


def _check(vp: dict[str, Any] | str, resolver: DIDResolver, **kw: Any) -> Any:
    kw.setdefault("challenge", "c-123")
    kw.setdefault("domain", "bank.example")
    return verify_presentation(vp, resolver=resolver, at=NOW, **kw)


def _code(vp: dict[str, Any] | str, resolver: DIDResolver, **kw: Any) -> str:
    with pytest.raises(CredentialInvalid) as caught:
        _check(vp, resolver, **kw)
    return caught.value.code


@pytest.fixture
def issued(issuer: Issuer, holder: IssuerKey) -> list[dict[str, Any] | str]:
    """The same holder's credential in three formats (a JSON-LD one and JWT ones, enveloped in the VP)."""
    return [
        issue(alumni_credential(holder.did), key=issuer.key_for(f), format=f, created=NOW) for f in VC_FORMATS
    ]


@pytest.mark.parametrize("fmt", VP_FORMATS, ids=str)
class TestEachPresentationFormat:
    def test_round_trip(
        self, fmt: ProofFormat, issued: Any, holder: IssuerKey, resolver: DIDResolver
    ) -> None:
        result = _check(_vp(issued, holder, fmt), resolver)
        assert result.format is fmt
        assert result.holder == holder.did
        assert [c.format for c in result.credentials] == VC_FORMATS
        assert all(c.subject_id == holder.did for c in result.credentials)

    def test_replayed_to_another_verifier_or_challenge(
        self, fmt: ProofFormat, issued: Any, holder: IssuerKey, resolver: DIDResolver
    ) -> None:
        vp = _vp(issued, holder, fmt)
        assert _code(vp, resolver, challenge="c-999") == "VP_CHALLENGE_MISMATCH"
        assert _code(vp, resolver, domain="evil.example") == "VP_DOMAIN_MISMATCH"

    def test_someone_elses_credential(
        self, fmt: ProofFormat, issuer: Issuer, holder: IssuerKey, resolver: DIDResolver
    ) -> None:
        other = IssuerKey.did_key(SigningKeyPair.generate())
        theirs = issue(alumni_credential(other.did), key=issuer.ed25519, created=NOW)
        vp = _vp([theirs], holder, fmt)
        assert _code(vp, resolver) == "VP_HOLDER_MISMATCH"
        assert _check(vp, resolver, require_holder_binding=False).credentials[0].subject_id == other.did

    def test_holder_claims_another_identity(
        self, fmt: ProofFormat, issued: Any, holder: IssuerKey, resolver: DIDResolver
    ) -> None:
        impostor = IssuerKey(holder.verification_method, SigningKeyPair.generate())
        assert _code(_vp(issued, impostor, fmt), resolver) == "VC_SIGNATURE_INVALID"


def test_tampered_enclosed_credential_fails_the_whole_presentation(
    issuer: Issuer, holder: IssuerKey, resolver: DIDResolver
) -> None:
    vc = issue(alumni_credential(holder.did), key=issuer.ed25519, created=NOW)
    assert isinstance(vc, dict)
    altered = copy.deepcopy(vc)
    altered["credentialSubject"]["alumniOf"] = "Elsewhere"
    # Signed by the holder AFTER the change: the VP proof is fine, the credential's proof is not.
    assert _code(_vp([altered], holder, ProofFormat.EDDSA_JCS_2022), resolver) == "VC_SIGNATURE_INVALID"
    # Changed after the holder signed: the VP proof breaks first.
    vp = _vp([vc], holder, ProofFormat.EDDSA_RDFC_2022)
    assert isinstance(vp, dict)
    vp["verifiableCredential"][0]["credentialSubject"]["alumniOf"] = "Elsewhere"
    assert _code(vp, resolver) == "VC_SIGNATURE_INVALID"


def test_presentation_proof_must_be_for_authentication(
    issuer: Issuer, holder: IssuerKey, resolver: DIDResolver, issued: Any
) -> None:
    """A holder key listed only under assertionMethod cannot authenticate a presentation."""
    vp = present(issued[:1], holder_key=issuer.ed25519, challenge="c-123", domain="bank.example", created=NOW)
    assert _code(vp, resolver) == "VC_PROOF_PURPOSE"


def test_presentation_needs_challenge_and_domain(
    holder: IssuerKey, resolver: DIDResolver, issued: Any
) -> None:
    with pytest.raises(UsageError):
        present(issued, holder_key=holder, challenge="", domain="bank.example")
    with pytest.raises(UsageError):
        present(issued, holder_key=holder, challenge="c", domain="d", format=ProofFormat.SD_JWT_VC)
    vp = _vp(issued, holder, ProofFormat.EDDSA_JCS_2022)
    with pytest.raises(UsageError):
        verify_presentation(vp, resolver=resolver, challenge="", domain="bank.example")


def test_a_credential_is_not_a_presentation(issued: Any, resolver: DIDResolver) -> None:
    assert _code(issued[0], resolver) == "VP_INVALID"


def test_jwt_presentation_expiry_is_checked(issued: Any, holder: IssuerKey, resolver: DIDResolver) -> None:
    vp = _vp(issued, holder, ProofFormat.VC_JOSE_EDDSA)
    assert isinstance(vp, str)
    _, payload, _ = vp.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["exp"] = int(NOW.timestamp()) - 600
    expired = sign_compact(claims, holder, typ="vp+jwt")
    assert _code(expired, resolver) == "VC_EXPIRED"


def test_result_does_not_change_when_the_caller_edits_its_input(
    issued: Any, holder: IssuerKey, resolver: DIDResolver
) -> None:
    vp = _vp(issued[:1], holder, ProofFormat.EDDSA_JCS_2022)
    assert isinstance(vp, dict)
    result = _check(vp, resolver)
    vp["verifiableCredential"][0]["credentialSubject"]["alumniOf"] = "Edited later"
    vp["holder"] = "did:example:someone-else"
    assert result.credentials[0].credential["credentialSubject"]["alumniOf"] == "The School of Examples"
    assert result.presentation["holder"] == holder.did
