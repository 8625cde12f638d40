"""The data provider (a DISCOM or AMISP as BPP): answer meter-data requests only under a live consent.

Receiving side, before the ACK (the exchange router's `policy=` hook, chained after any hook installed
before it), for every meter-data message:
  start (`confirm`): (1) parse and schema-check the MeterDataRequest; (2) fetch the consent from its
    manager and verify it (`ies.consent.source`); (3) check that it covers the request, counting the
    transfers already started in the frequency period (`ies.consent.enforcement.check_access`); (4) plan
    the pages and open the transfer in the access ledger (audited);
  page (`status`): (1) find the transfer, which only its requester may continue; (2) fetch and verify the
    consent again; (3) check it still covers the transfer's request — a revoked, paused or expired consent
    stops the transfer here, for good, and the refusal is the NACK.
A refusal raises the consent layer's POL_CONSENT_* error, which the router sends as the NACK (and logs and
audits); nothing is served. After the ACK, the handler builds the page (minimised, schema-checked), writes
it to the ledger (audited) and returns it as `on_confirm` / `on_status`.

Routes: `GET /consent/v1/accesses?principal=<consumer number>` lists every page served about a principal
(who, when, purpose, meters, period, records, bytes); a principal signs with their did:key (and sees their
own), the operator uses the node's token (the provider's portal).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ies.consent.auth import get_signing_bytes, identify_caller, request_target
from ies.consent.enforcement import AccessRequest, check_access
from ies.consent.errors import ConsentMissing, ConsentRefused, ConsentUnverifiable, ConsentWrongParty
from ies.consent.gate import ConsentGate, bound_check
from ies.consent.ledger import AccessLedger, Transfer
from ies.consent.mapping import verify_request_credential
from ies.consent.peers import Peers, api_base
from ies.consent.source import ConsentSource, LocalConsentSource, RemoteConsentSource, VerifiedConsent
from ies.errors import IESError, SchemaValidationFailed, UnauthorizedAction, UsageError, to_http
from ies.exchange.inbound import InboundMessage
from ies.identity.did_web import did_web_for_subscriber
from ies.identity.resolver import DIDResolver
from ies.store import utcnow
from ies.usecases.meter_exchange.data import Customers, MeterDataSource, SyntheticMeterData
from ies.usecases.meter_exchange.payload import Series, build_page, plan_transfer, total_records
from ies.usecases.meter_exchange.wire import POLICY_DATASET, MeterDataAsk, answer, parse_ask

if TYPE_CHECKING:
    from ies.node.runtime import NodeRuntime

__all__ = ["MeterDataProvider", "ProviderSettings"]

_STATE = "ies_meter_exchange"
DEFAULT_PAGE_SIZE = 96
MAX_PAGE_SIZE = 5000


@dataclass
class ProviderSettings:
    """`settings.meter_exchange` of a provider node."""

    consent_managers: set[str] = field(default_factory=set)
    page_size: int = DEFAULT_PAGE_SIZE
    customers: Customers = field(default_factory=Customers)
    seed: int = 1

    @classmethod
    def from_node(cls, raw: dict[str, Any]) -> ProviderSettings:
        managers = raw.get("consent_managers", [])
        if isinstance(managers, str):
            managers = [managers]
        page_size = int(raw.get("page_size", DEFAULT_PAGE_SIZE))
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise UsageError(f"settings.meter_exchange.page_size must be 1…{MAX_PAGE_SIZE}")
        return cls(
            consent_managers={str(m) for m in managers},
            page_size=page_size,
            customers=Customers.from_settings(raw.get("customers")),
            seed=int(raw.get("seed", 1)),
        )


@dataclass(frozen=True)
class _Decided:
    """What the hook decided for one message, for its handler."""

    transfer: Transfer
    consent: VerifiedConsent
    series: list[Series]
    page: int
    page_size: int


class MeterDataProvider:
    def __init__(
        self, runtime: NodeRuntime, settings: ProviderSettings, *, source: MeterDataSource | None = None
    ):
        self.runtime = runtime
        self.settings = settings
        self.provider_id = runtime.cfg.subscriber_id
        self.source: MeterDataSource = source or SyntheticMeterData(settings.customers, settings.seed)
        self.ledger = AccessLedger(runtime.engine, self.provider_id)
        self.peers = Peers(runtime)
        self.gate = ConsentGate()
        self._resolvers: dict[str, DIDResolver] = {}  # consent manager → resolver of its did:web
        local = getattr(runtime, "consent_manager", None)
        own = runtime.cfg.subscriber_id
        trusted = settings.consent_managers or ({own} if local is not None else set())
        if not trusted:
            raise UsageError(
                "settings.meter_exchange.consent_managers must name the consent manager(s) trusted"
            )
        self.trusted = trusted
        self.local: ConsentSource | None = LocalConsentSource(local.store, self.peers) if local else None
        self.remote: ConsentSource = RemoteConsentSource(runtime, self.peers, trusted - {own})

    # -- consents --------------------------------------------------------------------------------------
    async def fetch(self, consent_id: str, manager_id: str | None) -> VerifiedConsent:
        own = self.provider_id
        if self.local is not None and manager_id in (None, own) and own in self.trusted:
            return await self.local.fetch(consent_id, own)
        return await self.remote.fetch(consent_id, manager_id)

    # -- before the ACK --------------------------------------------------------------------------------
    async def check(self, msg: InboundMessage) -> None:
        if msg.action not in ("confirm", "status"):
            return
        ask = parse_ask(msg.action, msg.message)
        if ask is None:
            return
        at = utcnow()
        decided = await (self._start(msg, ask, at) if ask.kind == "start" else self._page(msg, ask, at))
        msg.__dict__[_STATE] = decided

    async def _from_credential(self, msg: InboundMessage, ask: MeterDataAsk) -> MeterDataAsk:
        """The request a presented MeterDataRequestCredential carries, once the credential verifies, was
        issued by a trusted consent manager (as its did:web) and names the requester as its subject."""
        assert ask.credential is not None
        manager = ask.manager_id or (next(iter(self.trusted)) if len(self.trusted) == 1 else None)
        if manager is None or manager not in self.trusted:
            raise ConsentUnverifiable(f"{manager} is not a consent manager this provider trusts")
        issuer = did_web_for_subscriber(manager)
        resolver = self._resolvers.get(manager)
        if resolver is None:
            resolver = DIDResolver({issuer: api_base(await self.peers.url_of(manager))}, cache_ttl_s=60)
            self._resolvers[manager] = resolver
        verified = await asyncio.to_thread(verify_request_credential, ask.credential, resolver=resolver)
        if verified.issuer != issuer:
            raise ConsentUnverifiable(
                f"the credential is issued by {verified.issuer}, not consent manager {issuer}"
            )
        if verified.subject != did_web_for_subscriber(msg.signer.subscriber_id):
            raise ConsentWrongParty(f"the credential was issued to {verified.subject}, not to the requester")
        if ask.request is not None and ask.request != verified.request:
            raise SchemaValidationFailed("the request differs from the one the credential carries")
        given = verified.request.get("consumerConsent") or []
        return replace(
            ask, request=verified.request, consent_id=ask.consent_id or (given[0] if given else None)
        )

    async def _start(self, msg: InboundMessage, ask: MeterDataAsk, at: datetime) -> _Decided:
        if ask.credential is not None:
            ask = await self._from_credential(msg, ask)
        assert ask.request is not None and ask.purpose is not None
        request = AccessRequest.from_meter_data_request(  # (1)
            ask.request, requester=msg.signer.subscriber_id, provider=self.provider_id, purpose=ask.purpose
        )
        if not ask.consent_id:
            raise ConsentMissing(
                "the request names no consent (contractAttributes.consentId / consumerConsent)"
            )
        consent = await self.fetch(ask.consent_id, ask.manager_id)  # (2)
        page_size = min(
            int(ask.request.get("maxRecordsShared") or self.settings.page_size), self.settings.page_size
        )
        async with self.ledger.start_lock:  # (3) + (4) without a gap another request could use
            recent = self.ledger.recent_transfers(consent, at)
            owns = self.settings.customers.owns
            check_access(consent.artefact, consent.state, request, at=at, recent_accesses=recent, owns=owns)
            self._decide(msg, consent, request, at)
            series = plan_transfer(request)
            records = total_records(series)
            pages = -(-records // page_size)
            if not pages:
                raise SchemaValidationFailed("the requested period holds no whole interval or day")
            transfer = self.ledger.start(
                consent,
                request,
                pages_total=pages,
                records_total=records,
                page_size=page_size,
                transaction_id=msg.context.transactionId,
                at=at,
            )
        return _Decided(transfer, consent, series, 0, page_size)

    async def _page(self, msg: InboundMessage, ask: MeterDataAsk, at: datetime) -> _Decided:
        assert ask.collection_id is not None
        transfer = self.ledger.get(ask.collection_id)  # (1)
        if transfer.requester != msg.signer.subscriber_id:
            raise ConsentWrongParty(f"transfer {transfer.id} belongs to {transfer.requester}")
        if transfer.status == "STOPPED":
            raise ConsentRefused(
                f"transfer {transfer.id} was stopped ({transfer.stop_code})",
                details={"transferId": transfer.id, "stoppedBy": transfer.stop_code},
            )
        if ask.page >= transfer.pages_total:
            raise SchemaValidationFailed(f"transfer {transfer.id} has {transfer.pages_total} page(s)")
        request = AccessRequest.from_dict(transfer.request)
        try:
            consent = await self.fetch(transfer.consent_id, transfer.manager_id)  # (2)
            check_access(
                consent.artefact, consent.state, request, at=at, owns=self.settings.customers.owns
            )  # (3)
            self._decide(msg, consent, request, at)
        except ConsentRefused as refusal:
            self.ledger.stop(transfer, refusal.code, at)
            raise
        page_size = transfer.page_size
        return _Decided(transfer, consent, plan_transfer(request), ask.page, page_size)

    def _decide(
        self, msg: InboundMessage, consent: VerifiedConsent, request: AccessRequest, at: datetime
    ) -> None:
        """When the node runs the policy layer, its decision point decides too (entitlement by role, purpose
        and dataset class, with this consent as its consent check), and audits the decision."""
        layer = getattr(self.runtime, "policy", None)
        if layer is None or POLICY_DATASET not in layer.catalogue:
            return
        check = bound_check(consent, request, at=at, owns=self.settings.customers.owns)
        layer.point.decide(
            msg.signer, layer.catalogue.get(POLICY_DATASET), request.purpose, consent_check=check
        )

    # -- after the ACK ---------------------------------------------------------------------------------
    def serve(self, msg: InboundMessage) -> dict[str, Any]:
        decided: _Decided = msg.__dict__[_STATE]
        consent = decided.consent
        salt = None
        if consent.artefact.purpose.anonymised_only:
            salt = hashlib.sha256(
                self.runtime.keys.signing.sign(f"pseudonyms|{decided.transfer.id}".encode())
            ).digest()
        page = build_page(self.source, decided.series, decided.page, decided.page_size, salt=salt)
        at = utcnow()
        self.ledger.served(decided.transfer, page.served, at)
        return answer(
            collection_id=decided.transfer.id,
            consent_id=consent.id,
            purpose=consent.artefact.purpose.code,
            retention=consent.artefact.doc["retention"],
            retain_until=consent.artefact.retention.after(at),
            page=decided.page,
            page_size=decided.page_size,
            records_total=decided.transfer.records_total,
            pages_total=decided.transfer.pages_total,
            payload=page.doc,
        )

    # -- wiring ----------------------------------------------------------------------------------------
    def install(self) -> None:
        router = self.runtime.router
        previous_policy = router.policy

        async def policy(msg: InboundMessage) -> None:
            if previous_policy is not None:
                await previous_policy(msg)
            await self.check(msg)

        router.policy = policy
        if getattr(self.runtime, "consent_check", None) is None:
            # Personal data asked for outside a consent-checked exchange finds no consent bound: refused.
            self.runtime.consent_check = self.gate
        for action in ("confirm", "status"):
            fallback = router.handlers.get(action)

            async def handle(msg: InboundMessage, fallback: Any = fallback) -> dict[str, Any] | None:
                if _STATE not in msg.__dict__:
                    return await fallback(msg) if fallback is not None else None
                return self.serve(msg)

            router.on(action)(handle)
        self.runtime.routers.append(self.routes())

    def routes(self) -> APIRouter:
        r = APIRouter(prefix="/consent/v1", tags=["consent"])

        @r.get("/accesses")
        async def accesses(request: Request, principal: str | None = None) -> Response:
            try:
                caller = await identify_caller(
                    request.headers.get("authorization"),
                    get_signing_bytes(request_target(request.scope)),
                    admin_token=self.runtime.admin_token,
                    authenticate=self.runtime.router.verifier.authenticate,
                )
                if caller.kind == "principal":
                    customer = self.settings.customers.by_number.get(principal or "")
                    if principal is not None and (customer is None or customer.did != caller.id):
                        raise UnauthorizedAction("a principal lists only their own accesses")
                    found = self.ledger.accesses(principal_number=principal, principal_did=caller.id)
                else:
                    caller.require("operator")
                    if not principal:
                        raise UsageError("give ?principal=<consumer number>")
                    found = self.ledger.accesses(principal_number=principal)
            except IESError as err:
                status, body = to_http(err)
                return JSONResponse({"error": body}, status_code=status)
            return JSONResponse({"principal": principal, "accesses": found, "count": len(found)})

        return r
