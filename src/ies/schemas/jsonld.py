"""JSON-LD expansion with bundled contexts only: an offline document loader, unmapped-term detection and a
context-drift check.

Why offline: a validator that fetches contexts can be steered by whoever controls a URL (and fails when
that host is down), and RDF canonicalisation for Data Integrity proofs must be reproducible byte for byte.
So every context is served from package data — the IES family contexts, the W3C credentials and Data
Integrity contexts, the Ed25519Signature2020 suite context — plus whatever a caller adds; any other URL is
refused, never fetched. `ies.credentials` reuses `offline_document_loader()` for RDFC-1.0 canonicalisation.

Why report dropped terms: JSON-LD silently drops a property whose name the context does not map, so a
typo or a context that drifted from its schema loses data without an error. `unmapped_terms` turns each
drop into a finding; `context_drift` catches a context that defines terms its schema and vocabulary do not
know (the upstream `jsonld_masked_expansion_drift` fixture).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from ies.schemas import rule_ids as R
from ies.schemas._catalogue import DATA_ROOT, PUBLIC_BASE, RAW_BASE, SchemaVersion, catalogue, load_json
from ies.schemas._findings import Finding, Severity, json_pointer

__all__ = [
    "OfflineDocumentLoader",
    "bundled_contexts",
    "context_drift",
    "expand",
    "offline_document_loader",
    "processing_options",
    "unmapped_terms",
]

EXTERNAL_DIR = DATA_ROOT / "external"
_KEYWORDS_TO_SKIP = frozenset(
    {"@version", "@protected", "@vocab", "@base", "@import", "@propagate", "@language", "@direction"}
)


@cache
def bundled_contexts() -> dict[str, Path]:
    """Every context URL the package can serve offline, with the file that answers it."""
    served: dict[str, Path] = {}
    for entry in catalogue():
        path = entry.directory / "context.jsonld"
        if path.is_file():
            rel = f"{entry.family}/v{entry.version}/context.jsonld"
            served[PUBLIC_BASE + rel] = path
            served[RAW_BASE + rel] = path
    manifest = load_json(EXTERNAL_DIR / "contexts.json")
    for url, rel in manifest.items():
        served[url] = EXTERNAL_DIR / rel
    return served


class OfflineDocumentLoader:
    """A pyld document loader that answers from package data (and `extra`) and refuses everything else.

    `extra` maps URL → parsed document or path of a JSON file; it takes precedence over the bundled set,
    which is how the drift check serves a mutated context and how callers add contexts of their own.
    """

    def __init__(self, extra: Mapping[str, Any] | None = None):
        self._extra = dict(extra or {})

    def urls(self) -> set[str]:
        return set(bundled_contexts()) | set(self._extra)

    def _document(self, url: str) -> Any:
        key = url.split("#", 1)[0]
        if key in self._extra:
            value = self._extra[key]
            return load_json(value) if isinstance(value, Path) else value
        path = bundled_contexts().get(key) or bundled_contexts().get(key.rstrip("/"))
        if path is None:
            raise pyld_jsonld.JsonLdError(
                f"context {url} is not bundled and the offline loader never fetches",
                "jsonld.LoadDocumentError",
                {"url": url},
                code="loading remote context failed",
            )
        return load_json(path)

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(self._document(url)),
        }


def offline_document_loader(extra: Mapping[str, Any] | None = None) -> OfflineDocumentLoader:
    """The loader to pass as pyld's `documentLoader` (e.g. for `pyld.jsonld.normalize`)."""
    return OfflineDocumentLoader(extra)


#: pyld's resolver cache (cachetools.LRUCache) is not thread-safe, so each thread keeps its own.
_PER_THREAD = threading.local()


def _shared_resolver() -> ContextResolver:
    """Processed bundled contexts, cached across calls of this thread: they never change in a process."""
    resolver = getattr(_PER_THREAD, "resolver", None)
    if resolver is None:
        resolver = _PER_THREAD.resolver = ContextResolver(LRUCache(maxsize=256), OfflineDocumentLoader())
    return resolver


def processing_options(loader: OfflineDocumentLoader | None = None, **more: Any) -> dict[str, Any]:
    """pyld options with the offline loader and a private context cache.

    A private cache matters: pyld's default resolved-context cache is process-wide and keyed by URL, so a
    context served differently by another loader (a mutated copy in a drift check) would leak across calls.
    """
    if loader is None:
        loader = offline_document_loader()
        resolver = _shared_resolver()
    else:
        resolver = ContextResolver(LRUCache(maxsize=256), loader)
    options: dict[str, Any] = {
        "documentLoader": loader,
        "contextResolver": resolver,
        "processingMode": "json-ld-1.1",
    }
    options.update(more)
    return options


def expand(
    doc: Any, loader: OfflineDocumentLoader | None = None, *, default_context: str | None = None
) -> Any:
    """JSON-LD expansion with bundled contexts only (`default_context` applies to documents without one)."""
    extra = {"expandContext": default_context} if default_context else {}
    return pyld_jsonld.expand(copy.deepcopy(doc), processing_options(loader, **extra))


