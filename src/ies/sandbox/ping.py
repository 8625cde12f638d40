"""`ies network ping`: a signed discover → on_discover and select → on_select across processes.

The launcher asks a BAP node (through its operator API) to originate each request; the node signs and
sends it, the peer verifies against the registry and calls back, and the BAP returns the callback with
its message log for the transaction — the signed exchange trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ies.errors import NetworkError, PeerUnreachable
from ies.registry.records import Role
from ies.sandbox.network import NetworkState

__all__ = ["DISCOVER_FILTER", "PingStep", "ping"]

DISCOVER_FILTER = "$.catalogs[*].offers[?(@.offerAttributes['@type'] == 'EnergyTradeOffer')]"


@dataclass
class PingStep:
    action: str
    ack: dict[str, Any]
    callback: dict[str, Any] | None
    elapsed_ms: float
    trail: list[dict[str, Any]]
    transaction_id: str


def _call(state: NetworkState, bap_name: str | None, action: str, spec: dict[str, Any]) -> PingStep:
    baps = state.with_role(Role.BAP)
    if not baps:
        raise NetworkError("the network has no BAP to originate requests", code="NET_NO_BAP")
    bap = state.node(bap_name) if bap_name else baps[0]
    try:
        resp = httpx.post(
            f"{bap.url}/admin/caller/{action}",
            json=spec,
            headers={"Authorization": f"Bearer {state.admin_token(bap)}"},
            timeout=float(spec.get("timeout_s", 10)) + 5,
        )
    except httpx.HTTPError as exc:
        raise PeerUnreachable(f"{bap.name} unreachable: {exc.__class__.__name__}") from None
    body = resp.json()
    if resp.status_code != 200:
        err = body.get("error") or body.get("ack", {}).get("message", {}).get("error") or body
        raise NetworkError(f"{action} failed: {err}", code=str(err.get("code", "NET_PING_FAILED")))
    own = [line for line in body["trail"] if line["message_id"] == body["message_id"]]
    return PingStep(
        action, body["ack"], body.get("callback"), body["elapsed_ms"], own, body["transaction_id"]
    )


def ping(state: NetworkState, *, bap: str | None = None, timeout_s: float = 10.0) -> list[PingStep]:
    discover = _call(
        state,
        bap,
        "discover",
        {
            "message": {"intent": {"filters": {"type": "jsonpath", "expression": DISCOVER_FILTER}}},
            "timeout_s": timeout_s,
        },
    )
    catalogs = (discover.callback or {}).get("message", {}).get("catalogs") or []
    if not catalogs:
        raise NetworkError("on_discover returned no catalogue", code="NET_PING_FAILED")
    catalog = catalogs[0]
    offer = catalog["offers"][0]
    select = _call(
        state,
        bap,
        "select",
        {
            "bpp_id": catalog["bppId"],
            "bpp_uri": catalog["bppUri"],
            "transaction_id": discover.transaction_id,
            "timeout_s": timeout_s,
            "message": {
                "contract": {
                    "commitments": [
                        {
                            "id": "commitment-1",
                            "offer": {"id": offer["id"]},
                            "resources": [
                                {"id": rid, "quantity": {"unitCode": "KWH", "unitQuantity": 2}}
                                for rid in offer.get("resourceIds", [])
                            ],
                        }
                    ]
                }
            },
        },
    )
    contract = (select.callback or {}).get("message", {}).get("contract")
    if not contract:
        raise NetworkError("on_select carried no contract", code="NET_PING_FAILED")
    return [discover, select]
