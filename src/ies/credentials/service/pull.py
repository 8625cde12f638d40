"""Subject records and the DigiLocker pull flow that issues from them.

Why records: a DigiLocker request carries only a consumer number and a mobile number, so the issuer must
already hold what the credential says. The operator loads one record per consumer (NYCER, the passport) or
per consumer and period (MPLTR, the meter digest) with `PUT /credentials/subjects`; the record is checked
against its schema when it is loaded (a bad record fails then, not when a holder pulls it), and holds
the mobile number the pull must match.

A pull issues a fresh credential every time (Data Integrity, so `VcType` is `application/ld+json` as IES
requires), bound to the holder through DigiLocker (`holder_binding = digilocker`); the DigiLocker id goes
into `customerProfile.idRef` of a passport, as the IES DigiLocker guide says.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

from ies.credentials.service.digilocker import (
    DOC_TYPES,
    PullRequest,
    check_hmac,
    normalise_mobile,
    parse_pull_request,
    pull_response_xml,
)
from ies.credentials.service.holder import HolderBinding
from ies.credentials.service.issuance import VC_V2, check_credential, issue_credential
from ies.credentials.service.pdf import credential_lines, render_pdf
from ies.credentials.service.state import IssuerState
from ies.credentials.tables import SubjectRecordRow
from ies.errors import IESError, InternalError, NotFoundError, UsageError
from ies.schemas import get as schema_entry
from ies.store import session_factory, utcnow

__all__ = ["DIGILOCKER_DID", "digilocker_pull", "put_subject", "subject_credential"]

DIGILOCKER_DID = "did:web:digilocker.gov.in"


def _draft(family: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [VC_V2, schema_entry(family).context_url],
        "type": ["VerifiableCredential", family],
        "credentialSubject": subject,
    }


def subject_credential(state: IssuerState, record: SubjectRecordRow, request: PullRequest) -> dict[str, Any]:
    """The unsigned credential a pull issues from a record."""
    family = DOC_TYPES[record.doc_type]
    subject = copy.deepcopy(json.loads(record.subject))
    if "id" not in subject:  # the DISCOM's consumer DID: correlation only, the IES guide's fallback
        subject["id"] = f"{state.did}:consumers:{quote(record.consumer_no, safe='')}"
    if family == "ElectricityCredential" and request.digilocker_id:
        profile = subject.setdefault("customerProfile", {})
        profile["idRef"] = {
            "issuedBy": DIGILOCKER_DID,
            "subjectId": f"digilocker.gov.in:{request.digilocker_id}",
        }
    return _draft(family, subject)


def put_subject(state: IssuerState, body: Any) -> dict[str, Any]:
    """Load or replace a subject record; the subject is schema-checked as a credential first."""
    if not isinstance(body, dict):
        raise UsageError("body must be a JSON object")
    doc_type, consumer_no = body.get("docType"), body.get("consumerNo")
    period, mobile, subject = body.get("period") or "", body.get("mobile"), body.get("credentialSubject")
    if doc_type not in DOC_TYPES:
        raise UsageError("docType must be NYCER (passport) or MPLTR (meter digest)")
    if not isinstance(consumer_no, str) or not consumer_no or len(consumer_no) > 64:
        raise UsageError("consumerNo must be a string of 1-64 characters")
    if (doc_type == "MPLTR") != bool(period) or not isinstance(period, str) or len(period) > 32:
        raise UsageError("period is required for MPLTR (e.g. 2026-10) and not allowed for NYCER")
    if not isinstance(mobile, str) or not normalise_mobile(mobile):
        raise UsageError("mobile must hold a 10-digit mobile number")
    if not isinstance(subject, dict):
        raise UsageError("credentialSubject must be a JSON object")
    check_credential(state, _draft(DOC_TYPES[doc_type], subject))
    with session_factory(state.engine).begin() as session:
        row = session.get(SubjectRecordRow, (doc_type, consumer_no, period))
        if row is None:
            row = SubjectRecordRow(doc_type=doc_type, consumer_no=consumer_no, period=period)
            session.add(row)
        row.mobile, row.subject, row.updated_at = normalise_mobile(mobile), json.dumps(subject), utcnow()
    return {"docType": doc_type, "consumerNo": consumer_no, "period": period or None}


def _find_record(state: IssuerState, request: PullRequest) -> SubjectRecordRow:
    with session_factory(state.engine)() as session:
        row = session.get(SubjectRecordRow, (request.doc_type, request.consumer_no, request.period))
    if row is None or not request.mobile or row.mobile != request.mobile:
        raise NotFoundError("no record matches this consumer number and mobile number")
    return row


def digilocker_pull(state: IssuerState, raw: bytes, hmac_value: str | None) -> tuple[int, bytes]:
    """(HTTP status, PullURIResponse XML). Authentication first; a 401 issues nothing."""
    check_hmac(state.settings.digilocker_api_key, raw, hmac_value)  # DigiLockerAuthFailed → 401
    request: PullRequest | None = None
    try:
        request = parse_pull_request(raw)
        record = _find_record(state, request)
        credential = subject_credential(state, record, request)
        signed, _ = issue_credential(
            state,
            credential,
            proof_format=None,  # Data Integrity, so VcType is application/ld+json as IES requires
            binding=HolderBinding("digilocker", f"digilocker.gov.in:{request.digilocker_id or '-'}"),
            audit_actor="digilocker.gov.in",
        )
    except IESError as err:
        return err.http_status, pull_response_xml(request, status=0)
    if not isinstance(signed, dict):
        raise InternalError("a Data Integrity issuance returned no JSON-LD document")
    vc_bytes = json.dumps(signed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    suffix = f"{request.consumer_no}-{request.period}" if request.period else request.consumer_no
    uri = f"{state.settings.digilocker_issuer_id}-{request.doc_type}-{suffix}"
    title, lines = credential_lines(signed, verify_url=state.settings.url("/credentials/verify"))
    pdf = render_pdf(title, [f"DigiLocker URI: {uri}", *lines])
    return 200, pull_response_xml(request, status=1, uri=uri, pdf=pdf, vc=vc_bytes)
