"""HTTP API of the asset registry: a FastAPI router the node mounts (`app.include_router(router)`).

Why a router and not an app: the registry node serves the subscriber directory, DID documents and this
registry from one process. The router reads its database from `request.app.state.engine` (a SQLAlchemy
Engine the app sets at start-up) and opens one session per request, committed when the handler returns.

Errors never leave as tracebacks or FastAPI's 422: every `IESError` becomes its HTTP status with the body
`{"error": {"code", "message"[, "details"]}}` (`ies.errors.to_http`), and a malformed request becomes a
400 `USAGE` error in the same shape. This is done by the route class, because exception handlers belong
to the app, which this module does not own.

Entity ids are DIDs; in a URL they are percent-encoded like any path segment (`%` becomes `%25`).

Writes fail closed. A POST or PATCH is accepted only when the app's own authentication has set
`request.state.actor` (recorded as the author), or when the app holds an operator token in
`app.state.assets_write_token` and the request carries `Authorization: Bearer <token>` (the author is
then the `X-IES-Actor` header, else `operator`). Otherwise it gets 403 ASSET_WRITE_NOT_AUTHORISED. Reads
are open.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ies._http import error_response
from ies.errors import ConflictError, IESError, InternalError, UsageError
from ies.registry.assets import changes, create, csv_export, csv_import, queries
from ies.registry.assets.errors import WriteNotAuthorised
from ies.registry.assets.records import Entity, TreeNode, Version
from ies.registry.assets.structure import Status, describe_structure, parse_entity_class, parse_status

__all__ = ["MAX_IMPORT_BYTES", "Batch", "EntityChange", "router"]

MAX_IMPORT_BYTES = 64 * 1024 * 1024
"""Largest CSV accepted in one request (about 300,000 rows); larger files go through the CLI."""


class _ErrorMappingRoute(APIRoute):
    """Turns IESError and request-validation failures into `{"error": …}` responses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except IESError as exc:
                return error_response(exc)
            except RequestValidationError as exc:
                problems = [
                    {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
                    for err in exc.errors()
                ]
                summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
                return error_response(UsageError(f"invalid request: {summary}", details={"errors": problems}))

        return handle


router = APIRouter(prefix="/assets", tags=["assets"], route_class=_ErrorMappingRoute)


def _engine(request: Request) -> Engine:
    engine = getattr(request.app.state, "engine", None)
    if not isinstance(engine, Engine):
        raise InternalError("the asset registry has no database: app.state.engine is not set")
    return engine


@contextmanager
def _session(request: Request) -> Iterator[Session]:
    """One transaction per request; a lost race on a unique key is a 409, not a 500."""
    try:
        with Session(_engine(request), expire_on_commit=False) as session, session.begin():
            yield session
    except IntegrityError:
        raise ConflictError("the entity was changed concurrently; read it again and retry") from None


def _actor(request: Request) -> str:
    """Who is writing, or WriteNotAuthorised: an authenticated actor, or a holder of the operator token."""
    authenticated = getattr(request.state, "actor", None)
    if authenticated:
        return str(authenticated)
    token = getattr(request.app.state, "assets_write_token", None)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), str(token).encode()):
        return request.headers.get("x-ies-actor", "").strip() or "operator"
    raise WriteNotAuthorised(
        "writing to the asset registry needs the operator token (Authorization: Bearer …)"
        if token
        else "this node accepts no writes to the asset registry over HTTP (no operator token configured)"
    )


def _as_of(value: str | None) -> datetime | None:
    return queries.parse_time(value) if value else None


AsOf = Query(None, description="ISO 8601 time with timezone; read the state as it stood then")


class EntityChange(BaseModel):
    """Body of `PATCH /assets/{id}`: only the fields given are changed (`parent: null` detaches)."""

    model_config = ConfigDict(extra="forbid")

    attributes: dict[str, Any] | None = Field(None, description="merged in; a null value removes it")
    replace_attributes: bool = Field(False, description="replace all attributes instead of merging")
    status: Status | None = None
    parent: str | None = None
    expected_version: int | None = Field(None, description="refuse with 409 unless still at this version")
    reason: str | None = None


@router.get("", summary="Find entities by DISCOM, class, status or internal id")
def list_entities(
    request: Request,
    discom: str | None = None,
    entity_class: str | None = Query(None, alias="class"),
    status: str | None = None,
    local_id: str | None = None,
    as_of: str | None = AsOf,
    limit: int = Query(100, ge=1, le=queries.MAX_LIST),
    offset: int = Query(0, ge=0),
) -> dict[str, list[Entity]]:
    with _session(request) as session:
        found = queries.find_entities(
            session,
            discom=discom,
            entity_class=parse_entity_class(entity_class) if entity_class else None,
            status=parse_status(status) if status else None,
            local_id=local_id,
            as_of=_as_of(as_of),
            limit=limit,
            offset=offset,
        )
    return {"entities": found}


