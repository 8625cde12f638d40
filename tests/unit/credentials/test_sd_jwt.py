"""Selective disclosure: the Consumer Energy Passport shown to a bank with sanctioned load and tariff category
but without name, address or government-id reference; the verifier sees only what was disclosed, and nothing
undisclosed (or made up) can be slipped in."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ies.credentials import (
    CredentialInvalid,
    IssuerKey,
    ProofFormat,
    disclosable_paths,
    issue,
    sd_present,
    verify,
    verify_presentation,
)
from ies.credentials.jose import TYP_KB_JWT, sign_compact
from ies.credentials.sd_jwt import KB_JWT_MAX_AGE_S
from ies.errors import UsageError
from ies.identity.keys import SigningKeyPair
from ies.identity.multibase import b64url_encode
from ies.identity.resolver import DIDResolver

from .conftest import NOW, Issuer

PRIVATE = [
    "credentialSubject.customerDetails.fullName",
    "credentialSubject.customerDetails.installationAddress",
    "credentialSubject.customerProfile.idRef",
]
SHAREABLE = [
    "credentialSubject.customerProfile.consumptionProfiles",
    "credentialSubject.customerProfile.customerNumber",
]


@pytest.fixture
def sd_passport(issuer: Issuer, passport: dict[str, Any]) -> str:
    token = issue(passport, key=issuer.ed25519, format=ProofFormat.SD_JWT_VC, disclosable=PRIVATE + SHAREABLE)
    assert isinstance(token, str)
    return token


def _present(
    token: str, holder: IssuerKey, reveal: list[str], nonce: str = "n-1", aud: str = "bank.example"
) -> str:
    return sd_present(token, reveal=reveal, holder_key=holder, nonce=nonce, aud=aud, at=NOW)


def _verify_vp(shown: str, resolver: DIDResolver, nonce: str = "n-1", aud: str = "bank.example") -> Any:
    return verify_presentation(shown, resolver=resolver, challenge=nonce, domain=aud, at=NOW)


def _code(fn: Any) -> str:
    with pytest.raises(CredentialInvalid) as caught:
        fn()
    return caught.value.code


def test_holder_sees_what_it_may_disclose(sd_passport: str) -> None:
    assert disclosable_paths(sd_passport) == sorted(PRIVATE + SHAREABLE)


def test_issued_token_hides_the_private_claims(sd_passport: str, passport: dict[str, Any]) -> None:
    issuer_jwt = sd_passport.split("~")[0]
    payload = base64.urlsafe_b64decode(issuer_jwt.split(".")[1] + "==").decode()
    id_ref = passport["credentialSubject"]["customerProfile"]["idRef"]["subjectId"]
    for secret in ("Asha Verma", "Civil Lines", "LT1A", id_ref):
        assert secret not in payload


def test_bank_sees_load_and_tariff_but_not_name_address_or_id(
    sd_passport: str, holder: IssuerKey, resolver: DIDResolver, passport: dict[str, Any]
) -> None:
    shown = _present(sd_passport, holder, ["credentialSubject.customerProfile.consumptionProfiles"])
    result = _verify_vp(shown, resolver)
    assert result.holder == holder.did
    (credential,) = result.credentials
    subject = credential.credential["credentialSubject"]
    profile = subject["customerProfile"]
    assert profile["consumptionProfiles"][0]["sanctionedLoad"] == {"value": 5, "unit": "kW"}
    assert profile["consumptionProfiles"][0]["tariffCategoryCode"] == "LT1A"
    assert "idRef" not in profile and "customerNumber" not in profile
    assert "fullName" not in subject["customerDetails"]
    assert "installationAddress" not in subject["customerDetails"]
    assert credential.disclosed == ("credentialSubject.customerProfile.consumptionProfiles",)
    assert "Asha Verma" not in json.dumps(credential.credential)
    assert (
        subject["customerProfile"]["energyResources"]
        == passport["credentialSubject"]["customerProfile"]["energyResources"]
    )


def test_full_disclosure_is_schema_checked(
    sd_passport: str, resolver: DIDResolver, passport: dict[str, Any]
) -> None:
    result = verify(sd_passport, resolver=resolver, at=NOW)
    assert result.credential["credentialSubject"] == passport["credentialSubject"]


def test_a_claim_cannot_be_forged_in(sd_passport: str, holder: IssuerKey, resolver: DIDResolver) -> None:
    shown = _present(sd_passport, holder, ["credentialSubject.customerProfile.consumptionProfiles"])
    issuer_jwt, *disclosures, kb = shown.split("~")
    forged = b64url_encode(json.dumps(["c2FsdA", "fullName", "Someone Rich"]).encode())
    tampered = "~".join([issuer_jwt, *disclosures, forged, ""])
    # Without re-binding: the key-binding JWT no longer covers the disclosures.
    assert _code(lambda: _verify_vp(tampered + kb, resolver)) == "VC_DISCLOSURE_INVALID"
    # Re-bound by the holder itself over the forged set: the issuer never signed that digest.
    claims = {
        "iat": int(NOW.timestamp()),
        "aud": "bank.example",
        "nonce": "n-1",
        "sd_hash": b64url_encode(hashlib.sha256(tampered.encode()).digest()),
    }
    rebound = tampered + sign_compact(claims, holder, typ=TYP_KB_JWT, kid=False)
    with pytest.raises(CredentialInvalid, match="forged in") as caught:
        _verify_vp(rebound, resolver)
    assert caught.value.code == "VC_DISCLOSURE_INVALID"
    assert _code(lambda: verify(tampered, resolver=resolver, at=NOW)) == "VC_DISCLOSURE_INVALID"


def test_a_disclosed_value_cannot_be_changed(sd_passport: str, resolver: DIDResolver) -> None:
    issuer_jwt, *disclosures, _ = sd_passport.split("~")
    changed = []
    for encoded in disclosures:
        salt, name, value = json.loads(base64.urlsafe_b64decode(encoded + "=="))
        if name == "customerNumber":
            value = "SOMEONE-ELSE"
        changed.append(b64url_encode(json.dumps([salt, name, value]).encode()))
    assert _code(lambda: verify("~".join([issuer_jwt, *changed, ""]), resolver=resolver, at=NOW)) == (
        "VC_DISCLOSURE_INVALID"
    )


def test_duplicate_disclosure_is_refused(sd_passport: str, resolver: DIDResolver) -> None:
    issuer_jwt, first, *rest = sd_passport.split("~")
    assert _code(lambda: verify("~".join([issuer_jwt, first, first, *rest]), resolver=resolver, at=NOW)) == (
        "VC_DISCLOSURE_INVALID"
    )


class TestKeyBinding:
    def test_replay_for_another_nonce_or_audience(
        self, sd_passport: str, holder: IssuerKey, resolver: DIDResolver
    ) -> None:
        shown = _present(sd_passport, holder, [])
        assert _code(lambda: _verify_vp(shown, resolver, nonce="n-2")) == "VP_CHALLENGE_MISMATCH"
        assert _code(lambda: _verify_vp(shown, resolver, aud="other.example")) == "VP_DOMAIN_MISMATCH"

    def test_stale_key_binding(self, sd_passport: str, holder: IssuerKey, resolver: DIDResolver) -> None:
        shown = sd_present(
            sd_passport,
            reveal=[],
            holder_key=holder,
            nonce="n-1",
            aud="bank.example",
            at=NOW - timedelta(seconds=KB_JWT_MAX_AGE_S + 120),
        )
        assert _code(lambda: _verify_vp(shown, resolver)) == "VC_DISCLOSURE_INVALID"

    def test_without_key_binding_there_is_no_presentation(
        self, sd_passport: str, resolver: DIDResolver
    ) -> None:
        assert _code(lambda: _verify_vp(sd_passport, resolver)) == "VP_HOLDER_MISMATCH"

    def test_someone_else_cannot_present_it(
        self, sd_passport: str, holder: IssuerKey, resolver: DIDResolver
    ) -> None:
        thief = IssuerKey.did_key(SigningKeyPair.generate())
        with pytest.raises(UsageError, match="not bound"):
            _present(sd_passport, thief, [])
        genuine = _present(sd_passport, holder, [])
        # A key-binding JWT signed by the thief's key fails the signature check against cnf.jwk.
        presented = genuine.rsplit("~", 1)[0] + "~"
        claims = json.loads(base64.urlsafe_b64decode(genuine.rsplit("~", 1)[1].split(".")[1] + "=="))
        thief_kb = sign_compact(claims, thief, typ=TYP_KB_JWT, kid=False)
        assert _code(lambda: _verify_vp(presented + thief_kb, resolver)) == "VC_SIGNATURE_INVALID"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reveal=st.sets(st.sampled_from(PRIVATE + SHAREABLE)))
def test_verifier_sees_exactly_the_revealed_claims(
    reveal: set[str], sd_passport: str, holder: IssuerKey, resolver: DIDResolver
) -> None:
    shown = _present(sd_passport, holder, sorted(reveal))
    (credential,) = _verify_vp(shown, resolver).credentials
    assert set(credential.disclosed) == reveal
    for path in PRIVATE + SHAREABLE:
        node: Any = credential.credential
        *parents, leaf = path.split(".")
        for name in parents:
            node = node[name]
        assert (leaf in node) == (path in reveal)


def test_nested_disclosure_reveals_the_parent_it_needs(
    issuer: Issuer, holder: IssuerKey, resolver: DIDResolver, passport: dict[str, Any]
) -> None:
    token = issue(
        passport,
        key=issuer.p256,
        format=ProofFormat.SD_JWT_VC,
        disclosable=["credentialSubject.customerDetails", "credentialSubject.customerDetails.fullName"],
    )
    assert isinstance(token, str) and token.split(".")[0]
    shown = _present(token, holder, ["credentialSubject.customerDetails.fullName"])
    (credential,) = _verify_vp(shown, resolver).credentials
    assert credential.credential["credentialSubject"]["customerDetails"]["fullName"] == "Asha Verma"
    assert set(credential.disclosed) == {
        "credentialSubject.customerDetails",
        "credentialSubject.customerDetails.fullName",
    }


@pytest.mark.parametrize("path", ["issuer", "validUntil", "@context", "credentialSubject.nope", "a..b"])
def test_refused_disclosable_paths(path: str, issuer: Issuer, passport: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        issue(passport, key=issuer.ed25519, format=ProofFormat.SD_JWT_VC, disclosable=[path])


def test_an_issuer_cannot_make_the_expiry_withholdable(
    issuer: Issuer, holder: IssuerKey, resolver: DIDResolver, passport: dict[str, Any]
) -> None:
    """A careless issuer hid `validUntil` in a disclosure: refused when it is disclosed."""
    payload = dict(passport)
    until = payload.pop("validUntil")
    disclosure = b64url_encode(json.dumps(["c2FsdA", "validUntil", until]).encode())
    payload["_sd"] = [b64url_encode(hashlib.sha256(disclosure.encode()).digest())]
    payload["_sd_alg"] = "sha-256"
    token = sign_compact(payload, issuer.ed25519, typ="vc+sd-jwt") + "~" + disclosure + "~"
    with pytest.raises(CredentialInvalid, match="never be selectively disclosable") as caught:
        verify(token, resolver=resolver, at=NOW)
    assert caught.value.code == "VC_DISCLOSURE_INVALID"
