"""Canonical forms the signatures cover: RDF Dataset Canonicalization (RDFC-1.0) in safe mode, and JCS.

Why safe mode: RDFC signs the RDF meaning of a document, and JSON-LD silently DROPS every member whose name
the contexts do not define (and every relative IRI in `type`/`id`). A claim dropped that way is in the JSON
the verifier reads but not in what was signed, so anyone could change it. The VC Data Integrity spec
therefore asks for "safe mode": any dropped term or relative IRI is an error, at issue and at verification.

Why offline: the canonical form depends on the contexts, so a context fetched at run time would let its
host change what a signature means. Contexts come from package data (`ies.schemas.jsonld` bundles the W3C
credentials v1/v2, Data Integrity, Multikey and Ed25519Signature2020 contexts) and from `contexts` a caller
pins explicitly (URL → document); anything else is refused, never fetched.

Why bounded: RDFC's N-degree hashing is exponential on crafted graphs of look-alike blank nodes ("poison
graphs"), so a few hundred bytes could hold a verifier for hours. Like Digital Bazaar's rdf-canonize
(`maxWorkFactor`), we bound the work: at most `MAX_DEEP_ITERATIONS_PER_NODE` N-degree hash calls per
blank node (never more than `MAX_DEEP_ITERATIONS`) and at most `MAX_LOOKALIKE_BLANK_NODES` blank nodes
sharing one related hash (their permutations are tried one by one). Real credentials need no N-degree
hashing, or a handful of calls; a clique of four look-alike blank nodes needs 76, of five 485, of six
3 606 (1.7 s), of seven tens of thousands.

RFC 8785 (JCS) is used by eddsa-jcs-2022: no JSON-LD processing, so it is fast and needs no contexts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785
from pyld.canon import URDNA2015
from pyld.jsonld import JsonLdError, JsonLdProcessor

from ies.credentials.errors import CredentialMalformed
from ies.schemas.jsonld import OfflineDocumentLoader, offline_document_loader, processing_options

__all__ = ["jcs", "loader_for", "rdfc"]

_MAX_RELATIVE_REPORTED = 3

MAX_DEEP_ITERATIONS_PER_NODE = 16
"""N-degree hash calls allowed per blank node (at least 256, at most `MAX_DEEP_ITERATIONS`)."""
MAX_DEEP_ITERATIONS = 4096
"""About two seconds of N-degree hashing on this project's machine: the most one document may cost."""
MAX_LOOKALIKE_BLANK_NODES = 6
"""Blank nodes that may share one related hash; their 6! = 720 orderings are tried at most."""


class _BoundedURDNA2015(URDNA2015):
    """URDNA2015 (RDFC-1.0) that refuses poison graphs instead of running for hours."""

    def __init__(self) -> None:
        super().__init__()
        self._calls_left: int | None = None

    def main(self, dataset: Any, options: Any) -> Any:
        blank = {
            component["value"]
            for triples in dataset.values()
            for quad in triples
            for key, component in quad.items()
            if key != "predicate" and component.get("type") == "blank node"
        }
        self._calls_left = min(MAX_DEEP_ITERATIONS, max(256, MAX_DEEP_ITERATIONS_PER_NODE * len(blank)))
        return super().main(dataset, options)

    def hash_n_degree_quads(self, id_: Any, issuer: Any) -> Any:
        if self._calls_left is not None:
            self._calls_left -= 1
            if self._calls_left < 0:
                raise CredentialMalformed("RDF canonicalisation exceeded its work bound (a poison graph?)")
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: Any, issuer: Any) -> Any:
        related = super().create_hash_to_related(id_, issuer)
        if any(len(nodes) > MAX_LOOKALIKE_BLANK_NODES for nodes in related.values()):
            raise CredentialMalformed(
                f"RDF canonicalisation refused: {MAX_LOOKALIKE_BLANK_NODES}+ indistinguishable blank nodes"
            )
        return related


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
        # pyld reports the expanded name: a relative IRI, or None for a term a context maps to null
        terms = sorted({term for term in dropped if term != "None"})
        if len(terms) < len(set(dropped)):
            terms.append("a term mapped to null")
        raise CredentialMalformed(
            f"{what}: the @context does not define {', '.join(terms[:5])}; such members would not be "
            "signed (safe mode)",
            details={"undefined_terms": terms},
        )
    relative: list[str] = []
    _relative_iris(expanded, relative)
    if relative:
        shown = ", ".join(repr(r) for r in relative[:_MAX_RELATIVE_REPORTED])
        raise CredentialMalformed(
            f"{what}: relative IRIs in id/type ({shown}) would not be signed (safe mode)"
        )
    rdf_options = {k: v for k, v in options.items() if k not in ("format", "algorithm")}
    rdf_options["produceGeneralizedRdf"] = False
    try:
        dataset = processor.to_rdf(expanded, rdf_options)
        out = _BoundedURDNA2015().main(dataset, {"format": "application/n-quads"})
    except JsonLdError as exc:
        raise CredentialMalformed(f"{what}: RDF canonicalisation failed: {_root_cause(exc)}") from exc
    return str(out)


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON; CredentialMalformed for values JSON cannot carry exactly (NaN, huge ints)."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CredentialMalformed(f"cannot canonicalise with JCS: {exc}") from exc
