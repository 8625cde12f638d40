"""What every P2P role shares on a node: settings, database, peers, signed sending, evidence, refusals.

Why one object per node (not module state): a sandbox may run several roles in one test process, and the
style anchors forbid class- or module-level state set from an instance. Each role module receives this
`P2PNode` and registers its handlers and routes with it.

Sending: P2P messages to a peer are signed by the node's BecknClient; the requests whose answer arrives
as a callback go through `BecknClient.request`; the one-way messages (forwarded `on_confirm` to a ledger,
allocation cascades) through `send_one_way`, whose ACK is the answer. Every P2P message a node receives
is kept with its exact Signature header (rebuilt from the parsed parameters, which is lossless) so that
`ies p2p evidence` can hand a third party messages it can verify against the signers' registered keys.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import Request
from sqlalchemy.orm import Session

from ies.audit import append as audit_append
from ies.errors import IESError, InternalError, NetworkError, UnauthorizedAction
from ies.exchange.context import Context, new_context
from ies.exchange.inbound import InboundMessage
from ies.exchange.outbound import Ack
from ies.exchange.signing import ParsedSignature
from ies.store import session_factory, utcnow
from ies.usecases.p2p.peers import Peer, PeerDirectory
from ies.usecases.p2p.settings import P2PSettings
from ies.usecases.p2p.tables import EventRow, MessageRow

if TYPE_CHECKING:
    from ies.node.app import NodeRuntime
    from ies.usecases.p2p.rules import RuleBook

__all__ = ["DOMAIN", "LedgerUnavailable", "P2PNode", "header_of", "on"]

log = logging.getLogger("ies.p2p")
Handler = Callable[[InboundMessage], Awaitable[dict[str, Any] | None]]


def on(node: P2PNode, action: str) -> Callable[[Handler], Handler]:
    """Register a P2P handler whose unexpected failure still answers the peer.

    A handler that raised anything but an IESError would leave the peer waiting for a callback until its
    timeout; here the failure is logged with its traceback and answered at once as INTERNAL.
    """

    def register(handler: Handler) -> Handler:
        async def guarded(msg: InboundMessage) -> dict[str, Any] | None:
            try:
                return await handler(msg)
            except IESError:
                raise
            except Exception:
                log.exception("P2P handler for %s failed", action)
                raise InternalError(f"the {action} handler failed; the operator has the details") from None

        node.runtime.router.on(action)(guarded)
        return handler

    return register


DOMAIN = "beckn.one:deg:p2p-trading"


class LedgerUnavailable(NetworkError):
    """A ledger provider did not ACK a recording in time: the IES guide's timeout code."""

    code = "DEG_ASYNC_ACK_TIMEOUT"


def header_of(sig: ParsedSignature) -> str:
    """The Signature header exactly as the sender wrote it (our parser keeps every parameter)."""
    return (
        f'Signature keyId="{sig.subscriber_id}|{sig.key_id}|ed25519",algorithm="ed25519",'
        f'created="{sig.created}",expires="{sig.expires}",headers="{sig.headers}",'
        f'signature="{sig.signature_b64}"'
    )