def _context_urls(node: Any) -> Iterator[str]:
    """Every context URL a document references, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        yield item
            else:
                yield from _context_urls(value)
    elif isinstance(node, list):
        for value in node:
            yield from _context_urls(value)


def _key_paths(node: Any, key: str, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield (*path, k)
            if k != "@context":
                yield from _key_paths(v, key, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _key_paths(v, key, (*path, i))


def unmapped_terms(
    doc: Any,
    loader: OfflineDocumentLoader | None = None,
    *,
    default_context: str | None = None,
    severity: Severity = "warning",
) -> list[Finding]:
    """One finding per property name that JSON-LD expansion drops (or per expansion failure)."""
    dropped: list[str] = []
    try:
        extra = {"expandContext": default_context} if default_context else {}
        pyld_jsonld.expand(
            copy.deepcopy(doc),
            processing_options(loader, **extra),
            on_property_dropped=lambda term: dropped.append(str(term)),
        )
    except (TypeError, AttributeError, ValueError) as exc:
        # pyld meets a value of the wrong shape (e.g. a number where it expects an IRI) and fails inside
        message = f"JSON-LD expansion failed: the document is not well-formed JSON-LD ({type(exc).__name__})"
        return [Finding("", R.JSONLD_EXPANSION_ERROR, message, severity)]
    except pyld_jsonld.JsonLdError as exc:
        detail = getattr(exc, "code", None) or exc.type
        served = (loader or offline_document_loader()).urls()
        missing = [url for url in _context_urls(doc) if url.split("#", 1)[0] not in served]
        if missing:
            reason = f"context {missing[0]} is not bundled and the offline loader never fetches"
            return [
                Finding(
                    "/@context", R.JSONLD_EXPANSION_ERROR, f"JSON-LD expansion failed: {reason}", severity
                )
            ]
        return [
            Finding(
                "",
                R.JSONLD_EXPANSION_ERROR,
                f"JSON-LD expansion failed ({detail}): {str(exc).splitlines()[0]}",
                severity,
            )
        ]
    out: list[Finding] = []
    for term in sorted(set(dropped)):
        first = next(_key_paths(doc, term), ())
        out.append(
            Finding(
                json_pointer(first),
                R.JSONLD_TERM_UNMAPPED,
                f"term {term!r} does not expand to an IRI and is dropped",
                severity,
            )
        )
    return out


def _context_terms(
    ctx: Any, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[str, tuple[str | int, ...], Any]]:
    """(term, path, definition) for every term a context defines, scoped contexts included."""
    if isinstance(ctx, list):
        for i, item in enumerate(ctx):
            yield from _context_terms(item, (*prefix, i))
        return
    if not isinstance(ctx, dict):
        return
    for term, definition in ctx.items():
        if term in _KEYWORDS_TO_SKIP or term.startswith("@"):
            continue
        yield term, (*prefix, term), definition
        if isinstance(definition, dict) and "@context" in definition:
            yield from _context_terms(definition["@context"], (*prefix, term, "@context"))


def _schema_names(node: Any, names: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key in ("properties", "$defs", "definitions"):
            if isinstance(node.get(key), dict):
                names.update(node[key])
        for value in node.values():
            _schema_names(value, names)
    elif isinstance(node, list):
        for value in node:
            _schema_names(value, names)
    return names


def _vocab_names(entry: SchemaVersion) -> set[str]:
    path = entry.directory / "vocab.jsonld"
    if not path.is_file():
        return set()
    graph = load_json(path).get("@graph", [])
    names = set()
    for node in graph:
        iri = str(node.get("@id", "")) if isinstance(node, dict) else ""
        names.add(iri.rsplit(":", 1)[-1].rsplit("/", 1)[-1].rsplit("#", 1)[-1])
    return names


def _is_prefix(definition: Any) -> bool:
    iri = definition if isinstance(definition, str) else None
    return iri is not None and iri.endswith(("/", "#"))


def context_drift(entry: SchemaVersion, context_doc: Any | None = None) -> list[Finding]:
    """Terms a family context defines that neither its schema nor its vocabulary knows.

    A term like that expands, but to an IRI nothing describes: the context has drifted from the schema it
    belongs to. Checked against the bundled context unless `context_doc` (e.g. a candidate edit) is given.
    """
    doc = context_doc if context_doc is not None else load_json(entry.directory / "context.jsonld")
    known = _schema_names(load_json(entry.schema_path), set()) | _vocab_names(entry)
    known |= {"id", "type"}
    out: list[Finding] = []
    for term, path, definition in _context_terms(
        doc.get("@context") if isinstance(doc, dict) else None, ("@context",)
    ):
        if term in known or _is_prefix(definition) or ":" in term:
            continue
        out.append(
            Finding(
                json_pointer(path),
                R.JSONLD_CONTEXT_DRIFT,
                f"{entry.key} context defines {term!r} but neither its schema nor its vocabulary has it",
            )
        )
    return out
