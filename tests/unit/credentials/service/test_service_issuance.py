"""POST /credentials/issue: operator auth, schema first, envelope, status entries, holder binding, audit."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from sqlalchemy import func, select
from vc_service_helpers import Holder, IssuerEnv

from ies.audit.tables import AuditEntryRow
from ies.credentials.service import holder_proof_jwt
from ies.credentials.tables import HolderOtpRow, IssuedCredentialRow, StatusEntryRow
from ies.identity.keys import SigningKeyPair
from ies.store import session_factory

UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _counts(env: IssuerEnv) -> tuple[int, int, int]:
    with session_factory(env.state.engine)() as session:
        issued = session.scalar(select(func.count()).select_from(IssuedCredentialRow)) or 0
        entries = session.scalar(select(func.count()).select_from(StatusEntryRow)) or 0
        audit = session.scalar(
            select(func.count()).select_from(AuditEntryRow).where(AuditEntryRow.kind == "credential.issue")
        )
    return issued, entries, audit or 0


def test_issue_needs_the_operator_token(issuer_env: IssuerEnv, holder: Holder) -> None:
    body = {
        "credential": issuer_env.passport(holder),
        "options": {"holderBinding": issuer_env.binding(holder)},
    }
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        resp = httpx.post(f"{issuer_env.url}/credentials/issue", json=body, headers=headers, timeout=30)
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == "AUT_UNAUTHORIZED_ACTION"


def test_passport_gets_the_envelope_and_the_dedi_status_its_schema_requires(
    issuer_env: IssuerEnv, holder: Holder
) -> None:
    vc, cid = issuer_env.issued(issuer_env.passport(holder), holder)
    assert isinstance(vc, dict)
    assert UUID_URN.fullmatch(vc["id"]) and vc["id"] == cid
    assert vc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert vc["issuer"] == {"id": issuer_env.state.did, "name": "issuer"}
    assert vc["validFrom"] < vc["validUntil"]
    status = vc["credentialStatus"]
    assert status["type"] == "dediregistry" and status["statusPurpose"] == "revocation"
    assert status["id"].startswith(f"{issuer_env.url}/dedi/lookup/issuer.ies.local/vc-revocation-registry/")
    assert vc["proof"]["type"] == "DataIntegrityProof"
    assert vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"  # IES contexts cannot be canonicalised offline
    assert vc["proof"]["verificationMethod"] == f"{issuer_env.state.did}#issuer-k1"


def test_meter_digest_gets_random_bitstring_entries_for_both_purposes(
    issuer_env: IssuerEnv, holder: Holder
) -> None:
    vc, _ = issuer_env.issued(issuer_env.digest(holder), holder)
    entries = vc["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    for entry in entries:
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListIndex"].isdigit()
        assert entry["statusListCredential"].startswith(f"{issuer_env.url}/credentials/status-lists/")
        assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"


def test_schema_invalid_subject_is_refused_before_anything_is_stored(
    issuer_env: IssuerEnv, holder: Holder
) -> None:
    before = _counts(issuer_env)
    bad = issuer_env.digest(holder)
    del bad["credentialSubject"]["meterData"]["profileType"]
    resp = issuer_env.issue(bad, holder)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "SCH_SCHEMA_VALIDATION_FAILED"
    passport = issuer_env.passport(holder)
    del passport["credentialSubject"]["customerProfile"]["customerNumber"]
    resp = issuer_env.issue(passport, holder)
    assert resp.status_code == 400 and "customerNumber" in resp.text
    assert _counts(issuer_env) == before


def test_bad_envelopes_foreign_issuers_and_bad_ids_are_refused(issuer_env: IssuerEnv, holder: Holder) -> None:
    generic = {"type": ["VerifiableCredential"], "credentialSubject": {"id": holder.did}}  # no @context
    assert issuer_env.issue(generic, holder).json()["error"]["code"] == "SCH_SCHEMA_VALIDATION_FAILED"
    foreign = {**issuer_env.passport(holder), "issuer": {"id": "did:web:someone.else", "name": "X"}}
    resp = issuer_env.issue(foreign, holder)
    assert resp.status_code == 400 and "did:web:someone.else" in resp.text
    upper = {**issuer_env.passport(holder), "id": "urn:uuid:E5F6A7B8-9012-34AB-CDEF-567890123456"}
    assert issuer_env.issue(upper, holder).status_code == 400
    assert issuer_env.issue(issuer_env.passport(holder), holder, format="no-such-format").status_code == 400


def test_reissuing_the_same_id_is_a_conflict(issuer_env: IssuerEnv, holder: Holder) -> None:
    passport = issuer_env.passport(holder)
    passport["id"] = "urn:uuid:0b7f6c9e-1111-4222-8333-444455556666"
    issuer_env.issued(passport, holder)
    resp = issuer_env.issue(passport, holder)
    assert resp.status_code == 409


def test_issuance_is_audited_without_claims(issuer_env: IssuerEnv, holder: Holder) -> None:
    _, cid = issuer_env.issued(issuer_env.passport(holder), holder)
    with session_factory(issuer_env.state.engine)() as session:
        line = session.scalars(
            select(AuditEntryRow).where(
                AuditEntryRow.kind == "credential.issue", AuditEntryRow.subject == cid
            )
        ).one()
    assert '"holderBinding":"did"' in line.payload
    assert "Jane Doe" not in line.payload and "UTIL-2025" not in line.payload


# -- holder binding ----------------------------------------------------------------------------------------


def _issue_with(env: IssuerEnv, credential: dict[str, Any], binding: dict[str, Any] | None) -> httpx.Response:
    options = {} if binding is None else {"holderBinding": binding}
    body = {"credential": credential, "options": options}
    return httpx.post(f"{env.url}/credentials/issue", json=body, headers=env.headers, timeout=30)


def _refused(resp: httpx.Response, words: str) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"]["code"] == "VC_HOLDER_BINDING_FAILED"
    assert words in resp.json()["error"]["message"]


def test_holder_binding_is_required(issuer_env: IssuerEnv, holder: Holder) -> None:
    _refused(_issue_with(issuer_env, issuer_env.passport(holder), None), "required")


def test_a_proof_nonce_works_once(issuer_env: IssuerEnv, holder: Holder) -> None:
    binding = issuer_env.binding(holder)
    assert _issue_with(issuer_env, issuer_env.passport(holder), binding).status_code == 201
    _refused(_issue_with(issuer_env, issuer_env.passport(holder), binding), "already used")


def test_proofs_for_another_subject_audience_or_key_are_refused(
    issuer_env: IssuerEnv, holder: Holder
) -> None:
    other = Holder(SigningKeyPair.generate())
    _refused(_issue_with(issuer_env, issuer_env.passport(other), issuer_env.binding(holder)), "holder's DID")
    nonce = httpx.post(f"{issuer_env.url}/credentials/nonce").json()["nonce"]
    wrong_aud = holder_proof_jwt(holder.pair, holder.kid, audience="did:web:elsewhere", nonce=nonce)
    _refused(
        _issue_with(issuer_env, issuer_env.passport(holder), {"method": "did", "proof": wrong_aud}),
        "addressed",
    )
    nonce = httpx.post(f"{issuer_env.url}/credentials/nonce").json()["nonce"]
    forged = holder_proof_jwt(other.pair, holder.kid, audience=issuer_env.state.did, nonce=nonce)
    _refused(
        _issue_with(issuer_env, issuer_env.passport(holder), {"method": "did", "proof": forged}), "signature"
    )
    stale = holder_proof_jwt(
        holder.pair, holder.kid, audience=issuer_env.state.did, nonce=nonce, iat=int(time.time()) - 3600
    )
    _refused(_issue_with(issuer_env, issuer_env.passport(holder), {"method": "did", "proof": stale}), "iat")
    _refused(
        _issue_with(issuer_env, issuer_env.passport(holder), {"method": "did", "proof": "x.y"}), "compact"
    )
    unknown = holder_proof_jwt(holder.pair, holder.kid, audience=issuer_env.state.did, nonce="never-issued")
    _refused(
        _issue_with(issuer_env, issuer_env.passport(holder), {"method": "did", "proof": unknown}), "nonce"
    )


def test_otp_binding_for_a_phone_holder(issuer_env: IssuerEnv) -> None:
    phone = "tel:+919876543210"
    otp = issuer_env.operator("/credentials/holder-otp", {"holder": phone})
    assert otp.status_code == 201
    otp_id, code = otp.json()["otpId"], otp.json()["code"]
    passport = issuer_env.passport(Holder(SigningKeyPair.generate()))
    passport["credentialSubject"]["id"] = phone
    wrong = "000000" if code != "000000" else "111111"
    _refused(_issue_with(issuer_env, passport, {"method": "otp", "otpId": otp_id, "code": wrong}), "wrong")
    resp = _issue_with(issuer_env, passport, {"method": "otp", "otpId": otp_id, "code": code})
    assert resp.status_code == 201, resp.text
    assert resp.json()["verifiableCredential"]["credentialSubject"]["id"] == phone
    _refused(
        _issue_with(issuer_env, passport, {"method": "otp", "otpId": otp_id, "code": code}), "already used"
    )
    with session_factory(issuer_env.state.engine)() as session:
        row = session.get(HolderOtpRow, otp_id)
        assert row is not None and code not in row.code_hash  # only a salted hash is kept
    assert issuer_env.operator("/credentials/holder-otp", {"holder": "9876543210"}).status_code == 400


def test_otp_locks_after_five_wrong_attempts(issuer_env: IssuerEnv) -> None:
    phone = "tel:+919812345678"
    otp = issuer_env.operator("/credentials/holder-otp", {"holder": phone}).json()
    passport = issuer_env.passport(Holder(SigningKeyPair.generate()))
    passport["credentialSubject"]["id"] = phone
    wrong = "000000" if otp["code"] != "000000" else "111111"
    for _ in range(5):
        _refused(
            _issue_with(issuer_env, passport, {"method": "otp", "otpId": otp["otpId"], "code": wrong}),
            "wrong",
        )
    right = {"method": "otp", "otpId": otp["otpId"], "code": otp["code"]}
    _refused(_issue_with(issuer_env, passport, right), "too many")


def test_an_invalid_credential_does_not_spend_the_holders_nonce(
    issuer_env: IssuerEnv, holder: Holder
) -> None:
    binding = issuer_env.binding(holder)
    bad = issuer_env.passport(holder)
    del bad["credentialSubject"]["customerProfile"]["customerNumber"]
    assert _issue_with(issuer_env, bad, binding).status_code == 400
    assert _issue_with(issuer_env, issuer_env.passport(holder), binding).status_code == 201
