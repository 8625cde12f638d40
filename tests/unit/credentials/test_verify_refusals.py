"""Every proof format: a credential verifies, and is refused with the exact code when it is tampered in any
signed field, signed by an unknown key, made for another purpose, or used outside its validity window."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from ies.credentials import (
    CredentialInvalid,
    IssuerKey,
    ProofFormat,
    UnsafeNoStatusCheck,
    VerifiedCredential,
    issue,
    jose,
    verify,
)
from ies.credentials import data_integrity as di
from ies.identity.keys import SigningKeyPair
from ies.identity.multibase import b64url_decode, b64url_encode
from ies.identity.resolver import DIDResolver

from .conftest import ISSUER, NOW, Issuer

ALL_FORMATS = list(ProofFormat)
SIGNED_FIELDS: list[tuple[tuple[str, ...], Any]] = [
    (("credentialSubject", "alumniOf"), "Another School"),
    (("credentialSubject", "id"), "did:example:someone-else"),
    (("issuer", "name"), "Impostor DISCOM"),
    (("validUntil",), "2099-01-01T00:00:00Z"),
    (("validFrom",), "2020-01-01T00:00:00Z"),
    (("id",), "urn:uuid:11111111-2222-4333-8444-555555555555"),
    (("name",), "Forged Credential"),
    (("type",), ["VerifiableCredential"]),
]


def _issue(issuer: Issuer, credential: dict[str, Any], fmt: ProofFormat, **kw: Any) -> dict[str, Any] | str:
    if fmt is ProofFormat.SD_JWT_VC:
        kw.setdefault("disclosable", ["credentialSubject.fullName"])
    return issue(credential, key=issuer.key_for(fmt), format=fmt, created=NOW - timedelta(days=1), **kw)


def _set(node: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        node = node[name]
    node[path[-1]] = value


def _tamper(vc: dict[str, Any] | str, path: tuple[str, ...], value: Any) -> dict[str, Any] | str:
    """Change one member without re-signing: in the document, or inside the JWT payload."""
    if isinstance(vc, dict):
        out = copy.deepcopy(vc)
        _set(out, path, value)
        return out
    head, _, rest = vc.partition("~")
    header, payload, signature = head.split(".")
    claims = json.loads(b64url_decode(payload))
    _set(claims, path, value)
    forged = f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    return forged + ("~" + rest if rest else "")


def _verify(vc: dict[str, Any] | str, resolver: DIDResolver, **kw: Any) -> VerifiedCredential:
    kw.setdefault("at", NOW)
    return verify(vc, resolver=resolver, **kw)


def _code(vc: dict[str, Any] | str, resolver: DIDResolver, **kw: Any) -> str:
    with pytest.raises(CredentialInvalid) as caught:
        _verify(vc, resolver, **kw)
    return caught.value.code


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=str)
class TestEachFormat:
    def test_round_trip(
        self, fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, credential: Any
    ) -> None:
        vc = _issue(issuer, credential, fmt)
        result = _verify(vc, resolver)
        assert result.format is fmt
        assert result.issuer == ISSUER
        assert result.verification_method == issuer.key_for(fmt).verification_method
        assert result.credential["credentialSubject"] == credential["credentialSubject"]
        assert result.valid_until is not None and result.valid_until.year == 2027
        assert isinstance(vc, dict) is fmt.is_data_integrity

    @pytest.mark.parametrize(
        ("path", "value"), SIGNED_FIELDS, ids=lambda p: ".".join(p) if isinstance(p, tuple) else ""
    )
    def test_tampered_signed_field(
        self,
        fmt: ProofFormat,
        path: tuple[str, ...],
        value: Any,
        issuer: Issuer,
        resolver: DIDResolver,
        credential: Any,
    ) -> None:
        vc = _issue(issuer, credential, fmt)
        assert _code(_tamper(vc, path, value), resolver) == "VC_SIGNATURE_INVALID"

    def test_same_key_id_other_private_key(
        self, fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, credential: Any
    ) -> None:
        genuine = issuer.key_for(fmt)
        impostor = (
            IssuerKey.generate_p256(genuine.verification_method)
            if genuine.algorithm == "P-256"
            else IssuerKey(genuine.verification_method, SigningKeyPair.generate())
        )
        vc = issue(credential, key=impostor, format=fmt, created=NOW)
        assert _code(vc, resolver) == "VC_SIGNATURE_INVALID"

    def test_key_the_issuer_does_not_publish(
        self, fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, credential: Any
    ) -> None:
        rogue = (
            IssuerKey.generate_p256(f"{ISSUER}#key-9")
            if fmt is ProofFormat.VC_JOSE_ES256
            else IssuerKey(f"{ISSUER}#key-9", SigningKeyPair.generate())
        )
        vc = issue(credential, key=rogue, format=fmt, created=NOW)
        assert _code(vc, resolver) == "VC_UNKNOWN_KEY"

    def test_key_of_another_did(self, fmt: ProofFormat, resolver: DIDResolver, credential: Any) -> None:
        """An attacker signs with its own did:key but leaves the DISCOM as issuer."""
        attacker = IssuerKey.did_key(SigningKeyPair.generate())
        if fmt.is_data_integrity:
            vc: dict[str, Any] | str = di.add_proof(
                credential,
                attacker.ed25519(),
                fmt=fmt,
                verification_method=attacker.verification_method,
                purpose="assertionMethod",
                created=NOW,
            )
        else:
            typ = jose.TYP_SD_JWT if fmt is ProofFormat.SD_JWT_VC else jose.TYP_VC
            vc = jose.sign_compact(credential, attacker, typ=typ) + (
                "~" if fmt is ProofFormat.SD_JWT_VC else ""
            )
        assert _code(vc, resolver) == "VC_UNKNOWN_KEY"

    def test_key_not_authorised_for_assertions(
        self, fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, credential: Any
    ) -> None:
        key = issuer.auth_only_p256 if fmt is ProofFormat.VC_JOSE_ES256 else issuer.auth_only
        vc = issue(credential, key=key, format=fmt, created=NOW)
        assert _code(vc, resolver) == "VC_PROOF_PURPOSE"

    def test_not_yet_valid(
        self, fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, credential: Any
    ) -> None:
        credential["validFrom"] = "2026-03-01T12:02:00Z"  # two minutes after NOW
        vc = _issue(issuer, credential, fmt)
        assert _code(vc, resolver) == "VC_NOT_YET_VALID"
        assert _verify(vc, resolver, at=NOW + timedelta(seconds=90)).valid_from is not None  # inside the skew
        assert _code(vc, resolver, skew_s=0, at=NOW + timedelta(seconds=90)) == "VC_NOT_YET_VALID"

    def test_expired(self, fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, credential: Any) -> None:
        credential["validUntil"] = "2026-03-01T11:59:30Z"  # thirty seconds before NOW
        vc = _issue(issuer, credential, fmt)
        _verify(vc, resolver)  # within the default 60 s skew
        assert _code(vc, resolver, skew_s=0) == "VC_EXPIRED"
        assert _code(vc, resolver, at=NOW + timedelta(minutes=5)) == "VC_EXPIRED"

    def test_declared_status_is_never_skipped(
        self, fmt: ProofFormat, issuer: Issuer, resolver: DIDResolver, credential: Any
    ) -> None:
        credential["credentialStatus"] = {
            "id": "https://discom.example/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://discom.example/status/1",
        }
        vc = _issue(issuer, credential, fmt)
        assert _code(vc, resolver) == "VC_STATUS_UNAVAILABLE"
        seen: list[VerifiedCredential] = []
        result = _verify(vc, resolver, status_checker=seen.append)
        assert seen == [result] and result.status_entries[0]["statusListIndex"] == "94567"
        assert _verify(vc, resolver, status_checker=UnsafeNoStatusCheck()).id == credential["id"]


def test_data_integrity_proof_made_for_authentication_is_refused(
    issuer: Issuer, resolver: DIDResolver, credential: Any
) -> None:
    vc = di.add_proof(
        credential,
        issuer.ed25519.ed25519(),
        fmt=ProofFormat.EDDSA_RDFC_2022,
        verification_method=issuer.ed25519.verification_method,
        purpose="authentication",
        created=NOW,
    )
    assert _code(vc, resolver) == "VC_PROOF_PURPOSE"


@pytest.mark.parametrize("member", ["created", "verificationMethod", "cryptosuite", "proofPurpose"])
def test_tampered_proof_options(member: str, issuer: Issuer, resolver: DIDResolver, credential: Any) -> None:
    vc = issue(credential, key=issuer.ed25519, created=NOW)
    assert isinstance(vc, dict)
    changed = {
        "created": "2026-02-01T00:00:00Z",
        "verificationMethod": issuer.p256.verification_method,
        "cryptosuite": "eddsa-jcs-2022",
        "proofPurpose": "assertionMethod ",
    }[member]
    vc["proof"][member] = changed
    assert _code(vc, resolver) in {"VC_SIGNATURE_INVALID", "VC_PROOF_PURPOSE"}


def test_jose_alg_swapped_to_the_other_key_type(
    issuer: Issuer, resolver: DIDResolver, credential: Any
) -> None:
    """An ES256 token relabelled EdDSA and pointed at the Ed25519 key must not verify (no alg confusion)."""
    token = issue(credential, key=issuer.p256, format=ProofFormat.VC_JOSE_ES256)
    assert isinstance(token, str)
    _, payload, signature = token.split(".")
    swapped = {"alg": "EdDSA", "kid": issuer.ed25519.verification_method, "typ": "vc+jwt"}
    forged = f"{b64url_encode(json.dumps(swapped).encode())}.{payload}.{signature}"
    assert _code(forged, resolver) == "VC_SIGNATURE_INVALID"


@pytest.mark.parametrize(
    "bad",
    [
        "not a credential",
        "a.b",
        "eyJhbGciOiJub25lIn0.e30.",
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]},
        {"proof": [{"type": "DataIntegrityProof"}, {"type": "DataIntegrityProof"}], "issuer": ISSUER},
        {"proof": {"type": "RsaSignature2018"}, "issuer": ISSUER},
    ],
    ids=["text", "two-parts", "alg-none", "no-proof", "proof-set", "unknown-suite"],
)
def test_unusable_input_is_refused_not_crashed(bad: Any, resolver: DIDResolver) -> None:
    assert _code(bad, resolver) in {"VC_MALFORMED", "VC_UNSUPPORTED_FORMAT"}


def test_unreachable_issuer_is_its_own_reason(issuer: Issuer, credential: Any) -> None:
    vc = issue(credential, key=issuer.ed25519, format=ProofFormat.EDDSA_JCS_2022)
    unreachable = DIDResolver({ISSUER: "http://127.0.0.1:9"}, timeout_s=2.0)
    assert _code(vc, unreachable) == "VC_ISSUER_UNRESOLVABLE"
