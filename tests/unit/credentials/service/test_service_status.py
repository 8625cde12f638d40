"""Revocation and suspension end to end over HTTP: status lists, the DeDi registry, the verifier's cache,
and each refusal reason a verifier reports."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from vc_service_helpers import STATUS_TTL_S, Holder, IssuerEnv

from ies.credentials import (
    CredentialRevoked,
    IssuerKey,
    ProofFormat,
    StatusUnavailable,
    UnsafeNoStatusCheck,
    issue,
    verify,
)
from ies.credentials.status import HttpStatusChecker, decode_list, get_bit, revocation_hash
from ies.credentials.status.entries import format_vc_time
from ies.identity.keys import SigningKeyPair


def _wait_for_code(env: IssuerEnv, vc: Any, code: str | None) -> dict[str, Any]:
    """Verify until the verifier reports `code` (None: verified); at most a few TTLs of its cache."""
    deadline = time.monotonic() + 5 * STATUS_TTL_S + 5
    while True:
        report = env.verify(vc).json()
        got = None if report["verified"] else report["errors"][0]["code"]
        if got == code or time.monotonic() > deadline:
            assert got == code, report
            return report
        time.sleep(0.2)


def test_meter_digest_suspend_reinstate_revoke(issuer_env: IssuerEnv, holder: Holder) -> None:
    vc, cid = issuer_env.issued(issuer_env.digest(holder), holder)
    assert issuer_env.verify(vc).json()["verified"] is True
    resp = issuer_env.operator("/credentials/status", {"credentialId": cid, "status": "suspended"})
    assert resp.status_code == 200 and resp.json()["status"] == "suspended"
    _wait_for_code(issuer_env, vc, "VC_SUSPENDED")
    vc_api_form = {
        "credentialId": cid,
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "active"}],
    }
    assert issuer_env.operator("/credentials/status", vc_api_form).json()["status"] == "active"
    _wait_for_code(issuer_env, vc, None)
    resp = issuer_env.operator("/credentials/revoke", {"credentialId": cid, "reason": "meter replaced"})
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"
    _wait_for_code(issuer_env, vc, "VC_REVOKED")
    assert issuer_env.operator("/credentials/revoke", {"credentialId": cid}).status_code == 409
    assert (
        issuer_env.operator("/credentials/status", {"credentialId": cid, "status": "active"}).status_code
        == 409
    )


def test_passport_is_revoked_through_the_dedi_registry(issuer_env: IssuerEnv, holder: Holder) -> None:
    vc, cid = issuer_env.issued(issuer_env.passport(holder), holder)
    lookup = vc["credentialStatus"]["id"]
    assert lookup.endswith(revocation_hash(cid))
    assert httpx.get(lookup).status_code == 404
    resp = issuer_env.operator("/credentials/status", {"credentialId": cid, "status": "suspended"})
    assert resp.status_code == 409 and "only be revoked" in resp.json()["error"]["message"]
    assert issuer_env.operator("/credentials/revoke", {"credentialId": cid}).status_code == 200
    found = httpx.get(lookup)
    assert found.status_code == 200 and found.json()["data"]["record_id"] == revocation_hash(cid)
    query = httpx.get(vc["credentialStatus"]["statusListCredential"]).json()
    assert revocation_hash(cid) in [r["record_id"] for r in query["data"]]
    wrong_ns = lookup.replace("/issuer.ies.local/", "/other.example/")
    assert httpx.get(wrong_ns).status_code == 404
    _wait_for_code(issuer_env, vc, "VC_REVOKED")


def test_status_operations_need_the_operator_and_a_known_credential(issuer_env: IssuerEnv) -> None:
    body = {"credentialId": "urn:uuid:00000000-0000-4000-8000-000000000000"}
    assert httpx.post(f"{issuer_env.url}/credentials/revoke", json=body).status_code == 403
    assert issuer_env.operator("/credentials/revoke", body).status_code == 404
    assert issuer_env.operator("/credentials/status", {**body, "status": "paused"}).status_code == 400
    assert issuer_env.operator("/credentials/revoke", {"reason": "x" * 300, **body}).status_code == 400


def test_the_status_list_is_a_signed_gzip_bitstring_credential(issuer_env: IssuerEnv, holder: Holder) -> None:
    vc, cid = issuer_env.issued(issuer_env.digest(holder), holder)
    entry = vc["credentialStatus"][0]
    url, index = entry["statusListCredential"], int(entry["statusListIndex"])
    served = httpx.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/vc+ld+json")
    assert served.headers["cache-control"] == f"max-age={STATUS_TTL_S}"
    listed = served.json()
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["id"] == url and listed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    subject = listed["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["ttl"] == STATUS_TTL_S * 1000
    assert subject["encodedList"].startswith("u")
    assert not get_bit(decode_list(subject["encodedList"]), index)
    checked = verify(listed, resolver=issuer_env.state.verifier.resolver)
    assert checked.issuer == issuer_env.state.did
    issuer_env.operator("/credentials/revoke", {"credentialId": cid})
    after = httpx.get(url).json()
    assert get_bit(decode_list(after["credentialSubject"]["encodedList"]), index)
    assert httpx.get(f"{issuer_env.url}/credentials/status-lists/rev-unknown").status_code == 404


def test_verifier_cache_is_bounded_by_its_ttl(issuer_env: IssuerEnv, holder: Holder) -> None:
    vc, cid = issuer_env.issued(issuer_env.digest(holder), holder)
    now = [1000.0]
    resolver = issuer_env.state.verifier.resolver
    with HttpStatusChecker(resolver, max_ttl_s=60, clock=lambda: now[0]) as checker:
        verify(vc, resolver=resolver, status_checker=checker)
        fetched = checker.fetch_count
        issuer_env.operator("/credentials/revoke", {"credentialId": cid})
        verify(vc, resolver=resolver, status_checker=checker)  # still inside the list's ttl (1 s of clock)
        assert checker.fetch_count == fetched
        now[0] += STATUS_TTL_S + 0.01  # the list said ttl = 1 s, smaller than the checker's 60 s bound
        with pytest.raises(CredentialRevoked):
            verify(vc, resolver=resolver, status_checker=checker)
        assert checker.fetch_count > fetched


def _local_credential(env: IssuerEnv, holder: Holder, **changes: Any) -> dict[str, Any]:
    doc = env.digest(holder)
    doc.update(
        {"id": "urn:uuid:6d3f1a52-7a8e-4c41-9d1b-1f0e2c3b4a5d", "issuer": {"id": env.state.did, "name": "x"}}
    )
    now = datetime.now(UTC)
    doc["validFrom"] = format_vc_time(now - timedelta(days=1))
    doc["validUntil"] = format_vc_time(now + timedelta(days=1))
    doc.update(changes)
    return doc


def test_status_lists_of_another_issuer_or_purpose_are_refused(issuer_env: IssuerEnv, holder: Holder) -> None:
    vc, _ = issuer_env.issued(issuer_env.digest(holder), holder)
    revocation_entry = vc["credentialStatus"][0]
    stranger = IssuerKey.did_key(SigningKeyPair.generate())
    doc = _local_credential(issuer_env, holder, credentialStatus=revocation_entry)
    doc["issuer"] = {"id": stranger.did, "name": "stranger"}
    signed = issue(doc, key=stranger, format=ProofFormat.EDDSA_JCS_2022)
    checker = issuer_env.state.verifier.status_checker
    with pytest.raises(StatusUnavailable) as err:
        verify(signed, resolver=issuer_env.state.verifier.resolver, status_checker=checker)
    assert (
        err.value.code == "VC_STATUS_VERIFICATION_ERROR"
        and "not by the credential's issuer" in err.value.message
    )
    wrong_purpose = {**revocation_entry, "statusPurpose": "suspension"}
    doc = _local_credential(issuer_env, holder, credentialStatus=wrong_purpose)
    signed = issue(doc, key=issuer_env.state.keys.ed25519(), format=ProofFormat.EDDSA_JCS_2022)
    with pytest.raises(StatusUnavailable) as err:
        verify(signed, resolver=issuer_env.state.verifier.resolver, status_checker=checker)
    assert err.value.code == "VC_STATUS_VERIFICATION_ERROR"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9/credentials/status-lists/x", "could not fetch"),
        ("http://status.example.org/lists/1", "not https"),
        ("https://127.0.0.1:9/lists/1", "could not fetch"),
    ],
)
def test_unreachable_or_plain_http_lists_fail_closed(
    issuer_env: IssuerEnv, holder: Holder, url: str, words: str
) -> None:
    entry = {
        "id": f"{url}#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": url,
    }
    signed = issue(
        _local_credential(issuer_env, holder, credentialStatus=entry),
        key=issuer_env.state.keys.ed25519(),
        format=ProofFormat.EDDSA_JCS_2022,
    )
    with pytest.raises(StatusUnavailable, match=words):
        verify(
            signed,
            resolver=issuer_env.state.verifier.resolver,
            status_checker=issuer_env.state.verifier.status_checker,
        )


# -- what a verifier reports ------------------------------------------------------------------------------


def _code(env: IssuerEnv, vc: Any) -> str:
    report = env.verify(vc).json()
    assert report["verified"] is False, report
    return str(report["errors"][0]["code"])


def test_tampered_in_any_signed_field_is_a_bad_signature(issuer_env: IssuerEnv, holder: Holder) -> None:
    vc, _ = issuer_env.issued(issuer_env.passport(holder), holder)
    profile = vc["credentialSubject"]["customerProfile"]["consumptionProfiles"][0]
    tampered = [
        {**vc, "validUntil": "2099-01-01T00:00:00Z"},
        {**vc, "issuer": {**vc["issuer"], "name": "Someone Else"}},
        {
            **vc,
            "credentialStatus": {**vc["credentialStatus"], "id": vc["credentialStatus"]["id"][:-4] + "0000"},
        },
    ]
    bumped = {**profile, "sanctionedLoad": {"value": 50, "unit": "kW"}}
    subject = {**vc["credentialSubject"]}
    subject["customerProfile"] = {**subject["customerProfile"], "consumptionProfiles": [bumped]}
    tampered.append({**vc, "credentialSubject": subject})
    for doc in tampered:
        assert _code(issuer_env, doc) == "VC_SIGNATURE_INVALID"
    jwt, _ = issuer_env.issued(issuer_env.passport(holder), holder, format="vc-jose-eddsa")
    head, body, sig = jwt.split(".")
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BA")
    assert _code(issuer_env, f"{head}.{body}.{flipped}") == "VC_SIGNATURE_INVALID"


def test_unknown_key_expired_not_yet_valid_and_schema_invalid(issuer_env: IssuerEnv, holder: Holder) -> None:
    rogue = IssuerKey(f"{issuer_env.state.did}#rogue-key", SigningKeyPair.generate())
    doc = _local_credential(issuer_env, holder)
    assert _code(issuer_env, issue(doc, key=rogue, format=ProofFormat.EDDSA_JCS_2022)) == "VC_UNKNOWN_KEY"
    key = issuer_env.state.keys.ed25519()
    now = datetime.now(UTC)
    expired = _local_credential(
        issuer_env,
        holder,
        validFrom=format_vc_time(now - timedelta(days=30)),
        validUntil=format_vc_time(now - timedelta(days=1)),
    )
    signed = issue(expired, key=key, format=ProofFormat.EDDSA_JCS_2022, schema_check=False)
    assert _code(issuer_env, signed) == "VC_EXPIRED"
    future = _local_credential(
        issuer_env,
        holder,
        validFrom=format_vc_time(now + timedelta(days=2)),
        validUntil=format_vc_time(now + timedelta(days=30)),
    )
    assert _code(issuer_env, issue(future, key=key, format=ProofFormat.EDDSA_JCS_2022)) == "VC_NOT_YET_VALID"
    broken = _local_credential(issuer_env, holder)
    del broken["credentialSubject"]["meterData"]["profileType"]
    signed = issue(broken, key=key, format=ProofFormat.EDDSA_JCS_2022, schema_check=False)
    assert _code(issuer_env, signed) == "VC_SCHEMA_INVALID"
    ok = issue(_local_credential(issuer_env, holder), key=key, format=ProofFormat.EDDSA_JCS_2022)
    assert verify(ok, resolver=issuer_env.state.verifier.resolver, status_checker=UnsafeNoStatusCheck()).id


def test_enveloped_and_malformed_verify_requests(issuer_env: IssuerEnv, holder: Holder) -> None:
    jwt, _ = issuer_env.issued(issuer_env.passport(holder), holder, format="vc-jose-es256")
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{jwt}",
    }
    report = issuer_env.verify(enveloped).json()
    assert report["verified"] is True and report["credential"]["format"] == "vc-jose-es256"
    resp = httpx.post(f"{issuer_env.verifier_url}/credentials/verify", content=b"not json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "USAGE"
    resp = httpx.post(f"{issuer_env.verifier_url}/credentials/verify", json={"credential": {}})
    assert resp.status_code == 400
