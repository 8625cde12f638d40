"""POST /credentials/issue for generic W3C VC 2.0 credentials (what the W3C VC-API suites send).

The request body is the W3C vc-di-eddsa-test-suite's `validVc` (tests/vc-generator/validVc.js) with a fresh
id and our issuer, exactly as its `createInitialVc` posts it: no holder binding, VC v2 context only.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from vc_service_helpers import Holder, IssuerEnv

from ies.credentials import ProofFormat
from ies.credentials.envelope import envelope_findings
from ies.credentials.tables import IssuedCredentialRow
from ies.store import session_factory

VC_V2 = "https://www.w3.org/ns/credentials/v2"


def _valid_vc(env: IssuerEnv) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": env.state.did,
        "credentialSubject": {
            "id": "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b",
            "name": "ExampleClaim",
        },
    }


def _post(env: IssuerEnv, credential: Any, **options: Any) -> httpx.Response:
    body = {"credential": credential, "options": options}
    return httpx.post(f"{env.url}/credentials/issue", json=body, headers=env.headers, timeout=30)


def _issued_count(env: IssuerEnv) -> int:
    with session_factory(env.state.engine)() as session:
        return session.scalar(select(func.count()).select_from(IssuedCredentialRow)) or 0


def test_the_w3c_suite_request_is_signed_rdfc_by_default_and_verifies(issuer_env: IssuerEnv) -> None:
    credential = _valid_vc(issuer_env)
    resp = _post(issuer_env, credential)
    assert resp.status_code == 201, resp.text
    vc = resp.json()["verifiableCredential"]
    assert vc["id"] == credential["id"] == resp.json()["id"]
    assert vc["proof"]["type"] == "DataIntegrityProof"
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert vc["issuer"]["id"] == issuer_env.state.did
    assert [e["statusPurpose"] for e in vc["credentialStatus"]] == ["revocation", "suspension"]
    report = issuer_env.verify(vc).json()
    assert report["verified"] is True, report
    with session_factory(issuer_env.state.engine)() as session:
        row = session.get(IssuedCredentialRow, vc["id"])
    assert row is not None
    assert (row.credential_type, row.proof_format, row.holder_binding) == (
        "VerifiableCredential",
        "eddsa-rdfc-2022",
        "none",
    )


@pytest.mark.parametrize("fmt", [f.value for f in ProofFormat])
def test_every_format_issues_a_generic_credential_that_verifies(issuer_env: IssuerEnv, fmt: str) -> None:
    credential = _valid_vc(issuer_env)
    credential["type"] = ["VerifiableCredential", "ExampleAchievementCredential"]
    resp = _post(issuer_env, credential, format=fmt)
    assert resp.status_code == 201, resp.text
    vc = resp.json()["verifiableCredential"]
    assert isinstance(vc, dict) == ProofFormat(fmt).is_data_integrity
    report = issuer_env.verify(vc).json()
    assert report["verified"] is True, report
    assert report["credential"]["subject"] == credential["credentialSubject"]["id"]
    assert report["credential"]["format"] == fmt
    with session_factory(issuer_env.state.engine)() as session:
        row = session.get(IssuedCredentialRow, credential["id"])
    assert row is not None and row.credential_type == "ExampleAchievementCredential"


def _refused(env: IssuerEnv, credential: Any) -> dict[str, Any]:
    before = _issued_count(env)
    resp = _post(env, credential)
    assert resp.status_code == 400, resp.text
    assert _issued_count(env) == before
    error: dict[str, Any] = resp.json()["error"]
    return error


def _rules(error: dict[str, Any]) -> set[str]:
    assert error["code"] == "SCH_SCHEMA_VALIDATION_FAILED", error
    return {f["rule"] for f in error["details"]["findings"]}


def test_the_vc2_envelope_is_checked_before_anything_is_stored(issuer_env: IssuerEnv) -> None:
    def broken(**changes: Any) -> dict[str, Any]:
        doc = _valid_vc(issuer_env)
        for name, value in changes.items():
            if value is None:
                doc.pop(name.replace("at_context", "@context"), None)
            else:
                doc[name.replace("at_context", "@context")] = value
        return doc

    assert _rules(_refused(issuer_env, broken(at_context=None))) == {"VC2-CONTEXT"}
    assert _rules(_refused(issuer_env, broken(at_context=["https://www.w3.org/2018/credentials/v1"]))) == {
        "VC2-CONTEXT"
    }
    unbundled = _refused(issuer_env, broken(at_context=[VC_V2, "https://example.org/contexts/v1"]))
    assert _rules(unbundled) == {"VC2-CONTEXT-BUNDLED"} and "not bundled" in unbundled["message"]
    assert _rules(_refused(issuer_env, broken(type=["ExampleCredential"]))) == {"VC2-TYPE"}
    assert _rules(_refused(issuer_env, broken(credentialSubject=None))) == {"VC2-SUBJECT"}
    assert _rules(_refused(issuer_env, broken(credentialSubject={}))) == {"VC2-SUBJECT"}
    assert _rules(_refused(issuer_env, broken(credentialSubject={"id": "not a url", "a": 1}))) == {
        "VC2-SUBJECT"
    }
    assert _rules(_refused(issuer_env, broken(credentialSchema={"type": "JsonSchema"}))) == {"VC2-OBJECT"}
    assert _rules(_refused(issuer_env, broken(name=7))) == {"VC2-NAME"}
    signed = broken(proof={"type": "DataIntegrityProof"})
    assert _rules(_refused(issuer_env, signed)) == {"VC2-UNSIGNED"}


def test_a_member_the_contexts_do_not_define_is_refused_safe_mode(issuer_env: IssuerEnv) -> None:
    doc = _valid_vc(issuer_env)
    doc["@context"] = [VC_V2, {"favouriteColour": None}]  # unmapped on purpose: JSON-LD would drop it
    doc["credentialSubject"]["favouriteColour"] = "green"
    error = _refused(issuer_env, doc)
    assert _rules(error) == {"VC2-JSONLD"} and "a term mapped to null" in error["message"]


def test_refusals_shared_with_ies_types(issuer_env: IssuerEnv, holder: Holder) -> None:
    two = _valid_vc(issuer_env)
    two["type"] = ["VerifiableCredential", "MeterDataCredential", "ElectricityCredential"]
    assert _post(issuer_env, two).json()["error"]["code"] == "USAGE"
    foreign = {**_valid_vc(issuer_env), "issuer": "did:web:someone.else"}
    assert "did:web:someone.else" in _post(issuer_env, foreign).json()["error"]["message"]
    naive = {**_valid_vc(issuer_env), "validFrom": "2026-11-26T10:00:00"}
    assert _post(issuer_env, naive).json()["error"]["code"] == "USAGE"
    # an IES type still needs holder binding; a generic credential's binding is checked when given
    passport = issuer_env.passport(holder)
    assert _post(issuer_env, passport).json()["error"]["code"] == "VC_HOLDER_BINDING_FAILED"
    doc = _valid_vc(issuer_env)
    doc["credentialSubject"]["id"] = holder.did
    bad = {"method": "did", "proof": "not.a.jwt"}
    assert _post(issuer_env, doc, holderBinding=bad).status_code == 403
    good = issuer_env.issue(doc, holder)
    assert good.status_code == 201, good.text
    with session_factory(issuer_env.state.engine)() as session:
        row = session.get(IssuedCredentialRow, doc["id"])
    assert row is not None and row.holder_binding == "did"


def test_envelope_findings_accept_the_full_data_model() -> None:
    doc = {
        "@context": [VC_V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "http://university.example/credentials/3732",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": {"id": "did:web:issuer.ies.local", "name": "Issuer"},
        "name": [{"@value": "Degree", "@language": "en"}],
        "validFrom": "2026-01-01T00:00:00+05:30",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": [{"id": "did:example:1", "degree": "BSc"}, {"degree": "MSc"}],
        "credentialSchema": [{"id": "https://example.org/schema.json", "type": "JsonSchema"}],
        "evidence": {"type": ["Evidence"]},
    }
    assert envelope_findings(doc) == []
    doc["validUntil"] = "2027-01-01"
    assert [f["rule"] for f in envelope_findings(doc)] == ["VC2-VALIDITY"]
