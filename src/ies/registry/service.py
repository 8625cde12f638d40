"""The registry's HTTP API: subscribe (with proof of possession), both lookup forms, operator actions.

Routes
  POST /subscribe                      signed by the key being registered; the registry then POSTs an
                                       encrypted challenge to {url}/on_subscribe and checks the answer
  POST /rotate                         signed by a current key of the subscriber: registers a new key and
                                       closes the old one's window after the grace period
  GET  /lookup/{sub}/subscribers.beckn.one/{key}   DeDi form (what beckn-onix's dediregistry reads)
  POST /lookup                         Beckn v1 filter form (array of subscriptions)
  POST /admin/subscribers/{sub}/{approve|suspend|reinstate|expire|unsubscribe}   operator (bearer token)
  POST /admin/keys/{key}/revoke        operator
  GET  /admin/subscribers              operator listing
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import Engine

from ies._http import error_response as _error
from ies.errors import (
    ConflictError,
    IESError,
    InvalidJSON,
    NotFoundError,
    PeerUnreachable,
    SchemaValidationFailed,
    SignatureInvalid,
    UnauthorizedAction,
)
from ies.exchange.signing import parse_authorization, verify_parsed
from ies.exchange.verify import check_key_usable
from ies.identity.keys import EncryptionKeyPair, b64decode_strict
from ies.registry import directory
from ies.registry.records import (
    LookupFilter,
    SubscriberStatus,
    SubscriptionRequest,
    dedi_answer,
    v1_subscription,
)
from ies.store import session_factory, utcnow

__all__ = ["RegistryState", "registry_router"]

OPERATOR_ACTIONS = {
    "approve": SubscriberStatus.SUBSCRIBED,
    "reinstate": SubscriberStatus.SUBSCRIBED,
    "suspend": SubscriberStatus.SUSPENDED,
    "expire": SubscriberStatus.EXPIRED,
    "unsubscribe": SubscriberStatus.UNSUBSCRIBED,
}


@dataclass
class RegistryState:
    engine: Engine
    encryption: EncryptionKeyPair
    admin_token: str
    auto_approve: bool = False
    skew_s: int = 5
    rotation_grace: timedelta = timedelta(days=1)


def _parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJSON("body is not valid JSON") from None


def _check_time(created: int, expires: int, skew_s: int) -> None:
    now = time.time()
    if created > now + skew_s or now > expires:
        raise SignatureInvalid("signature outside its validity window")


def registry_router(state: RegistryState) -> APIRouter:
    router = APIRouter(tags=["registry"])
    sessions = session_factory(state.engine)

    def require_operator(request: Request) -> None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {state.admin_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise UnauthorizedAction("operator token required")

    async def challenge(url: str, subscriber_id: str, key_id: str, encrypted: str) -> str:
        payload = {
            "subscriber_id": subscriber_id,
            "key_id": key_id,
            "challenge": encrypted,
            "registry_encr_public_key": state.encryption.public_key_b64,
        }
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                resp = await client.post(f"{url}/on_subscribe", json=payload)
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"could not reach {url}/on_subscribe: {exc.__class__.__name__}") from None
        if resp.status_code != 200:
            raise ConflictError(f"on_subscribe answered HTTP {resp.status_code}", code="REG_CHALLENGE_FAILED")
        try:
            return str(resp.json()["answer"])
        except (ValueError, KeyError, TypeError):
            raise ConflictError("on_subscribe gave no answer", code="REG_CHALLENGE_FAILED") from None

    async def register_key(req: SubscriptionRequest) -> dict[str, Any]:
        now = utcnow()
        plain, encrypted = directory.make_challenge(state.encryption.private_key, req.encr_public_key)
        with sessions.begin() as session:
            record = directory.open_subscription(session, req, now, plain)
        try:
            answer = await challenge(req.url, req.subscriber_id, record.key_id, encrypted)
            with sessions.begin() as session:
                record = directory.check_challenge_answer(session, record.key_id, answer, utcnow())
                if state.auto_approve and record.subscriber_status == SubscriberStatus.UNDER_SUBSCRIPTION:
                    directory.set_status(session, req.subscriber_id, SubscriberStatus.SUBSCRIBED, utcnow())
        except IESError:
            with sessions.begin() as session:  # leave no half-registered key behind
                directory.revoke_key(session, record.key_id, utcnow())
            raise
        with sessions() as session:
            final = directory.get_key(session, req.subscriber_id, record.key_id)
        assert final is not None
        return {"status": final.subscriber_status, "key_status": final.key_status, "key_id": final.key_id}

    @router.post("/subscribe")
    async def subscribe(request: Request) -> JSONResponse:
        try:
            raw = await request.body()
            parsed = parse_authorization(request.headers.get("authorization"))
            try:
                req = SubscriptionRequest.model_validate(_parse_json(raw))
            except ValidationError as exc:
                first = exc.errors()[0]
                raise SchemaValidationFailed(
                    f"{'.'.join(map(str, first['loc']))}: {first['msg']}",
                    details={"path": "$." + ".".join(map(str, first["loc"]))},
                ) from None
            if parsed.subscriber_id != req.subscriber_id:
                raise UnauthorizedAction("request not signed as the subscriber it registers")
            _check_time(parsed.created, parsed.expires, state.skew_s)
            verify_parsed(parsed, raw, b64decode_strict(req.signing_public_key))  # proof of the signing key
            with sessions() as session:
                existing = directory.lookup(session, LookupFilter(subscriber_id=req.subscriber_id))
            if existing:
                raise ConflictError(
                    f"{req.subscriber_id} is already registered; rotate keys through /rotate",
                    code="REG_ALREADY_REGISTERED",
                )
            return JSONResponse(await register_key(req))
        except IESError as err:
            return _error(err)

    @router.post("/rotate")
    async def rotate(request: Request) -> JSONResponse:
        try:
            raw = await request.body()
            parsed = parse_authorization(request.headers.get("authorization"))
            _check_time(parsed.created, parsed.expires, state.skew_s)
            with sessions() as session:
                current = directory.get_key(session, parsed.subscriber_id, parsed.key_id)
            if current is None:
                raise NotFoundError("signing key is not registered", code="REG_NOT_FOUND")
            check_key_usable(current, utcnow())
            verify_parsed(parsed, raw, current.signing_key_bytes())  # authorised by the current key
            body = _parse_json(raw)
            if not isinstance(body, dict):
                raise SchemaValidationFailed("body must be an object")
            grace = state.rotation_grace
            if "grace_s" in body:
                if not isinstance(body["grace_s"], int) or body["grace_s"] < 0:
                    raise SchemaValidationFailed(
                        "grace_s must be a non-negative integer", details={"path": "$.grace_s"}
                    )
                grace = min(grace, timedelta(seconds=body["grace_s"]))
            body = {
                **body,
                "subscriber_id": current.subscriber_id,
                "url": current.url,
                "roles": current.roles,
                "domains": current.domains,
                "network_memberships": current.network_memberships,
            }
            try:
                req = SubscriptionRequest.model_validate(body)
            except ValidationError as exc:
                raise SchemaValidationFailed(str(exc.errors()[0]["msg"])) from None
            result = await register_key(req)
            old_until = utcnow() + grace
            with sessions.begin() as session:
                directory.revoke_key(session, current.key_id, utcnow(), at=old_until)
            return JSONResponse(
                {
                    **result,
                    "previous_key_id": current.key_id,
                    "previous_key_valid_until": old_until.isoformat(),
                }
            )
        except IESError as err:
            return _error(err)

    @router.get("/lookup/{subscriber_id}/subscribers.beckn.one/{key_id}")
    def dedi_lookup(subscriber_id: str, key_id: str) -> JSONResponse:
        with sessions() as session:
            record = directory.get_key(session, subscriber_id, key_id)
        if record is None:
            return JSONResponse({"message": "Record not found", "data": None}, status_code=404)
        return JSONResponse(dedi_answer(record))

    @router.post("/lookup")
    async def v1_lookup(request: Request) -> JSONResponse:
        try:
            body = _parse_json(await request.body())
            flt = LookupFilter.model_validate(body if isinstance(body, dict) else {})
        except (IESError, ValidationError) as err:
            return _error(err if isinstance(err, IESError) else SchemaValidationFailed("bad lookup filter"))
        with sessions() as session:
            return JSONResponse([v1_subscription(r) for r in directory.lookup(session, flt)])

    @router.post("/admin/subscribers/{subscriber_id}/{action}")
    def operator_action(subscriber_id: str, action: str, request: Request) -> JSONResponse:
        try:
            require_operator(request)
            if action not in OPERATOR_ACTIONS:
                raise NotFoundError(
                    f"unknown operator action {action!r}; use one of {sorted(OPERATOR_ACTIONS)}"
                )
            with sessions.begin() as session:
                directory.set_status(session, subscriber_id, OPERATOR_ACTIONS[action], utcnow())
            with sessions() as session:
                recs = directory.lookup(session, LookupFilter(subscriber_id=subscriber_id))
            return JSONResponse({"subscriber_id": subscriber_id, "status": recs[0].subscriber_status})
        except IESError as err:
            return _error(err)

    @router.post("/admin/keys/{key_id}/revoke")
    def revoke(key_id: str, request: Request) -> JSONResponse:
        try:
            require_operator(request)
            with sessions.begin() as session:
                directory.revoke_key(session, key_id, utcnow())
            return JSONResponse({"key_id": key_id, "key_status": "REVOKED"})
        except IESError as err:
            return _error(err)

    @router.get("/admin/subscribers")
    def listing(request: Request) -> JSONResponse:
        try:
            require_operator(request)
        except IESError as err:
            return _error(err)
        with sessions() as session:
            return JSONResponse([v1_subscription(r) for r in directory.lookup(session, LookupFilter())])

    return router
