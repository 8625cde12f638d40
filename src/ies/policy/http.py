"""HTTP routes of the policy layer: the data catalogue, installed bundles, and the operator's actions.

Public (no token): `GET /catalogue`, `GET /policy/bundles`, `GET /policy/bundles/{hash}` (the exact signed
archive a decision's hash names, so anyone can re-check a decision). Operator (bearer token):
`POST /admin/policy/bundles` (install a signed bundle), `POST /admin/policy/catalogue/publish` (send the
data catalogue to the CDS), `POST /admin/policy/open-data/{dataset}` (publish the next open release).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ies._http import error_response as _error
from ies.errors import IESError, UnauthorizedAction, UsageError
from ies.policy.catalogue import DataCatalogue
from ies.policy.errors import BundleNotFound

if TYPE_CHECKING:
    from ies.policy.install import PolicyLayer

__all__ = ["admin_router", "catalogue_router", "public_bundles_router"]

MAX_BUNDLE_UPLOAD = 20 * 1024 * 1024


def catalogue_router(catalogue: DataCatalogue, bundle: Callable[[], dict[str, str] | None]) -> APIRouter:
    api = APIRouter()

    @api.get("/catalogue")
    def serve() -> JSONResponse:
        return JSONResponse({**catalogue.to_json(), "entitlementBundle": bundle()})

    return api


def public_bundles_router(layer: PolicyLayer) -> APIRouter:
    api = APIRouter()

    @api.get("/policy/bundles")
    def listing() -> JSONResponse:
        return JSONResponse({"bundles": layer.bundles.versions()})

    @api.get("/policy/bundles/{bundle_hash}")
    def archive(bundle_hash: str) -> Response:
        for info in layer.bundles.versions():
            if info["hash"] == bundle_hash:
                policy = layer.bundles.get(info["name"], info["version"], bundle_hash)
                return Response(policy.bundle.archive, media_type="application/gzip")
        return _error(BundleNotFound(f"no installed bundle has hash {bundle_hash}"))

    return api


def admin_router(layer: PolicyLayer, admin_token: str) -> APIRouter:
    api = APIRouter()

    def guarded(fn: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def run(request: Request) -> JSONResponse:
            given = request.headers.get("authorization", "")
            try:
                if not hmac.compare_digest(given.encode(), f"Bearer {admin_token}".encode()):
                    raise UnauthorizedAction("operator token required")
                return JSONResponse(await fn(request))
            except IESError as err:
                return _error(err)

        return run

    async def install_bundle(request: Request) -> Any:
        raw = await request.body()
        if not raw or len(raw) > MAX_BUNDLE_UPLOAD:
            raise UsageError("send the signed bundle (.tar.gz) as the request body")
        policy = await layer.install_bundle(raw)
        return {"installed": policy.ref.to_dict(), "bundles": layer.bundles.versions(policy.ref.name)}

    async def publish_catalogue(request: Request) -> Any:
        return await layer.publish_catalogue()

    async def publish_open(request: Request) -> Any:
        dataset_id = request.path_params["dataset_id"]
        body: dict[str, Any] = {}
        raw = await request.body()
        if raw:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise UsageError("body is not JSON") from None
            if not isinstance(body, dict):
                raise UsageError("body must be a JSON object")
        content = body.get("content")
        return layer.publish_open(dataset_id, content, note=str(body.get("note", "")))

    api.add_api_route("/admin/policy/bundles", guarded(install_bundle), methods=["POST"])
    api.add_api_route("/admin/policy/catalogue/publish", guarded(publish_catalogue), methods=["POST"])
    api.add_api_route("/admin/policy/open-data/{dataset_id}", guarded(publish_open), methods=["POST"])
    return api
