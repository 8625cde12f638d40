"""DIDs for `ies`: the one module other blocks import for did:key, did:web and resolution.

Why a façade: the pieces live in small modules (syntax, multibase, did:key, did:web, the HTTP router,
the resolver, key selection), but callers should not need to know that split. Typical use:

    did = did_key_from_ed25519(pair.public_key)                  # a holder's identity
    doc = node_did_document("did:web:bpp.example", node_keys)    # what a node serves
    app.include_router(did_router(lambda path: doc if path == () else None))
    with DIDResolver({"did:web:bpp.example": "http://127.0.0.1:8001"}) as resolver:
        public_key = resolver.resolve_verification_method("did:web:bpp.example#key-1")
"""

from __future__ import annotations

from ies.identity.did_errors import (
    DIDDocumentInvalid,
    DIDInvalid,
    DIDMethodNotSupported,
    DIDNotFound,
    DIDResolutionFailed,
    MultibaseInvalid,
    VerificationMethodNotFound,
)
from ies.identity.did_key import (
    DIDKey,
    did_key_document,
    did_key_from_ed25519,
    did_key_from_x25519,
    ed25519_public_to_x25519,
    parse_did_key,
)
from ies.identity.did_router import DocumentProvider, did_router
from ies.identity.did_syntax import DIDURL, ParsedDID, parse_did, parse_did_url
from ies.identity.did_web import (
    DIDWebLocation,
    PublishedKey,
    build_did_document,
    did_web_for_subscriber,
    did_web_from_url,
    did_web_location,
    node_did_document,
)
from ies.identity.resolved_key import ResolvedKey, list_keys, select_verification_method
from ies.identity.resolver import DIDResolver, Override
from ies.identity.verification_method import KeyFormat, KeyType, key_from_method, make_method

__all__ = [
    "DIDURL",
    "DIDDocumentInvalid",
    "DIDInvalid",
    "DIDKey",
    "DIDMethodNotSupported",
    "DIDNotFound",
    "DIDResolutionFailed",
    "DIDResolver",
    "DIDWebLocation",
    "DocumentProvider",
    "KeyFormat",
    "KeyType",
    "MultibaseInvalid",
    "Override",
    "ParsedDID",
    "PublishedKey",
    "ResolvedKey",
    "VerificationMethodNotFound",
    "build_did_document",
    "did_key_document",
    "did_key_from_ed25519",
    "did_key_from_x25519",
    "did_router",
    "did_web_for_subscriber",
    "did_web_from_url",
    "did_web_location",
    "ed25519_public_to_x25519",
    "key_from_method",
    "list_keys",
    "make_method",
    "node_did_document",
    "parse_did",
    "parse_did_key",
    "parse_did_url",
    "select_verification_method",
]
