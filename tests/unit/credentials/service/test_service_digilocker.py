"""DigiLocker pull: HMAC before anything, NYCER and MPLTR answered with a verifiable VC and a PDF."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from vc_service_helpers import DIGILOCKER_KEY, Holder, IssuerEnv, example, unsigned

from ies.audit.tables import AuditEntryRow
from ies.credentials.service.digilocker import hmac_header, normalise_mobile
from ies.credentials.service.pdf import credential_lines, render_pdf
from ies.credentials.tables import IssuedCredentialRow
from ies.identity.keys import SigningKeyPair
from ies.store import session_factory

MOBILE = "+91 98765 43210"


def _request(doc_type: str, consumer_no: str, *udfs: str, digilocker_id: str = "DL-7781") -> bytes:
    udf = "".join(f"<UDF{i}>{v}</UDF{i}>" for i, v in enumerate((consumer_no, *udfs), start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<PullURIRequest xmlns:ns2="http://tempuri.org/" ver="3.0" ts="2026-11-26T10:00:00+05:30" '
        'txn="txn-42" orgId="in.ies.issuer" format="both"><DocDetails>'
        f"<DocType>{doc_type}</DocType><DigiLockerId>{digilocker_id}</DigiLockerId>"
        f"<FullName>Jane Doe</FullName>{udf}</DocDetails></PullURIRequest>"
    ).encode()


def _pull(env: IssuerEnv, raw: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/xml"}
    if signature is not None:
        headers["x-digilocker-hmac"] = signature
    return httpx.post(f"{env.url}/digilocker/pulluri", content=raw, headers=headers, timeout=30)


def _issued_count(env: IssuerEnv) -> tuple[int, int]:
    with session_factory(env.state.engine)() as session:
        issued = session.scalar(select(func.count()).select_from(IssuedCredentialRow)) or 0
        audit = session.scalar(select(func.count()).select_from(AuditEntryRow)) or 0
    return issued, audit


@pytest.fixture(scope="module")
def records(issuer_env: IssuerEnv) -> dict[str, Any]:
    passport = unsigned(example("ElectricityCredential", "1.2", "example.json"))["credentialSubject"]
    passport.pop("id")
    digest = unsigned(example("MeterDataCredential", "0.6", "example-customer-profile.json"))[
        "credentialSubject"
    ]
    bodies = [
        {
            "docType": "NYCER",
            "consumerNo": "UTIL-2025-001234567",
            "mobile": MOBILE,
            "credentialSubject": passport,
        },
        {
            "docType": "MPLTR",
            "consumerNo": "RR-1234",
            "period": "2026-10",
            "mobile": MOBILE,
            "credentialSubject": digest,
        },
    ]
    for body in bodies:
        resp = httpx.put(f"{issuer_env.url}/credentials/subjects", json=body, headers=issuer_env.headers)
        assert resp.status_code == 200, resp.text
    return {"passport": passport, "digest": digest}


def test_wrong_or_missing_hmac_gets_401_and_issues_nothing(
    issuer_env: IssuerEnv, records: dict[str, Any]
) -> None:
    raw = _request("NYCER", "UTIL-2025-001234567", MOBILE)
    before = _issued_count(issuer_env)
    wrong_key = hmac_header(b"not-the-digilocker-api-key", raw)
    other_body = hmac_header(DIGILOCKER_KEY, raw + b" ")
    for signature in (wrong_key, other_body, None, "", "%%%not-base64%%%"):
        resp = _pull(issuer_env, raw, signature)
        assert resp.status_code == 401
        assert b"AUT_DIGILOCKER_HMAC" in resp.content
    assert _issued_count(issuer_env) == before


def test_nycer_pull_returns_a_verifiable_passport_and_a_pdf(
    issuer_env: IssuerEnv, records: dict[str, Any]
) -> None:
    raw = _request("NYCER", "UTIL-2025-001234567", MOBILE)
    resp = _pull(issuer_env, raw, hmac_header(DIGILOCKER_KEY, raw))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(resp.content)
    status = root.find("ResponseStatus")
    assert status is not None and status.get("Status") == "1"
    assert status.get("txn") == "txn-42" and status.get("ts") == "2026-11-26T10:00:00+05:30"
    details = {child.tag: child.text or "" for child in root.find("DocDetails")}  # type: ignore[union-attr]
    assert details["URI"] == "in.ies.issuer-NYCER-UTIL-2025-001234567"
    assert details["VcType"] == "application/ld+json"
    pdf = base64.b64decode(details["DocContent"])
    assert pdf.startswith(b"%PDF-1.4") and b"Consumer Energy Passport" in pdf
    vc = json.loads(base64.b64decode(details["VcContent"]))
    assert vc["type"] == ["VerifiableCredential", "ElectricityCredential"]
    assert vc["credentialSubject"]["customerProfile"]["idRef"] == {
        "issuedBy": "did:web:digilocker.gov.in",
        "subjectId": "digilocker.gov.in:DL-7781",
    }
    assert vc["credentialSubject"]["id"] == f"{issuer_env.state.did}:consumers:UTIL-2025-001234567"
    assert issuer_env.verify(vc).json()["verified"] is True
    with session_factory(issuer_env.state.engine)() as session:
        row = session.get(IssuedCredentialRow, vc["id"])
        assert row is not None and row.holder_binding == "digilocker"


def test_mpltr_pull_takes_the_period_and_mobile_from_udf2_and_udf3(
    issuer_env: IssuerEnv, records: dict[str, Any]
) -> None:
    raw = _request("MPLTR", "RR-1234", "2026-10", "9876543210")
    resp = _pull(issuer_env, raw, hmac_header(DIGILOCKER_KEY, raw))
    assert resp.status_code == 200, resp.text
    details = {c.tag: c.text or "" for c in ET.fromstring(resp.content).find("DocDetails")}  # type: ignore[union-attr]
    assert details["URI"] == "in.ies.issuer-MPLTR-RR-1234-2026-10"
    vc = json.loads(base64.b64decode(details["VcContent"]))
    assert vc["type"][-1] == "MeterDataCredential"
    assert issuer_env.verify(vc).json()["verified"] is True


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (_request("NYCER", "UTIL-2025-001234567", "+91 90000 00000"), 404),  # mobile does not match
        (_request("NYCER", "NO-SUCH-CONSUMER", MOBILE), 404),
        (_request("MPLTR", "RR-1234", "2026-09", MOBILE), 404),  # no record for that period
        (_request("MPLTR", "RR-1234", "last month", MOBILE), 400),
        (_request("DRVLC", "UTIL-2025-001234567", MOBILE), 400),
        (b"<PullURIRequest><DocDetails>", 400),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><PullURIRequest/>', 400),
    ],
)
def test_unanswerable_pulls_issue_nothing(
    issuer_env: IssuerEnv, records: dict[str, Any], raw: bytes, status: int
) -> None:
    before = _issued_count(issuer_env)
    resp = _pull(issuer_env, raw, hmac_header(DIGILOCKER_KEY, raw))
    assert resp.status_code == status
    assert b'Status="0"' in resp.content
    assert _issued_count(issuer_env) == before


def test_subject_records_are_schema_checked_when_loaded(
    issuer_env: IssuerEnv, records: dict[str, Any]
) -> None:
    bad = {k: v for k, v in records["passport"].items()}
    bad["customerProfile"] = {k: v for k, v in bad["customerProfile"].items() if k != "customerNumber"}
    body = {"docType": "NYCER", "consumerNo": "X-1", "mobile": MOBILE, "credentialSubject": bad}
    resp = httpx.put(f"{issuer_env.url}/credentials/subjects", json=body, headers=issuer_env.headers)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "SCH_SCHEMA_VALIDATION_FAILED"
    assert httpx.put(f"{issuer_env.url}/credentials/subjects", json=body).status_code == 403
    no_period = {**body, "docType": "MPLTR", "credentialSubject": records["digest"]}
    resp = httpx.put(f"{issuer_env.url}/credentials/subjects", json=no_period, headers=issuer_env.headers)
    assert resp.status_code == 400 and "period" in resp.text


def test_mobile_numbers_compare_on_their_last_ten_digits() -> None:
    assert normalise_mobile("+91 98765-43210") == normalise_mobile("09876543210") == "9876543210"
    assert normalise_mobile("12345") == ""


def test_pdf_is_well_formed_with_exact_cross_references() -> None:
    holder = Holder(SigningKeyPair.generate())
    credential = {
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential", "MeterDataCredential"],
        "issuer": {"id": "did:web:x", "name": "DISCOM (Test)"},
        "credentialSubject": {
            "id": holder.did,
            "name": "Ā (non-Latin) \\ name",
            "readings": list(range(500)),
        },
    }
    title, lines = credential_lines(credential, verify_url="http://x/credentials/verify")
    assert title == "Consumer Meter Digest"
    assert any("more values" in line for line in lines)  # long digests are cut, and say so
    pdf = render_pdf(title, lines)
    assert pdf == render_pdf(title, lines)  # deterministic
    objects = int(re.search(rb"/Size (\d+)", pdf).group(1))  # type: ignore[union-attr]
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[xref_at:].startswith(b"xref\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", pdf[xref_at:])
    assert len(offsets) == objects - 1
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(f"{number} 0 obj".encode())
    for stream in re.finditer(rb"<< /Length (\d+) >>\nstream\n", pdf):
        end = stream.end() + int(stream.group(1))
        assert pdf[end:].startswith(b"\nendstream")
    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))  # type: ignore[union-attr]
    assert pages > 1 and pdf.count(b"/Type /Page ") == pages
    assert b"DISCOM \\(Test\\)" in pdf and b"? \\(non-Latin\\) \\\\ name" in pdf
