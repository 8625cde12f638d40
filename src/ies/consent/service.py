"""The consent manager role: the consent HTTP API on a node, expiry, and notifications to the parties.

    GET  /consent/v1/purposes                       the purpose catalogue (public)
    GET  /consent/v1/schema                         the artefact JSON Schema (public)
    POST /consent/v1/consents                       a data consumer requests a consent   (its Beckn signature)
    GET  /consent/v1/consents?state=&principal=…    list: the operator sees all, a participant the consents
                                                    it is party to, a principal their own
    GET  /consent/v1/consents/{id}                  one consent with its signed transitions; the answer is
                                                    signed by the manager (X-IES-Signature)
    GET  /consent/v1/consents/{id}/credential       an ACTIVE consent as a MeterDataRequestCredential issued
                                                    by the manager's did:web (same callers as above)
    POST /consent/v1/consents/{id}/approve          {"signature": PrincipalSignature or
                                                    ProviderPortalAttestation}
    POST /consent/v1/consents/{id}/{reject|pause|resume|revoke}
                                                    the principal: {"instruction", "signature"} (signed with
                                                    their did:key); the provider's portal: its Beckn
                                                    signature and {"evidence", "reason"}

Every change is recorded by `ConsentStore` (signed, hash-chained, audited in the same transaction) and then
sent to the data consumer and provider as a signed Beckn `on_update`. A sweeper expires consents whose
validity ended (and notifies) every `settings.consent.expiry_sweep_s` seconds (default 30); reads expire
lazily too, so nobody ever sees a consent ACTIVE past its validUntil.

`install(runtime)` is the ROLE_INSTALLERS entry for Role.CONSENT_MANAGER; it leaves the service on the
runtime as `runtime.consent_manager` so that a use case on the same node can read consents locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ies._http import error_response as _error
from ies.consent.artefact import artefact_schema
from ies.consent.auth import Caller, get_signing_bytes, identify_caller, request_target
from ies.consent.errors import ArtefactInvalid, UnknownConsent, refusal_for_state
from ies.consent.lifecycle import Action, ActorKind, ConsentState
from ies.consent.notify import notify_parties
from ies.consent.peers import Peers
from ies.consent.purposes import purpose_catalogue
from ies.consent.signatures import PORTAL, PRINCIPAL, portal_key_id
from ies.consent.source import RESPONSE_SIGNATURE_HEADER
from ies.consent.store import Actor, ConsentRecord, ConsentStore, ManagerIdentity
from ies.errors import IESError, InternalError, InvalidJSON, UnauthorizedAction, UsageError
from ies.exchange.signing import digest_b64

if TYPE_CHECKING:
    from ies.node.runtime import NodeRuntime

__all__ = ["ConsentService", "install"]

log = logging.getLogger("ies.consent")

ACTIONS = {"reject": Action.REJECT, "pause": Action.PAUSE, "resume": Action.RESUME, "revoke": Action.REVOKE}
MAX_BODY_BYTES = 256 * 1024


def _json(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY_BYTES:
        raise UsageError(f"body of {len(raw)} bytes exceeds {MAX_BODY_BYTES}")
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidJSON("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidJSON("body is not a JSON object")
    return body


class ConsentService:
    """The consent manager of one node."""

    def __init__(self, runtime: NodeRuntime):
        self.runtime = runtime
        settings = runtime.cfg.settings.get("consent") or {}
        self.sweep_s = float(settings.get("expiry_sweep_s", 30))
        self.store = ConsentStore(
            runtime.engine,
            ManagerIdentity(runtime.cfg.subscriber_id, runtime.keys.key_id, runtime.keys.signing),
            on_expire=self._expired,
        )
        self.peers = Peers(runtime)
        self._sweeper: asyncio.Task[None] | None = None
        self._notifications: set[asyncio.Task[Any]] = set()

    def _expired(self, record: ConsentRecord) -> None:
        """Every expiry (swept or noticed on a read) is notified, in the background."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no server running (a CLI or a test calling the store directly)
            return
        task = loop.create_task(notify_parties(self.runtime, self.peers, record))
        self._notifications.add(task)
        task.add_done_callback(self._notifications.discard)

    # -- identity of callers ---------------------------------------------------------------------------
    async def caller(self, request: Request, signed: bytes) -> Caller:
        return await identify_caller(
            request.headers.get("authorization"),
            signed,
            admin_token=self.runtime.admin_token,
            authenticate=self.runtime.router.verifier.authenticate,
        )

    def _may_see(self, caller: Caller, record: ConsentRecord) -> None:
        a = record.artefact
        if caller.kind == "operator":
            return
        if caller.kind == "participant" and caller.id in (a.consumer_id, a.provider_id):
            return
        if caller.kind == "principal" and caller.id == a.principal_did:
            return
        raise UnauthorizedAction("only the operator, the parties and the principal may see this consent")

    # -- actions ---------------------------------------------------------------------------------------
    async def request(self, caller: Caller, raw: bytes) -> ConsentRecord:
        caller.require("participant")
        proof = {
            "type": "BecknSignature",
            "authorization": caller.authorization,
            "bodyDigest": digest_b64(raw),
        }
        return self.store.request(_json(raw), Actor(ActorKind.CONSUMER, str(caller.id), proof))

    async def approve(self, consent_id: str, caller: Caller, raw: bytes) -> ConsentRecord:
        signature = _json(raw).get("signature")
        if not isinstance(signature, dict):
            raise ArtefactInvalid('approve needs {"signature": …}', details={"path": "$.signature"})
        if signature.get("type") == PRINCIPAL:
            return self.store.approve(
                consent_id, signature, Actor(ActorKind.PRINCIPAL, str(signature.get("signer")))
            )
        if signature.get("type") == PORTAL:
            caller.require("participant")
            signer, key_id = portal_key_id(signature)
            if signer != caller.id:
                raise UnauthorizedAction(f"{caller.id} cannot submit {signer}'s portal attestation")
            key = await self.peers.key(signer, key_id)
            proof = {
                "type": "BecknSignature",
                "authorization": caller.authorization,
                "bodyDigest": digest_b64(raw),
            }
            return self.store.approve(
                consent_id, signature, Actor(ActorKind.PORTAL, signer, proof), provider_key=key
            )
        raise ArtefactInvalid(f"{PRINCIPAL} or {PORTAL} expected", details={"path": "$.signature.type"})

    async def act(self, consent_id: str, action: Action, caller: Caller, raw: bytes) -> ConsentRecord:
        body = _json(raw)
        reason = body.get("reason") if isinstance(body.get("reason"), str) else None
        if "instruction" in body:
            signer = str((body.get("signature") or {}).get("signer", ""))
            actor = Actor(ActorKind.PRINCIPAL, signer)
            return self.store.act(consent_id, action, actor, reason=reason, instruction=body)
        caller.require("participant")
        evidence = body.get("evidence")
        proof = {
            "type": "BecknSignature",
            "authorization": caller.authorization,
            "bodyDigest": digest_b64(raw),
            "evidence": evidence if isinstance(evidence, dict) else None,
        }
        return self.store.act(
            consent_id, action, Actor(ActorKind.PORTAL, str(caller.id), proof), reason=reason
        )

    def credential(self, record: ConsentRecord) -> dict[str, Any]:
        """A MeterDataRequestCredential for an ACTIVE consent, issued by this manager as its did:web
        (its node key, published in its did.json), valid exactly as long as the consent."""
        from ies.consent.mapping import to_request_credential
        from ies.credentials import IssuerKey

        if record.state is not ConsentState.ACTIVE:
            raise refusal_for_state(record.state.value)(
                f"consent {record.id} is {record.state.value}: no credential for it",
                details={"consentId": record.id},
            )
        rt = self.runtime
        settings = rt.cfg.settings.get("consent") or {}
        issuer = {
            "id": rt.did,
            "name": str(settings.get("name", rt.cfg.name)),
            "licenseNumber": str(settings.get("license_number", rt.cfg.subscriber_id)),
        }
        key = IssuerKey(f"{rt.did}#{rt.keys.key_id}", rt.keys.signing)
        issued = to_request_credential(record.artefact, key=key, issuer=issuer)
        assert isinstance(issued, dict)
        return issued

    async def changed(self, record: ConsentRecord) -> dict[str, Any]:
        """After a committed transition: notify the parties; the answer says how each send went."""
        out = record.to_dict()
        out["notified"] = await notify_parties(self.runtime, self.peers, record)
        return out

    # -- expiry ----------------------------------------------------------------------------------------
    async def sweep(self) -> int:
        """Expire what is due (each expiry is notified through `_expired`)."""
        return len(self.store.expire_due())

    async def start_sweeper(self) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self.sweep_s)
                try:
                    await self.sweep()
                except Exception:  # the sweeper must outlive a bad round (a database hiccup)
                    log.exception("consent expiry sweep failed")

        self._sweeper = asyncio.get_running_loop().create_task(loop())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    # -- HTTP ------------------------------------------------------------------------------------------
    def router(self) -> APIRouter:
        r = APIRouter(prefix="/consent/v1", tags=["consent"])

        async def guarded(work: Callable[[], Awaitable[Response]]) -> Response:
            try:
                return await work()
            except IESError as err:
                return _error(err)
            except Exception:
                log.exception("consent API failure")
                return _error(InternalError("internal error"))

        @r.get("/purposes")
        def purposes() -> dict[str, Any]:
            return purpose_catalogue().to_dict()

        @r.get("/schema")
        def schema() -> dict[str, Any]:
            return artefact_schema()

        @r.post("/consents")
        async def request_consent(request: Request) -> Response:
            async def work() -> Response:
                raw = await request.body()
                record = await self.request(await self.caller(request, raw), raw)
                return JSONResponse(await self.changed(record), status_code=201)

            return await guarded(work)

        @r.get("/consents")
        async def list_consents(
            request: Request,
            state: str | None = None,
            principal: str | None = None,
            consumer: str | None = None,
            provider: str | None = None,
        ) -> Response:
            async def work() -> Response:
                caller = await self.caller(request, get_signing_bytes(request_target(request.scope)))
                filters: dict[str, Any] = {
                    "state": state.upper() if state else None,
                    "principal_number": principal,
                    "consumer_id": consumer,
                    "provider_id": provider,
                }
                if caller.kind == "participant":
                    filters["party"] = caller.id
                elif caller.kind == "principal":
                    filters["principal_did"] = caller.id
                else:
                    caller.require("operator")
                records = self.store.find(**filters)
                return JSONResponse({"consents": [rec.summary() for rec in records]})

            return await guarded(work)

        @r.get("/consents/{consent_id}")
        async def show(consent_id: str, request: Request) -> Response:
            async def work() -> Response:
                caller = await self.caller(request, get_signing_bytes(request_target(request.scope)))
                if caller.kind == "anonymous":
                    raise UnauthorizedAction(
                        "sign the request (participant or principal) or use the operator token"
                    )
                try:
                    record = self.store.get(consent_id)
                except UnknownConsent as err:
                    return _error(err)
                self._may_see(caller, record)
                raw = orjson.dumps(record.to_dict())
                headers = {RESPONSE_SIGNATURE_HEADER: self.runtime.client.sign(raw)}
                return Response(raw, 200, headers, media_type="application/json")

            return await guarded(work)

        @r.get("/consents/{consent_id}/credential")
        async def credential(consent_id: str, request: Request) -> Response:
            async def work() -> Response:
                caller = await self.caller(request, get_signing_bytes(request_target(request.scope)))
                if caller.kind == "anonymous":
                    raise UnauthorizedAction(
                        "sign the request (participant or principal) or use the operator token"
                    )
                record = self.store.get(consent_id)
                self._may_see(caller, record)
                return JSONResponse(self.credential(record))

            return await guarded(work)

        @r.post("/consents/{consent_id}/{verb}")
        async def transition(consent_id: str, verb: str, request: Request) -> Response:
            async def work() -> Response:
                raw = await request.body()
                caller = await self.caller(request, raw)
                if verb == "approve":
                    record = await self.approve(consent_id, caller, raw)
                elif verb in ACTIONS:
                    record = await self.act(consent_id, ACTIONS[verb], caller, raw)
                else:
                    raise UsageError(f"unknown consent action {verb!r}: approve, {', '.join(ACTIONS)}")
                return JSONResponse(await self.changed(record))

            return await guarded(work)

        return r


def install(runtime: NodeRuntime) -> ConsentService:
    """Make this node a consent manager: routes, the expiry sweeper, and `runtime.consent_manager`."""
    service = ConsentService(runtime)
    runtime.routers.append(service.router())
    runtime.startup.append(service.start_sweeper)
    runtime.consent_manager = service  # type: ignore[attr-defined]
    return service
