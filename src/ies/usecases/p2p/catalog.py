"""Seller catalogues on the wire (`EnergyTradeOffer` with a `BecknTimeSeries` per offer), and back.

A seller TP publishes one catalogue holding an offer per (prosumer, offer): the seller's
`inputs[role=seller].payload` series carries `PRICE_PER_KWH` and the still-unsold `AVAILABLE_QTY` per
15-minute block; the other roles declare what they will contribute (`payloadDescriptors`), and
`contractTerms` is the `DEGContract` with the roles known so far and the policy the contract will be
made under.

Discovery filter: the devkit's example expression `$.catalogs[*].offers[*][?(@.offerAttributes['@type']
=='EnergyTradeOffer')]` applies the filter to the CHILDREN of each offer under strict RFC 9535 (a filter
selector iterates the members of the value it is applied to), so it matches nothing. We send
`OFFER_FILTER`, the strict form of what the devkit means; `strict_filter` rewrites the devkit's form the
same way (the P2P use case installs it on a CDS node), and the rewrite is logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ies.errors import SchemaValidationFailed
from ies.usecases.p2p.contract import CONTEXTS, Customer, PolicyRef
from ies.usecases.p2p.market import Block, Offer, SourceType, block_start
from ies.usecases.p2p.timeseries import build_series, iso, parse_time, read_series

__all__ = [
    "OFFER_FILTER",
    "CatalogOffer",
    "OfferBlock",
    "build_catalog",
    "market_offers",
    "offers_from_catalogs",
    "strict_filter",
]

OFFER_FILTER = "$.catalogs[*].offers[?@.offerAttributes['@type']=='EnergyTradeOffer']"
_DEVKIT_CHILD_FILTER = re.compile(r"\.offers\[\*\]\[\?")


def strict_filter(expression: str) -> str:
    """The devkit's `offers[*][?…]` (filter over each offer's children) read as `offers[?…]`."""
    return _DEVKIT_CHILD_FILTER.sub(".offers[?", expression)


@dataclass(frozen=True)
class OfferBlock:
    block: Block
    price_paise_per_kwh: int
    available_wh: int


@dataclass(frozen=True)
class CatalogOffer:
    """One seller offer as a TP holds or discovers it."""

    offer_id: str
    seller: Customer
    source_type: str
    created_at: datetime
    blocks: tuple[OfferBlock, ...]
    policy: PolicyRef | None = None
    bpp_id: str = ""
    bpp_uri: str = ""


def _descriptors(*kinds: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"objectType": o, "payloadType": p, "units": u} for o, p, u in kinds]


def offer_wire(offer: CatalogOffer, seller_ledger_utility: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The wire offer and its resource."""
    resource_id = f"energy-{offer.offer_id}"
    blocks = [b for b in offer.blocks if b.available_wh > 0]
    first, last = min(b.block for b in blocks), max(b.block for b in blocks)
    series = build_series(
        {
            "PRICE_PER_KWH": {b.block: b.price_paise_per_kwh for b in blocks},
            "AVAILABLE_QTY": {b.block: b.available_wh for b in blocks},
        }
    )
    roles = [
        {"role": "buyerPlatform", "participantId": None},
        {"role": "sellerPlatform", "participantId": offer.seller.platform_id},
        {"role": "buyerDiscom", "participantId": None},
        {"role": "sellerDiscom", "participantId": seller_ledger_utility},
    ]
    terms: dict[str, Any] = {"@context": CONTEXTS["DEGContract"], "@type": "DEGContract", "roles": roles}
    if offer.policy is not None:
        terms["policy"] = offer.policy.wire()
    return {
        "id": offer.offer_id,
        "descriptor": {"name": f"{offer.source_type.title()} energy from {offer.seller.participant_id}"},
        "resourceIds": [resource_id],
        "validity": {"startDate": iso(offer.created_at), "endDate": iso(block_start(last + 1))},
        "provider": {
            "id": offer.seller.participant_id,
            "providerAttributes": offer.seller.attributes(),
        },
        "offerAttributes": {
            "@context": CONTEXTS["EnergyTradeOffer"],
            "@type": "EnergyTradeOffer",
            "validityWindow": {
                "@type": "beckn:TimePeriod",
                "schema:startTime": iso(offer.created_at),
                "schema:endTime": iso(block_start(first)),
            },
            "contractTerms": terms,
            "inputs": [
                {"role": "seller", "participantId": offer.seller.participant_id, "payload": series},
                {
                    "role": "buyer",
                    "participantId": None,
                    "payloadDescriptors": [
                        {
                            "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                            "payloadType": "REQUESTED_QTY",
                            "units": "KWH",
                        }
                    ],
                },
                {
                    "role": "buyerDiscom",
                    "participantId": None,
                    "payloadDescriptors": _descriptors(
                        ("REPORT_PAYLOAD_DESCRIPTOR", "BUYER_DISCOM_ALLOC", "KWH"),
                        ("REPORT_PAYLOAD_DESCRIPTOR", "BUYER_DISCOM_STATUS", "STRING"),
                    ),
                },
                {
                    "role": "sellerDiscom",
                    "participantId": seller_ledger_utility,
                    "payloadDescriptors": _descriptors(
                        ("REPORT_PAYLOAD_DESCRIPTOR", "SELLER_DISCOM_ALLOC", "KWH"),
                        ("REPORT_PAYLOAD_DESCRIPTOR", "SELLER_DISCOM_STATUS", "STRING"),
                    ),
                },
            ],
        },
    }, {
        "id": resource_id,
        "descriptor": {"name": f"{offer.source_type.title()} energy, 15-minute blocks"},
        "resourceAttributes": {
            "@context": CONTEXTS["EnergyResource"],
            "@type": "EnergyResource",
            "sourceType": offer.source_type,
            "meterId": offer.seller.meter_id,
        },
    }


