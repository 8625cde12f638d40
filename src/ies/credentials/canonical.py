"""Canonical forms the signatures cover: RDF Dataset Canonicalization (RDFC-1.0) in safe mode, and JCS.

Why safe mode: RDFC signs the RDF meaning of a document, and JSON-LD silently DROPS every member whose name
the contexts do not define (and every relative IRI in `type`/`id`). A claim dropped that way is in the JSON
the verifier reads but not in what was signed, so anyone could change it. The VC Data Integrity spec
therefore asks for "safe mode": any dropped term or relative IRI is an error, at issue and at verification.

Why offline: the canonical form depends on the contexts, so a context fetched at run time would let its
host change what a signature means. Contexts come from package data (`ies.schemas.jsonld` bundles the W3C
credentials v1/v2, Data Integrity, Multikey and Ed25519Signature2020 contexts) and from `contexts` a caller
pins explicitly (URL → document); anything else is refused, never fetched.

RFC 8785 (JCS) is used by eddsa-jcs-2022: no JSON-LD processing, so it is fast and needs no contexts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785
from pyld.jsonld import JsonLdError, JsonLdProcessor

from ies.credentials.errors import CredentialMalformed
from ies.schemas.jsonld import OfflineDocumentLoader, offline_document_loader, processing_options

__all__ = ["jcs", "loader_for", "rdfc"]

_MAX_RELATIVE_REPORTED = 3


def loader_for(contexts: Mapping[str, Any] | None = None) -> OfflineDocumentLoader | None:
    """The offline loader serving the bundled contexts plus `contexts` (None: the shared, cached one)."""
    return offline_document_loader(contexts) if contexts else None


def _options(contexts: Mapping[str, Any] | None) -> dict[str, Any]:
    # Without pinned contexts, `processing_options(None)` reuses a per-thread cache of processed contexts.
    return processing_options(loader_for(contexts), algorithm="URDNA2015", format="application/n-quads")


def _relative_iris(node: Any, found: list[str]) -> None:
    """Collect `@id`/`@type` values of an expanded document that are neither absolute IRIs nor blank nodes."""
    if isinstance(node, list):
        for item in node:
            _relative_iris(item, found)
        return
    if not isinstance(node, dict):
        return
    ident = node.get("@id")
    if isinstance(ident, str) and not _absolute_or_blank(ident):
        found.append(ident)
    types = node.get("@type")
    if "@value" not in node:
        for value in types if isinstance(types, list) else [types]:
            if isinstance(value, str) and not _absolute_or_blank(value):
                found.append(value)
    for key, value in node.items():
        if key not in ("@id", "@type", "@value"):
            _relative_iris(value, found)


def _absolute_or_blank(iri: str) -> bool:
    if iri.startswith("_:"):
        return True
    scheme, sep, _ = iri.partition(":")
    return bool(sep) and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.splitlines()[0][:300]


def rdfc(
    document: Mapping[str, Any], *, contexts: Mapping[str, Any] | None = None, what: str = "document"
) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document, in safe mode.

    Raises CredentialMalformed when a context is not available offline, a term would be dropped, an
    `id`/`type` is a relative IRI, or the JSON-LD is otherwise invalid; `what` names the part in messages.
    """
    dropped: list[str] = []
    processor = JsonLdProcessor(on_property_dropped=lambda term: dropped.append(str(term)))
    options = _options(contexts)
    try:
        expanded = processor.expand(dict(document), options)
    except JsonLdError as exc:
        raise CredentialMalformed(f"{what}: JSON-LD expansion failed: {_root_cause(exc)}") from exc
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise CredentialMalformed(f"{what} is not well-formed JSON-LD ({type(exc).__name__})") from exc
    if dropped:
        names = ", ".join(sorted(set(dropped))[:5])
        raise CredentialMalformed(
            f"{what}: the @context does not define {names}; such members would not be signed (safe mode)",
            details={"undefined_terms": sorted(set(dropped))},
        )
    relative: list[str] = []
    _relative_iris(expanded, relative)
    if relative:
        shown = ", ".join(repr(r) for r in relative[:_MAX_RELATIVE_REPORTED])
        raise CredentialMalformed(
            f"{what}: relative IRIs in id/type ({shown}) would not be signed (safe mode)"
        )
    try:
        out = processor.normalize(expanded, options)
    except JsonLdError as exc:
        raise CredentialMalformed(f"{what}: RDF canonicalisation failed: {_root_cause(exc)}") from exc
    return str(out)


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON; CredentialMalformed for values JSON cannot carry exactly (NaN, huge ints)."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CredentialMalformed(f"cannot canonicalise with JCS: {exc}") from exc
