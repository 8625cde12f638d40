"""Telling the data consumer (and the data provider) that a consent changed: a signed Beckn `on_update`.

Why `on_update`: the consumer asked for the consent (a request it made), and every later change is the
manager's update to it, so the unsolicited callback fits Beckn's vocabulary and travels the exchange's
signed, logged, audited path; the receiver's pipeline authenticates it like any callback (the signer must
be the context's `bppId`, here the consent manager). All notifications about one consent share one
`transactionId` (the consent's UUID), so a receiver can follow its history in its message log.

The message carries the manager-signed transition record, so the receiver can check what it is told
without trusting the transport. Notifications are sent after the transition commits: a consumer that is
down does not undo a revocation; the client retries, and the outcome of each send is returned (and is in
the message log).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ies.consent.store import ConsentRecord
from ies.errors import IESError
from ies.exchange.context import new_context

if TYPE_CHECKING:
    from ies.consent.peers import Peers
    from ies.node.runtime import NodeRuntime

__all__ = ["notification_body", "notify_parties"]


def notification_body(
    runtime: NodeRuntime, record: ConsentRecord, party: str, party_url: str
) -> dict[str, Any]:
    last = record.transitions[-1] if record.transitions else {}
    ctx = new_context(
        "on_update",
        bap_id=party,
        bap_uri=party_url,
        bpp_id=runtime.cfg.subscriber_id,
        bpp_uri=runtime.cfg.beckn_url,
        network_id=runtime.cfg.network_id,
        transaction_id=record.id.removeprefix("urn:uuid:"),
        message_id=str(uuid.uuid4()),
    )
    return {
        "context": ctx.wire(),
        "message": {
            "consentNotification": {
                "@type": "ConsentNotification",
                "consentId": record.id,
                "state": record.state.value,
                "previousState": last.get("from"),
                "action": last.get("action"),
                "seq": record.seq,
                "at": last.get("at"),
                "consentManager": runtime.cfg.subscriber_id,
                "artefact": record.artefact.to_dict(),
                "transition": last,
            }
        },
    }


async def notify_parties(runtime: NodeRuntime, peers: Peers, record: ConsentRecord) -> list[dict[str, Any]]:
    """Send the change to the data consumer and the data provider (never to this node itself)."""
    outcomes = []
    for party in dict.fromkeys((record.artefact.consumer_id, record.artefact.provider_id)):
        if party == runtime.cfg.subscriber_id:
            continue
        try:
            url = await peers.url_of(party)
            ack = await runtime.client.send(
                f"{url.rstrip('/')}/on_update", notification_body(runtime, record, party, url)
            )
            outcome: dict[str, Any] = {"to": party, "status": ack.status}
            if ack.error:
                outcome["error"] = ack.error
        except IESError as err:
            outcome = {"to": party, "status": "FAILED", "error": err.to_dict()}
        outcomes.append(outcome)
    return outcomes
