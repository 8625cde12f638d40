"""The W3C VC Data Model 2.0 envelope of a credential that is not an IES type, checked before it is signed.

Why: an IES credential type is checked against its published JSON Schema, which covers the envelope too;
a generic VC 2.0 credential — what the W3C VC-API and Data Integrity interoperability suites send to
`POST /credentials/issue` — has no schema of its own, so the issuer checks the data model's normative
statements here instead (VC DM 2.0 §4), one rule id each, and refuses with every finding at once.

Why only bundled contexts: the issuer must know what it signs. A context URL it cannot load offline could
give any member any meaning (or none), and eddsa-rdfc-2022 — the default for these credentials — must
canonicalise offline anyway. So every `@context` URL must be one `ies.schemas.jsonld` bundles (VC v2,
Data Integrity, the VC examples context…) or one the caller pins; inline context objects are allowed.
Finally the draft is canonicalised in safe mode (`canonical.rdfc`): a member no context defines, or a
relative IRI in `id`/`type`, would drop out of an RDFC signature while a reader still sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ies.credentials.canonical import rdfc
from ies.credentials.errors import CredentialMalformed
from ies.errors import SchemaValidationFailed
from ies.schemas.jsonld import bundled_contexts

__all__ = ["GENERIC_FAMILY", "VC_V2", "envelope_findings", "require_vc2_envelope"]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
GENERIC_FAMILY = "VerifiableCredential"
"""What the issuer records as the family of a credential that names no IES type."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
#: Members VC DM 2.0 defines as one object or a list of objects, and what each object must carry.
_TYPED_OBJECTS = {
    "credentialStatus": ("type",),
    "credentialSchema": ("id", "type"),
    "refreshService": ("type",),
    "termsOfUse": ("type",),
    "evidence": ("type",),
}


def _finding(path: str, rule: str, message: str) -> dict[str, str]:
    return {"path": path, "rule": rule, "message": message}


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.fullmatch(value))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _context_findings(doc: Mapping[str, Any], pinned: Mapping[str, Any]) -> list[dict[str, str]]:
    context = doc.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        return [_finding("/@context", "VC2-CONTEXT", f"@context must be a list whose first item is {VC_V2}")]
    served = set(bundled_contexts()) | set(pinned)
    out = []
    for i, item in enumerate(context[1:], start=1):
        if isinstance(item, dict):
            continue
        if not _is_url(item):
            out.append(_finding(f"/@context/{i}", "VC2-CONTEXT", "a context is a URL or an object"))
        elif item.split("#", 1)[0] not in served:
            out.append(
                _finding(
                    f"/@context/{i}",
                    "VC2-CONTEXT-BUNDLED",
                    f"context {item} is not bundled: this issuer signs only over contexts it serves offline",
                )
            )
    return out


def _type_findings(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    types = doc.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        return [_finding("/type", "VC2-TYPE", "type must be a list containing VerifiableCredential")]
    if not all(isinstance(t, str) and t for t in types):
        return [_finding("/type", "VC2-TYPE", "every type must be a non-empty string")]
    return []


def _issuer_findings(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    issuer = doc.get("issuer")
    ident = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not _is_url(ident):
        return [_finding("/issuer", "VC2-ISSUER", "issuer must be a URL or an object whose id is a URL")]
    return []


def _subject_findings(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    subject = doc.get("credentialSubject")
    subjects = _as_list(subject)
    if subject is None or not subjects:
        return [_finding("/credentialSubject", "VC2-SUBJECT", "credentialSubject is required")]
    out = []
    for i, item in enumerate(subjects):
        path = f"/credentialSubject/{i}" if isinstance(subject, list) else "/credentialSubject"
        if not isinstance(item, dict) or not item:
            out.append(
                _finding(path, "VC2-SUBJECT", "a credential subject is an object with at least one claim")
            )
        elif "id" in item and not _is_url(item["id"]):
            out.append(_finding(f"{path}/id", "VC2-SUBJECT", "a credential subject's id must be a URL"))
    return out


def _member_findings(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    out = []
    if "id" in doc and not _is_url(doc["id"]):
        out.append(_finding("/id", "VC2-ID", "id must be a single URL"))
    for name in ("validFrom", "validUntil"):
        value = doc.get(name)
        if value is not None and not (isinstance(value, str) and _DATE_TIME_STAMP.fullmatch(value)):
            out.append(
                _finding(f"/{name}", "VC2-VALIDITY", f"{name} must be an XSD dateTimeStamp (with an offset)")
            )
    for name in ("name", "description"):
        for value in _as_list(doc.get(name, [])):
            if not isinstance(value, str) and not (isinstance(value, dict) and "@value" in value):
                out.append(_finding(f"/{name}", "VC2-NAME", f"{name} is a string or language value objects"))
    for name, required in _TYPED_OBJECTS.items():
        if name not in doc:
            continue
        for i, item in enumerate(_as_list(doc[name])):
            missing = [r for r in required if not isinstance(item, dict) or r not in item]
            if missing:
                out.append(
                    _finding(
                        f"/{name}/{i}", "VC2-OBJECT", f"each {name} is an object with {', '.join(required)}"
                    )
                )
            elif "id" in item and not _is_url(item["id"]):
                out.append(_finding(f"/{name}/{i}/id", "VC2-OBJECT", f"the id of a {name} must be a URL"))
    if "proof" in doc:
        out.append(_finding("/proof", "VC2-UNSIGNED", "the credential to issue must not carry a proof"))
    return out


def envelope_findings(
    doc: Mapping[str, Any], *, contexts: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    """Every way `doc` breaks the VC 2.0 envelope rules above (an empty list when it is fine)."""
    if not isinstance(doc, Mapping):
        return [_finding("/", "VC2-OBJECT", "a credential is a JSON object")]
    return [
        *_context_findings(doc, contexts or {}),
        *_type_findings(doc),
        *_issuer_findings(doc),
        *_subject_findings(doc),
        *_member_findings(doc),
    ]


def require_vc2_envelope(doc: Mapping[str, Any], *, contexts: Mapping[str, Any] | None = None) -> None:
    """Raise SchemaValidationFailed (details list the findings) unless `doc` is a VC 2.0 credential that
    canonicalises offline in safe mode."""
    findings = envelope_findings(doc, contexts=contexts)
    if not findings:
        try:
            rdfc(doc, contexts=contexts, what="the credential")
        except CredentialMalformed as exc:
            findings = [_finding("/", "VC2-JSONLD", exc.message)]
    if findings:
        first = findings[0]
        raise SchemaValidationFailed(
            f"{GENERIC_FAMILY}@2.0: {len(findings)} error(s); first [{first['rule']}] at {first['path']}: "
            f"{first['message']}",
            details={"family": GENERIC_FAMILY, "version": "2.0", "findings": findings},
        )
