"""HTTP API of the audit log: signed tree heads, inclusion and consistency proofs, entries.

Why these routes: they are what a peer or regulator needs to hold the node to its log without database
access (RFC 9162 §5 offers the same set to CT clients): fetch a signed head and keep it, later ask for a
consistency proof from the kept head to a new one, and ask for an inclusion proof of the entry that records
a message it exchanged with the node. Mount with `app.include_router(ies.audit.http.router)`; the engine is
read from `app.state.engine`. Errors are the project's error objects (`{"error": {"code", "message"}}`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine

from ies._http import error_response as _error
from ies.audit._log import AuditLog
from ies.errors import IESError, InternalError, NotFoundError, UsageError

__all__ = ["MAX_ENTRIES_PER_PAGE", "router"]

MAX_ENTRIES_PER_PAGE = 1000
"""One page of entries stays well under a few megabytes even with large payloads."""

router = APIRouter(prefix="/audit", tags=["audit"])


def _log(request: Request) -> AuditLog:
    engine = getattr(request.app.state, "engine", None)
    if not isinstance(engine, Engine):
        raise InternalError("the app has no database engine (app.state.engine)")
    return AuditLog(engine)


def _answer(request: Request, build: Any) -> Any:
    try:
        return build(_log(request))
    except IESError as exc:
        return _error(exc)


def _default_size(log: AuditLog, tree_size: int | None) -> int:
    """Proofs default to the newest signed head: a proof against an unsigned root is worth little."""
    if tree_size is not None:
        return tree_size
    latest = log.latest_tree_head()
    return latest.tree_size if latest else log.size()


@router.get("/sth", summary="Newest signed tree head")
def get_sth(request: Request) -> Any:
    def build(log: AuditLog) -> Any:
        latest = log.latest_tree_head()
        if latest is None:
            raise NotFoundError("no signed tree head has been published yet")
        return latest.to_dict()

    return _answer(request, build)


@router.get("/sths", summary="Every signed tree head published, oldest first")
def get_sths(request: Request, min_size: int = Query(0, ge=0)) -> Any:
    return _answer(request, lambda log: [h.to_dict() for h in log.tree_heads(min_size)])


@router.get("/proof/inclusion", summary="RFC 9162 inclusion proof of one entry")
def get_inclusion(
    request: Request,
    seq: int = Query(..., ge=0, description="Sequence number (leaf index) of the entry."),
    tree_size: int | None = Query(None, ge=1, description="Default: the newest signed tree head."),
) -> Any:
    def build(log: AuditLog) -> Any:
        return log.inclusion_proof(seq, _default_size(log, tree_size)).to_dict()

    return _answer(request, build)


@router.get("/proof/consistency", summary="RFC 9162 consistency proof between two tree sizes")
def get_consistency(
    request: Request,
    first: int = Query(..., ge=0),
    second: int | None = Query(None, ge=0, description="Default: the newest signed tree head."),
) -> Any:
    def build(log: AuditLog) -> Any:
        proof = log.consistency_proof(first, _default_size(log, second))
        return {
            **proof.to_dict(),
            "first_root": log.root(proof.first).hex(),
            "second_root": log.root(proof.second).hex(),
        }

    return _answer(request, build)


def _check_entries_access(request: Request) -> None:
    """Entries can carry personal data (consumer numbers in consent transitions); heads and proofs are only
    hashes. A node restricts who reads entries by setting `app.state.audit_entries_guard` to a function of
    the request that raises an IESError (e.g. UnauthorizedAction) to refuse. Without one, entries are open,
    which suits the sandbox."""
    guard = getattr(request.app.state, "audit_entries_guard", None)
    if guard is not None:
        guard(request)


@router.get("/entries", summary="Entries with from <= seq < to")
def get_entries(
    request: Request,
    start: int = Query(0, ge=0, alias="from"),
    end: int | None = Query(
        None, ge=0, alias="to", description=f"Default and cap: from + {MAX_ENTRIES_PER_PAGE}."
    ),
) -> Any:
    def build(log: AuditLog) -> Any:
        _check_entries_access(request)
        stop = start + MAX_ENTRIES_PER_PAGE if end is None else end
        if stop < start:
            raise UsageError(f"'to' ({stop}) is before 'from' ({start})")
        if stop - start > MAX_ENTRIES_PER_PAGE:
            raise UsageError(f"at most {MAX_ENTRIES_PER_PAGE} entries per request")
        entries = [e.to_dict() for e in log.entries(start, stop)]
        return {"from": start, "to": stop, "tree_size": log.size(), "entries": entries}

    return _answer(request, build)
