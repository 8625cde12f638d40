"""The HTTP side of did:web: a FastAPI router serving `/.well-known/did.json` and `/<path>/did.json`.

Why a provider callback instead of a fixed document: a node rotates keys while it runs, and one node can
host path-based DIDs for things it vouches for (`did:web:discom.example:assets:meter:42`). The router asks
`document_provider(path_segments)` on every request (`()` for the root DID); returning None answers 404.
Segments are taken from the raw request path, so `%2F` inside an id is not mistaken for a separator and
the provider sees them exactly as they are written in the DID.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

__all__ = ["DocumentProvider", "did_router"]

DocumentProvider = Callable[[tuple[str, ...]], Mapping[str, Any] | None]

_SUFFIX = "/did.json"


def did_router(document_provider: DocumentProvider, *, max_age_s: int = 300) -> APIRouter:
    """Routes for did:web documents; mount with `app.include_router(did_router(provider))`.

    `max_age_s` goes out as `Cache-Control: max-age`, telling resolvers how long a document may be cached;
    keep it below the overlap of a key rotation so no verifier holds a document without the new key.
    """
    router = APIRouter(tags=["did"])

    def answer(segments: tuple[str, ...]) -> Response:
        document = document_provider(segments)
        if document is None:
            raise HTTPException(status_code=404, detail="no DID document at this path")
        media_type = "application/did+ld+json" if "@context" in document else "application/did+json"
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return Response(body, media_type=media_type, headers={"Cache-Control": f"max-age={max_age_s}"})

    @router.get("/.well-known/did.json", summary="The DID document of this node's did:web")
    def well_known_did() -> Response:
        return answer(())

    @router.get("/{did_path:path}/did.json", summary="The DID document of a path-based did:web")
    def path_did(did_path: str, request: Request) -> Response:
        raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
        path = raw.decode("ascii", errors="replace").split("?", 1)[0]
        root_path = request.scope.get("root_path", "")
        if root_path and path.startswith(root_path + "/"):  # mounted under a prefix: drop it
            path = path[len(root_path) :]
        segments = tuple(path.removesuffix(_SUFFIX).strip("/").split("/"))
        if any(s in ("", ".", "..", ".well-known") for s in segments):
            raise HTTPException(status_code=404, detail="no DID document at this path")
        return answer(segments)

    return router
