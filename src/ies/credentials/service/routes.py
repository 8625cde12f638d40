"""HTTP routes of the issuer and verifier roles (VC-API shaped), and DigiLocker's pull endpoint.

issuer_router(state):
    POST /credentials/issue              operator  {credential, options} → 201 {verifiableCredential}
    POST /credentials/verify             public    {verifiableCredential} → {verified, checks, errors}
    POST /presentations/verify           public    {verifiablePresentation, options: {challenge, domain}}
    POST /credentials/revoke             operator  {credentialId, reason?}
    POST /credentials/status             operator  {credentialId, status: suspended | active}
    GET  /credentials/issued/{id}        operator  the issuer's view of one credential
    GET  /credentials/status-lists/{id}  public    the signed BitstringStatusListCredential
    POST /credentials/nonce              public    a nonce for a holder's proof JWT
    POST /credentials/holder-otp         operator  {holder: tel:+91…} → the code to send by SMS
    PUT  /credentials/subjects           operator  a subject record for DigiLocker pulls
    GET  /dedi/lookup/{ns}/{reg}/{hash}  public    200 revoked, 404 not
    GET  /dedi/query/{ns}/{reg}          public    every record of a registry
    POST /digilocker/pulluri             HMAC      PullURIRequest XML → PullURIResponse XML
verifier_router(state): POST /credentials/verify and POST /presentations/verify.

Handlers read the raw body (DigiLocker's HMAC is over the exact bytes; JSON is parsed by orjson) and run
the blocking work — JSON-LD canonicalisation, the synchronous store — in the thread pool. Every IESError
becomes `{"error": {code, message, details}}` with its HTTP status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ies._http import error_response as _error
from ies.credentials.service.holder import (
    HolderBinding,
    HolderBindingFailed,
    check_otp,
    check_possession,
    create_otp,
    new_nonce,
)
from ies.credentials.service.issuance import GENERIC_FAMILY, credential_type, issue_credential, parse_format
from ies.credentials.service.pull import digilocker_pull, put_subject
from ies.credentials.service.revocation import revoke, set_suspended, status_of
from ies.credentials.service.state import IssuerState, VerifierState, require_operator
from ies.credentials.service.status_lists import signed_status_list
from ies.credentials.service.verifying import presentation_report, verification_report
from ies.credentials.status import dedi
from ies.errors import IESError, UsageError, to_http
from ies.store import session_factory

__all__ = ["issuer_router", "verifier_router"]

MAX_BODY_BYTES = 8 * 1024 * 1024


def _json(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise UsageError(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        return orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise UsageError("body is not JSON") from None


async def _answer(work: Callable[[], Response]) -> Response:
    """Run blocking work (JSON-LD, the store) in the thread pool; an IESError becomes its error response."""
    try:
        return await run_in_threadpool(work)
    except IESError as err:
        return _error(err)


def _verify_routes(router: APIRouter, verifier: Callable[[], VerifierState]) -> None:
    @router.post("/credentials/verify", summary="Verify a credential (VC-API)")
    async def verify_credential(request: Request) -> Response:
        raw = await request.body()

        def work() -> JSONResponse:
            body = _json(raw)
            if not isinstance(body, dict) or "verifiableCredential" not in body:
                raise UsageError("body must be {verifiableCredential, options?}")
            status, report = verification_report(verifier(), body["verifiableCredential"])
            return JSONResponse(report, status_code=status)

        return await _answer(work)

    @router.post("/presentations/verify", summary="Verify a presentation with challenge and domain (VC-API)")
    async def verify_presentation_route(request: Request) -> Response:
        raw = await request.body()

        def work() -> JSONResponse:
            status, report = presentation_report(verifier(), _json(raw))
            return JSONResponse(report, status_code=status)

        return await _answer(work)


def verifier_router(state: VerifierState) -> APIRouter:
    """The routes of a verifier process (no store, no keys: verification is offline but for DIDs/status)."""
    router = APIRouter(tags=["credentials"])
    _verify_routes(router, lambda: state)
    return router


def _binding(
    state: IssuerState, credential: Any, options: dict[str, Any], *, required: bool
) -> HolderBinding:
    """The holder binding `options.holderBinding` asks for; `required` (IES types) refuses none at all.

    A generic VC 2.0 credential may come without one — the VC-API issue request has no holder-binding
    member and the W3C suites send none — and is then recorded as vouched for by the operator (`none`).
    """
    spec = options.get("holderBinding")
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if spec is None:
        if required and state.settings.require_holder_binding:
            raise HolderBindingFailed(
                "holder binding is required: options.holderBinding {method: did, proof} or {method: otp, …}"
            )
        return HolderBinding("none", str(subject_id or ""))
    if not isinstance(spec, dict):
        raise UsageError("options.holderBinding must be an object")
    if spec.get("method") == "did":
        return check_possession(
            state.engine,
            state.verifier.resolver,
            spec.get("proof"),
            audience=state.did,
            subject_id=subject_id,
        )
    if spec.get("method") == "otp":
        return check_otp(state.engine, spec.get("otpId"), spec.get("code"), subject_id=subject_id)
    raise UsageError("options.holderBinding.method must be did or otp")


def issuer_router(state: IssuerState) -> APIRouter:
    """Every route of the issuer role (see the module docstring); mount with `app.include_router`."""
    router = APIRouter(tags=["credentials"])
    _verify_routes(router, lambda: state.verifier)

    def operator(request: Request) -> None:
        require_operator(state.admin_token, request)

    @router.post(
        "/credentials/issue", summary="Issue an IES or a W3C VC 2.0 credential (VC-API)", status_code=201
    )
    async def issue_route(request: Request) -> Response:
        raw = await request.body()

        def work() -> JSONResponse:
            operator(request)
            body = _json(raw)
            if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
                raise UsageError("body must be {credential, options?}")
            options = body.get("options") or {}
            if not isinstance(options, dict):
                raise UsageError("options must be an object")
            credential = body["credential"]
            ies_type = credential_type(credential) != GENERIC_FAMILY
            disclosable = options.get("disclosable") or []
            if not isinstance(disclosable, list) or not all(isinstance(p, str) for p in disclosable):
                raise UsageError("options.disclosable must be a list of dotted paths")
            proof_format = parse_format(options.get("format"), state.settings.default_format)
            signed, cid = issue_credential(
                state,
                credential,
                proof_format=proof_format,
                binding=lambda: _binding(state, credential, options, required=ies_type),
                status=options.get("credentialStatus"),
                disclosable=disclosable,
            )
            return JSONResponse({"verifiableCredential": signed, "id": cid}, status_code=201)

        return await _answer(work)

    @router.post("/credentials/revoke", summary="Revoke a credential for good")
    async def revoke_route(request: Request) -> Response:
        raw = await request.body()

        def work() -> JSONResponse:
            operator(request)
            body = _json(raw)
            if not isinstance(body, dict):
                raise UsageError("body must be {credentialId, reason?}")
            view = revoke(state, body.get("credentialId"), reason=body.get("reason"))
            return JSONResponse(view.to_dict())

        return await _answer(work)

    @router.post("/credentials/status", summary="Suspend or reinstate a credential")
    async def status_route(request: Request) -> Response:
        raw = await request.body()

        def work() -> JSONResponse:
            operator(request)
            body = _json(raw)
            if not isinstance(body, dict):
                raise UsageError("body must be {credentialId, status: suspended|active}")
            wanted = _wanted_status(body)
            if wanted == "revoked":
                view = revoke(state, body.get("credentialId"), reason=body.get("reason"))
            else:
                view = set_suspended(
                    state, body.get("credentialId"), wanted == "suspended", reason=body.get("reason")
                )
            return JSONResponse(view.to_dict())

        return await _answer(work)

    @router.get("/credentials/issued/{credential_id:path}", summary="The issuer's view of one credential")
    async def issued_route(credential_id: str, request: Request) -> Response:
        def work() -> JSONResponse:
            operator(request)
            return JSONResponse(status_of(state, credential_id).to_dict())

        return await _answer(work)

    @router.get("/credentials/status-lists/{list_id}", summary="A signed Bitstring Status List credential")
    async def status_list_route(list_id: str) -> Response:
        def work() -> Response:
            signed = signed_status_list(state, list_id)
            headers = {"Cache-Control": f"max-age={state.settings.status_list_ttl_s}"}
            if isinstance(signed, str):
                return Response(signed, media_type="application/vc+jwt", headers=headers)
            return Response(orjson.dumps(signed), media_type="application/vc+ld+json", headers=headers)

        return await _answer(work)

    @router.post("/credentials/nonce", summary="A one-time nonce for a holder's proof of possession")
    async def nonce_route() -> Response:
        def work() -> JSONResponse:
            nonce, expires = new_nonce(state.engine)
            return JSONResponse({"nonce": nonce, "expiresAt": expires, "audience": state.did})

        return await _answer(work)

    @router.post("/credentials/holder-otp", summary="Create a one-time code for a tel: holder")
    async def otp_route(request: Request) -> Response:
        raw = await request.body()

        def work() -> JSONResponse:
            operator(request)
            body = _json(raw)
            otp_id, code, expires = create_otp(
                state.engine, body.get("holder") if isinstance(body, dict) else None
            )
            return JSONResponse({"otpId": otp_id, "code": code, "expiresAt": expires}, status_code=201)

        return await _answer(work)

    @router.put("/credentials/subjects", summary="Load a subject record for DigiLocker pulls")
    async def subjects_route(request: Request) -> Response:
        raw = await request.body()

        def work() -> JSONResponse:
            operator(request)
            return JSONResponse(put_subject(state, _json(raw)))

        return await _answer(work)

    @router.get("/dedi/lookup/{namespace}/{registry}/{record_hash}", summary="DeDi lookup: 200 = revoked")
    def dedi_lookup(namespace: str, registry: str, record_hash: str) -> Response:
        with session_factory(state.engine)() as session:
            row = (
                dedi.lookup(session, registry, record_hash) if namespace == state.settings.namespace else None
            )
        headers = {"Cache-Control": f"max-age={state.settings.status_list_ttl_s}"}
        if row is None:
            return JSONResponse(
                {"error": {"code": "NOT_FOUND", "message": "no record"}}, 404, headers=headers
            )
        record = {
            "namespace": namespace,
            "registry_name": registry,
            "record_id": row.record_hash,
            "state": "live",
            "created_at": row.recorded_at.isoformat(),
            "details": {
                "statusPurpose": "revocation" if registry == dedi.REGISTRIES["revocation"] else "suspension"
            },
        }
        return JSONResponse({"message": "Resource retrieved successfully", "data": record}, headers=headers)

    @router.get("/dedi/query/{namespace}/{registry}", summary="DeDi query: every record of a registry")
    def dedi_query(namespace: str, registry: str) -> Response:
        with session_factory(state.engine)() as session:
            rows = dedi.query(session, registry) if namespace == state.settings.namespace else []
        data = [{"record_id": r.record_hash, "created_at": r.recorded_at.isoformat()} for r in rows]
        return JSONResponse({"namespace": namespace, "registry_name": registry, "data": data})

    @router.post("/digilocker/pulluri", summary="DigiLocker Pull URI (XML, x-digilocker-hmac)")
    async def digilocker_route(request: Request) -> Response:
        raw = await request.body()
        try:
            status, xml = await run_in_threadpool(
                digilocker_pull, state, raw, request.headers.get("x-digilocker-hmac")
            )
        except IESError as err:  # authentication failures: 401 and nothing else
            status, body = to_http(err)
            return Response(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error code="{body["code"]}"/>\n',
                status_code=status,
                media_type="application/xml",
            )
        return Response(xml, status_code=status, media_type="application/xml")

    return router


def _wanted_status(body: dict[str, Any]) -> str:
    """`status` (suspended | active | revoked), or the VC-API form `credentialStatus: [{type, status}]`."""
    wanted = body.get("status")
    entries = body.get("credentialStatus")
    if wanted is None and isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], dict):
        wanted = entries[0].get("status")
    aliases = {"suspended": "suspended", "active": "active", "unsuspended": "active", "revoked": "revoked"}
    if wanted not in aliases:
        raise UsageError("status must be suspended, active (unsuspended) or revoked")
    return aliases[wanted]
