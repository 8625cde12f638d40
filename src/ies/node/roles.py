"""Default handlers each role brings to a node, so a fresh network answers a full round trip.

Use cases replace or extend these (a use case registers its own handlers on the router); the defaults
exist so that `ies network ping` exercises discovery and a transaction without any use case installed.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from ies._types import as_object, as_str
from ies.discovery import CatalogStore, search_catalogs
from ies.errors import SchemaValidationFailed, UsageError
from ies.exchange.inbound import ExchangeRouter, InboundMessage

__all__ = ["install_bpp_defaults", "install_cds", "sample_catalog"]


def sample_catalog(bpp_id: str) -> dict[str, Any]:
    """A small rooftop-solar energy offer, written for the sandbox (not copied from any devkit)."""
    return {
        "id": f"catalog-{bpp_id}",
        "descriptor": {"name": f"Rooftop solar surplus from {bpp_id}"},
        "provider": {"id": f"provider-{bpp_id}", "descriptor": {"name": "Sandbox prosumer cooperative"}},
        "resources": [
            {
                "id": "res-solar-1",
                "descriptor": {"name": "Solar energy, 15-minute blocks"},
                "resourceAttributes": {
                    "@type": "EnergyResource",
                    "sourceType": "SOLAR",
                    "meterId": "MTR-0001",
                },
            }
        ],
        "offers": [
            {
                "id": "offer-solar-1",
                "resourceIds": ["res-solar-1"],
                "offerAttributes": {
                    "@type": "EnergyTradeOffer",
                    "pricePerKwhPaise": 650,
                    "availableQuantityWh": 5000,
                    "sourceType": "SOLAR",
                },
            }
        ],
    }


def load_catalog(path: Path | None, bpp_id: str) -> dict[str, Any]:
    if path is None:
        return sample_catalog(bpp_id)
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"catalog file {path}: {exc}") from None
    if not isinstance(data, dict) or "id" not in data:
        raise UsageError(f"catalog file {path} must hold one catalogue object with an id")
    return data


def install_cds(router: ExchangeRouter, store: CatalogStore) -> None:
    @router.on("catalog/publish")
    async def publish(msg: InboundMessage) -> None:
        catalogs = msg.message.get("catalogs")
        if not isinstance(catalogs, list):
            raise SchemaValidationFailed("catalog/publish needs message.catalogs[]")
        store.publish(msg.signature.subscriber_id, msg.context.bppUri, catalogs)
        return None

    @router.on("discover")
    async def discover(msg: InboundMessage) -> dict[str, Any]:
        intent = as_object(msg.message.get("intent"))
        expression = as_str(as_object(intent.get("filters")).get("expression"))
        text = as_str(intent.get("textSearch"))
        return {"catalogs": search_catalogs(store.all(), expression=expression, text=text)}


def _validate_publish(action: str, body: dict[str, Any]) -> None:
    if action == "catalog/publish" and not isinstance(body.get("message", {}).get("catalogs"), list):
        raise SchemaValidationFailed(
            "catalog/publish needs message.catalogs[]", details={"path": "$.message.catalogs"}
        )


def install_bpp_defaults(router: ExchangeRouter, catalog: dict[str, Any]) -> None:
    """select/init/confirm/status/cancel over the node's one catalogue, contracts kept per transaction."""
    offers = {o["id"]: o for o in catalog.get("offers", []) if isinstance(o, dict) and "id" in o}
    contracts: dict[str, dict[str, Any]] = {}

    def contract_from(msg: InboundMessage, status: str) -> dict[str, Any]:
        contract = msg.message.get("contract")
        if not isinstance(contract, dict):
            raise SchemaValidationFailed(
                "message.contract is required", details={"path": "$.message.contract"}
            )
        contract = copy.deepcopy(contract)
        for commitment in contract.get("commitments", []) or []:
            offer_id = (commitment.get("offer") or {}).get("id") if isinstance(commitment, dict) else None
            if offer_id not in offers:
                raise SchemaValidationFailed(
                    f"unknown offer {offer_id!r}", details={"path": "$.message.contract"}
                )
            commitment["offer"] = offers[offer_id]
        contract["status"] = status
        contract.setdefault("id", str(uuid.uuid4()))
        key = msg.context.transactionId or msg.context.messageId
        contracts[key] = contract
        return {"contract": contract}

    @router.on("select")
    async def select(msg: InboundMessage) -> dict[str, Any]:
        return contract_from(msg, "DRAFT")

    @router.on("init")
    async def init(msg: InboundMessage) -> dict[str, Any]:
        return contract_from(msg, "DRAFT")

    @router.on("confirm")
    async def confirm(msg: InboundMessage) -> dict[str, Any]:
        return contract_from(msg, "ACTIVE")

    @router.on("status")
    async def status(msg: InboundMessage) -> dict[str, Any]:
        key = msg.context.transactionId or msg.context.messageId
        if key not in contracts:
            raise SchemaValidationFailed("no contract in this transaction")
        return {"contract": contracts[key]}

    @router.on("cancel")
    async def cancel(msg: InboundMessage) -> dict[str, Any]:
        key = msg.context.transactionId or msg.context.messageId
        if key not in contracts:
            raise SchemaValidationFailed("no contract in this transaction")
        contracts[key]["status"] = "CANCELLED"
        return {"contract": contracts[key]}