class P2PNode:
    def __init__(self, runtime: NodeRuntime, settings: P2PSettings):
        self.runtime = runtime
        self.settings = settings
        self.subscriber_id = runtime.cfg.subscriber_id
        self.sessions = session_factory(runtime.engine)
        self.peers = PeerDirectory(runtime.cfg.registry_url, ttl_s=runtime.cfg.registry_cache_ttl_s)
        self.rules: RuleBook | None = None

    # -- database ------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    def audit(self, session: Session, kind: str, subject: str, payload: dict[str, Any]) -> None:
        audit_append(session, kind, self.subscriber_id, subject, payload)

    def refuse(
        self,
        session: Session,
        rule: str,
        subject: str,
        message: str,
        details: dict[str, Any] | None = None,
        bundle: dict[str, str] | None = None,
    ) -> None:
        """Record a refusal (counted by rule in reports) and its audit line."""
        bundle = bundle or {}
        session.add(
            EventRow(
                at=utcnow(),
                kind="refusal",
                rule=rule[:64],
                subject=subject[:255],
                message=message,
                bundle_name=bundle.get("name", ""),
                bundle_version=bundle.get("version", ""),
                bundle_hash=bundle.get("hash", ""),
                details=details or {},
            )
        )
        self.audit(session, "p2p.refusal", subject[:255], {"rule": rule, "message": message, **bundle})

    def decided(self, session: Session, subject: str, checks: dict[str, dict[str, str]]) -> None:
        """Record an accepting decision: which rule sets allowed it, under which bundles."""
        for what, bundle in checks.items():
            session.add(
                EventRow(
                    at=utcnow(),
                    kind="decision",
                    rule=f"{what.upper()}_ALLOW",
                    subject=subject[:255],
                    message="allowed",
                    bundle_name=bundle.get("name", ""),
                    bundle_version=bundle.get("version", ""),
                    bundle_hash=bundle.get("hash", ""),
                    details={},
                )
            )

    def keep_message(self, session: Session, contract_id: str, msg: InboundMessage) -> None:
        session.add(
            MessageRow(
                contract_id=contract_id[:255],
                transaction_id=(msg.context.transactionId or "")[:255],
                action=msg.action,
                direction="in",
                signer=msg.signature.subscriber_id,
                authorization=header_of(msg.signature),
                body=msg.raw.decode("utf-8"),
                at=utcnow(),
            )
        )

    # -- sending -------------------------------------------------------------------------------------
    async def peer(self, subscriber_id: str) -> Peer:
        return await self.peers.get(subscriber_id)

    def context(
        self,
        action: str,
        *,
        bap: Peer | None = None,
        bpp: Peer | None = None,
        transaction_id: str | None = None,
    ) -> Context:
        """A context with us as the BAP (requests) unless `bap` names the receiver of a callback we send."""
        cfg = self.runtime.cfg
        me_id, me_uri = self.subscriber_id, cfg.beckn_url
        ctx = new_context(
            action,
            bap_id=bap.subscriber_id if bap else me_id,
            bap_uri=bap.url if bap else me_uri,
            bpp_id=bpp.subscriber_id if bpp else (me_id if bap else None),
            bpp_uri=bpp.url if bpp else (me_uri if bap else None),
            domain=DOMAIN,
            network_id=cfg.network_id,
            transaction_id=transaction_id or str(uuid.uuid4()),
        )
        from ies.usecases.p2p.contract import CONTEXTS

        wire = ctx.wire()
        wire["schemaContext"] = [
            CONTEXTS[k]
            for k in (
                "EnergyTradeOffer",
                "EnergyResource",
                "EnergyCustomer",
                "DEGContract",
                "BecknTimeSeries",
                "DiscomLedgerProvider",
                "RevenueFlow",
            )
        ]
        return Context.model_validate(wire)

    async def send_one_way(self, to: Peer, action: str, message: dict[str, Any], transaction_id: str) -> Ack:
        """Send `action` to `to` as an unsolicited message from us (bppId = us, bapId = them).

        Used for callbacks we originate (forwarded `on_confirm`, `on_status` cascades): the receiving
        pipeline checks that the signer is the context's bppId, so the sender stands in that slot — the
        same rewrite the DEG ledger recorder does.
        """
        ctx = self.context(action, bap=to, transaction_id=transaction_id)
        return await self.runtime.client.send(
            f"{to.url.rstrip('/')}/{action}", {"context": ctx.wire(), "message": message}
        )

    async def aclose(self) -> None:
        await self.peers.aclose()


# -- operator routes ------------------------------------------------------------------------------------
def require_operator(node: P2PNode, request: Request) -> None:
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {node.runtime.admin_token}".encode()):
        raise UnauthorizedAction("operator token required")


async def json_body(request: Request) -> Any:
    from ies.errors import UsageError

    raw = await request.body()
    try:
        return orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise UsageError("body is not JSON") from None
