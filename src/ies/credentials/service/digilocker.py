"""DigiLocker's Pull URI API: authenticate the request, read its XML, answer with the VC and a PDF.

Why this shape (IES `digilocker.md`, DigiLocker Issuer API "Pull URI Request"): DigiLocker POSTs a
`PullURIRequest` (XML) when a holder asks for a document; the issuer answers with a URI, the document as a
PDF (`DocContent`) and, for IES, the verifiable credential (`VcContent`, base64, `VcType`).

Order of the checks, failing closed:
  (1) `x-digilocker-hmac` must equal base64(HMAC-SHA256(api key, raw body)), compared in constant time on
      the raw bytes BEFORE the XML is parsed — an unauthenticated body is never parsed, nothing is issued,
      and the answer is 401;
  (2) the XML must be small, without DTDs or entities (no entity-expansion bombs), and a PullURIRequest;
  (3) `DocType` NYCER (Consumer Energy Passport, ElectricityCredential) or MPLTR (Consumer Meter Digest,
      MeterDataCredential); `UDF1` is the consumer number; NYCER has the mobile in `UDF2`, MPLTR has the
      period in `UDF2` and the mobile in `UDF3`;
  (4) the subject record the operator loaded for that consumer (and period) must exist and its mobile
      match — the same 404 either way, so the endpoint cannot be used to test which numbers exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from ies.errors import AuthError, UsageError

__all__ = [
    "DOC_TYPES",
    "MAX_REQUEST_BYTES",
    "DigiLockerAuthFailed",
    "PullRequest",
    "check_hmac",
    "hmac_header",
    "normalise_mobile",
    "parse_pull_request",
    "pull_response_xml",
]

MAX_REQUEST_BYTES = 64 * 1024
DOC_TYPES: dict[str, str] = {"NYCER": "ElectricityCredential", "MPLTR": "MeterDataCredential"}
_PERIOD_RE = re.compile(r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?(/[0-9]{4}-[0-9]{2}(-[0-9]{2})?)?$")
_CONSUMER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


class DigiLockerAuthFailed(AuthError):
    """The request's HMAC is missing or wrong: 401, and nothing is read or issued."""

    code = "AUT_DIGILOCKER_HMAC"


def hmac_header(api_key: bytes, raw: bytes) -> str:
    """The `x-digilocker-hmac` value for a body (what DigiLocker sends; the tests sign with it)."""
    return base64.b64encode(hmac.new(api_key, raw, hashlib.sha256).digest()).decode("ascii")


def check_hmac(api_key: bytes | None, raw: bytes, header: str | None) -> None:
    """Raise DigiLockerAuthFailed unless `header` is the body's HMAC (constant-time comparison)."""
    if api_key is None:
        raise DigiLockerAuthFailed("DigiLocker pull is not configured on this issuer (no API key)")
    if not header:
        raise DigiLockerAuthFailed("x-digilocker-hmac header missing")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    expected = hmac.new(api_key, raw, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise DigiLockerAuthFailed("x-digilocker-hmac does not match the request body")


@dataclass(frozen=True)
class PullRequest:
    ts: str
    txn: str
    org_id: str
    doc_type: str
    digilocker_id: str
    consumer_no: str
    mobile: str
    period: str
    full_name: str

    @property
    def credential_type(self) -> str:
        return DOC_TYPES[self.doc_type]


def normalise_mobile(value: str) -> str:
    """The last ten digits of a phone number (`+91 98765-43210` → `9876543210`); '' when fewer."""
    digits = re.sub(r"\D", "", value or "")
    return digits[-10:] if len(digits) >= 10 else ""


def parse_pull_request(raw: bytes) -> PullRequest:
    """Read a PullURIRequest; UsageError (400) when it is not one we can answer."""
    if len(raw) > MAX_REQUEST_BYTES:
        raise UsageError(f"PullURIRequest larger than {MAX_REQUEST_BYTES} bytes")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise UsageError("PullURIRequest must not carry a DTD or entities")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise UsageError(f"PullURIRequest is not well-formed XML: {exc}") from None
    if _local(root.tag) != "PullURIRequest":
        raise UsageError(f"expected a PullURIRequest, got {_local(root.tag)}")
    details = next((child for child in root if _local(child.tag) == "DocDetails"), None)
    if details is None:
        raise UsageError("PullURIRequest has no DocDetails")
    fields = {_local(child.tag): (child.text or "").strip() for child in details}
    doc_type = fields.get("DocType", "")
    if doc_type not in DOC_TYPES:
        raise UsageError(f"DocType {doc_type!r} is not issued here (NYCER or MPLTR)")
    consumer_no = fields.get("UDF1", "")
    if not _CONSUMER_RE.fullmatch(consumer_no):
        raise UsageError("UDF1 must carry the consumer number")
    if doc_type == "MPLTR":
        period, mobile = fields.get("UDF2", ""), fields.get("UDF3", "")
        if not _PERIOD_RE.fullmatch(period):
            raise UsageError("MPLTR needs the period in UDF2 (YYYY-MM, YYYY-MM-DD or a start/end range)")
    else:
        period, mobile = "", fields.get("UDF2", "")
    return PullRequest(
        ts=root.get("ts", ""),
        txn=root.get("txn", ""),
        org_id=root.get("orgId", ""),
        doc_type=doc_type,
        digilocker_id=fields.get("DigiLockerId", ""),
        consumer_no=consumer_no,
        mobile=normalise_mobile(mobile),
        period=period,
        full_name=fields.get("FullName", ""),
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def pull_response_xml(
    request: PullRequest | None,
    *,
    status: int,
    uri: str = "",
    pdf: bytes = b"",
    vc: bytes = b"",
    vc_type: str = "application/ld+json",
    ts: str = "",
    txn: str = "",
) -> bytes:
    """A PullURIResponse: `Status` 1 with the documents, or 0 with none (ts/txn echoed)."""
    root = ET.Element("PullURIResponse", {"xmlns:ns2": "http://tempuri.org/"})
    echo_ts = request.ts if request else ts
    echo_txn = request.txn if request else txn
    status_el = ET.SubElement(root, "ResponseStatus", {"Status": str(status), "ts": echo_ts, "txn": echo_txn})
    status_el.text = str(status)
    if request is not None and status == 1:
        details = ET.SubElement(root, "DocDetails")
        values: dict[str, Any] = {
            "DocType": request.doc_type,
            "DigiLockerId": request.digilocker_id,
            "FullName": request.full_name,
            "URI": uri,
            "DocContent": base64.b64encode(pdf).decode("ascii"),
            "VcContent": base64.b64encode(vc).decode("ascii"),
            "VcType": vc_type,
        }
        for name, value in values.items():
            ET.SubElement(details, name).text = value
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + ET.tostring(
        root, encoding="unicode"
    ).encode("utf-8")