def build_catalog(
    platform_id: str, platform_uri: str, offers: Iterable[CatalogOffer], name: str
) -> dict[str, Any]:
    wire_offers, resources = [], []
    for offer in offers:
        if not any(b.available_wh > 0 for b in offer.blocks):
            continue
        o, r = offer_wire(offer, offer.seller.utility_id)
        wire_offers.append(o)
        resources.append(r)
    return {
        "id": f"p2p-{platform_id}",
        "descriptor": {"name": name, "shortDesc": "P2P energy offers in 15-minute blocks"},
        "bppId": platform_id,
        "bppUri": platform_uri,
        "provider": {"id": platform_id, "descriptor": {"name": name}},
        "resources": resources,
        "offers": wire_offers,
    }


def _offer_series(offer: Mapping[str, Any]) -> dict[str, Any] | None:
    attrs = offer.get("offerAttributes") or {}
    for entry in attrs.get("inputs") or []:
        if isinstance(entry, dict) and entry.get("role") in ("seller", "sellerPlatform"):
            payload = entry.get("payload")
            if isinstance(payload, dict):
                return payload
            inner = (entry.get("inputs") or {}).get("offerTimeseries")
            if isinstance(inner, dict):
                return inner
    series = attrs.get("commitmentAttributes")
    return series if isinstance(series, dict) else None


def offers_from_catalogs(catalogs: Iterable[Mapping[str, Any]]) -> tuple[list[CatalogOffer], list[str]]:
    """The EnergyTradeOffers in discovered catalogues; malformed offers are skipped and reported."""
    found: list[CatalogOffer] = []
    problems: list[str] = []
    for catalog in catalogs:
        resources = {r.get("id"): r for r in catalog.get("resources") or [] if isinstance(r, dict)}
        for offer in catalog.get("offers") or []:
            try:
                attrs = offer.get("offerAttributes") or {}
                if attrs.get("@type") != "EnergyTradeOffer":
                    continue
                series = _offer_series(offer)
                columns = read_series(series, types=("PRICE_PER_KWH", "AVAILABLE_QTY")) if series else {}
                prices, available = columns.get("PRICE_PER_KWH", {}), columns.get("AVAILABLE_QTY", {})
                provider = offer.get("provider") or {}
                pattrs = provider.get("providerAttributes") or {}
                res = resources.get((offer.get("resourceIds") or [None])[0]) or {}
                rattrs = res.get("resourceAttributes") or {}
                seller = Customer(
                    participant_id=str(provider.get("id") or ""),
                    platform_id=str(pattrs.get("platformId") or catalog.get("bppId") or ""),
                    meter_id=str(pattrs.get("meterId") or rattrs.get("meterId") or ""),
                    customer_id=str(pattrs.get("utilityCustomerId") or ""),
                    utility_id=str(pattrs.get("utilityId") or ""),
                    platform_url=str(pattrs.get("platformUrl") or catalog.get("bppUri") or ""),
                )
                policy_raw = (attrs.get("contractTerms") or {}).get("policy") or {}
                found.append(
                    CatalogOffer(
                        offer_id=str(offer["id"]),
                        seller=seller,
                        source_type=str(rattrs.get("sourceType") or rattrs.get("type") or "SOLAR"),
                        created_at=parse_time(
                            (offer.get("validity") or {}).get("startDate"), "validity.startDate"
                        ),
                        blocks=tuple(
                            OfferBlock(b, int(prices[b]), int(available[b]))
                            for b in sorted(available)
                            if b in prices
                        ),
                        policy=PolicyRef(
                            str(policy_raw.get("url", "")),
                            str(policy_raw.get("queryPath", "")),
                            str(policy_raw.get("bundle", "")),
                            str(policy_raw.get("version", "")),
                            str(policy_raw.get("hash", "")),
                        )
                        if policy_raw
                        else None,
                        bpp_id=str(catalog.get("bppId") or ""),
                        bpp_uri=str(catalog.get("bppUri") or ""),
                    )
                )
            except (SchemaValidationFailed, KeyError, TypeError, ValueError) as exc:
                problems.append(f"offer {offer.get('id') if isinstance(offer, dict) else '?'}: {exc}")
    return found, problems


def market_offers(offers: Iterable[CatalogOffer], *, not_before: Block) -> list[Offer]:
    """The engine's per-block offers (ids `bpp|offer|block`), only blocks from `not_before` on."""
    out = []
    for o in offers:
        try:
            source = SourceType(o.source_type)
        except ValueError:
            continue
        for b in o.blocks:
            if b.block >= not_before and b.available_wh > 0:
                out.append(
                    Offer(
                        f"{o.bpp_id}|{o.offer_id}|{b.block}",
                        o.seller.participant_id,
                        o.bpp_id,
                        b.block,
                        b.available_wh,
                        b.price_paise_per_kwh,
                        source,
                        o.created_at,
                    )
                )
    return out