@router.get("/structure", summary="Entity classes, parent classes, DID patterns and attribute columns")
def structure() -> dict[str, Any]:
    return {"classes": describe_structure()}


@router.post("", status_code=201, summary="Register one entity")
def create_entity(item: create.NewEntity, request: Request) -> Entity:
    with _session(request) as session:
        did = changes.create_entity(
            session, item.entity_class, item.local_id, attributes=item.attributes, parent=item.parent,
            discom=item.discom, status=item.status, actor=_actor(request), reason=item.reason,
        )  # fmt: skip
        return queries.get_entity(session, did)


class Batch(BaseModel):
    """Body of `POST /assets/batch`: entities in any order (parents are created first)."""

    model_config = ConfigDict(extra="forbid")

    entities: list[create.NewEntity] = Field(min_length=1, max_length=10_000)


@router.post("/batch", status_code=201, summary="Register many entities at once, or none if one is bad")
def create_batch(batch: Batch, request: Request) -> dict[str, list[str]]:
    with _session(request) as session:
        return {"ids": create.create_entities(session, batch.entities, actor=_actor(request))}


@router.post("/import", summary="Bulk import a CSV (text/csv body); bad rows are reported, good rows kept")
async def import_entities(request: Request, discom: str | None = None) -> csv_import.ImportReport:
    actor = _actor(request)  # before reading the body: an unauthorised upload is refused at once
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_IMPORT_BYTES:
            raise UsageError(f"CSV larger than {MAX_IMPORT_BYTES} bytes; import it with `ies assets import`")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"CSV is not UTF-8: {exc}") from None

    def run() -> csv_import.ImportReport:
        with _session(request) as session:
            return csv_import.import_csv(session, text, actor=actor, default_discom=discom, source="upload")

    return await run_in_threadpool(run)


@router.get("/export.csv", summary="Every entity (of one DISCOM) as import-format CSV, now or as of a time")
def export_entities(request: Request, discom: str | None = None, as_of: str | None = AsOf) -> Response:
    with _session(request) as session:
        text = csv_export.export_csv(session, discom=discom, as_of=_as_of(as_of))
    return Response(content=text, media_type="text/csv; charset=utf-8")


@router.get("/{entity_id}", summary="One entity, now or as of a time")
def get_entity(entity_id: str, request: Request, as_of: str | None = AsOf) -> Entity:
    with _session(request) as session:
        return queries.get_entity(session, entity_id, _as_of(as_of))


@router.patch("/{entity_id}", summary="Change attributes, status or parent (records a new version)")
def patch_entity(entity_id: str, change: EntityChange, request: Request) -> Entity:
    with _session(request) as session:
        return changes.update_entity(
            session,
            entity_id,
            actor=_actor(request),
            attributes=change.attributes,
            replace_attributes=change.replace_attributes,
            status=change.status,
            parent=change.parent if "parent" in change.model_fields_set else changes.UNCHANGED,
            expected_version=change.expected_version,
            reason=change.reason,
        )


@router.get("/{entity_id}/children", summary="Direct children in the hierarchy")
def get_children(entity_id: str, request: Request, as_of: str | None = AsOf) -> dict[str, Any]:
    with _session(request) as session:
        found = queries.children(session, entity_id, _as_of(as_of))
    return {"id": entity_id, "children": found}


@router.get("/{entity_id}/descendants", summary="Everything below, breadth first, with depth")
def get_descendants(
    entity_id: str,
    request: Request,
    as_of: str | None = AsOf,
    max_depth: int | None = Query(None, ge=1, le=10),
) -> dict[str, Any]:
    with _session(request) as session:
        found: list[TreeNode] = queries.descendants(session, entity_id, _as_of(as_of), max_depth)
    return {"id": entity_id, "descendants": found}


@router.get("/{entity_id}/ancestors", summary="Path from the parent up to the DISCOM")
def get_ancestors(entity_id: str, request: Request, as_of: str | None = AsOf) -> dict[str, Any]:
    with _session(request) as session:
        found = queries.ancestors(session, entity_id, _as_of(as_of))
    return {"id": entity_id, "ancestors": found}


@router.get("/{entity_id}/history", summary="Every version: who changed what, when, and the diff")
def get_history(entity_id: str, request: Request) -> dict[str, Any]:
    with _session(request) as session:
        versions: list[Version] = queries.history(session, entity_id)
    return {"id": entity_id, "versions": versions}
