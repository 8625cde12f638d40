"""From a buyer platform's open bids and the offers it discovered to proposals: one per (buyer, offer).

Two market mechanisms, chosen by the platform's `market` setting (or per trading run):

- `bilateral` (default): the market engine's price-time matching (`match_orders`) — each bid takes the
  cheapest acceptable offers first, partial fills across offers and seller platforms, each fill at the
  offer's own price (discriminatory), source-type preferences respected.
- `auction`: the retail local energy exchange — per DISCOM and block, one uniform-price call auction
  (`call_auction`) over this platform's bids from that DISCOM's customers and every offer of that
  DISCOM's sellers; everything cleared trades at the block's single clearing price (at or above every
  accepted offer's price, at or below every accepted bid's limit). The exchange is inside one DISCOM:
  a buyer meets only sellers of its own DISCOM. Source preferences do not apply (the exchange pools
  every source), and a prosumer bidding in a block does not also sell into it.

Either way the proposals are then contracted by the same select → init → confirm path and recorded by
both ledgers; an auctioned contract carries its clearing price as the agreed PRICE_PER_KWH and
`marketMechanism: CALL_AUCTION`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ies.usecases.p2p.catalog import CatalogOffer
from ies.usecases.p2p.market import Bid, Block, Fill, Offer, call_auction, match_orders

__all__ = ["CALL_AUCTION", "Proposal", "auctioned", "matched"]

CALL_AUCTION = "CALL_AUCTION"


@dataclass
class Proposal:
    """What the market gave one buyer against one offer: Wh and agreed price per block, and which of
    the buyer's orders it fills."""

    buyer_id: str
    offer: CatalogOffer
    energy_wh: dict[Block, int] = field(default_factory=dict)
    price: dict[Block, int] = field(default_factory=dict)
    orders: dict[str, dict[Block, int]] = field(default_factory=lambda: defaultdict(dict))
    market: str = ""


def _grouped(fills: Iterable[Fill], by_key: dict[str, CatalogOffer], market: str) -> list[Proposal]:
    grouped: dict[tuple[str, str], Proposal] = {}
    for fill in fills:
        key = fill.offer_id.rsplit("|", 1)[0]
        proposal = grouped.setdefault(
            (fill.buyer_id, key), Proposal(fill.buyer_id, by_key[key], market=market)
        )
        proposal.energy_wh[fill.block] = proposal.energy_wh.get(fill.block, 0) + fill.energy_wh
        proposal.price[fill.block] = fill.price_paise_per_kwh
        proposal.orders[fill.order_id][fill.block] = fill.energy_wh
    return list(grouped.values())


def _keyed(offers: list[CatalogOffer]) -> dict[str, CatalogOffer]:
    return {f"{o.bpp_id}|{o.offer_id}": o for o in offers}


def matched(bids: list[Bid], offers: list[CatalogOffer], book: list[Offer]) -> list[Proposal]:
    """Price-time matching of the bids against the per-block offers `book` (from `market_offers`)."""
    return _grouped(match_orders(bids, book).fills, _keyed(offers), "")


def auctioned(
    bids: list[Bid], offers: list[CatalogOffer], book: list[Offer], buyer_utility: dict[str, str]
) -> tuple[list[Proposal], list[dict[str, Any]]]:
    """One call auction per (DISCOM, block); returns the proposals and each clearing (price, volume)."""
    by_key = _keyed(offers)
    seller_utility = {key: o.seller.utility_id for key, o in by_key.items()}
    bidding = {(b.buyer_id, b.block) for b in bids}
    fills: list[Fill] = []
    clearings: list[dict[str, Any]] = []
    for utility in sorted({buyer_utility[b.buyer_id] for b in bids}):
        local_bids = [b for b in bids if buyer_utility[b.buyer_id] == utility]
        local_offers = [
            o
            for o in book
            if seller_utility[o.offer_id.rsplit("|", 1)[0]] == utility
            and (o.seller_id, o.block) not in bidding
        ]
        for block, result in sorted(call_auction(local_bids, local_offers).items()):
            if result.volume_wh == 0:
                continue
            fills += result.fills
            low, high = result.price_range or (None, None)
            clearings.append(
                {
                    "utility_id": utility,
                    "block": block,
                    "price_paise_per_kwh": result.price_paise_per_kwh,
                    "volume_wh": result.volume_wh,
                    "price_low": low,
                    "price_high": high,
                    "bids": sum(1 for b in local_bids if b.block == block),
                    "offers": sum(1 for o in local_offers if o.block == block),
                }
            )
    return _grouped(fills, by_key, CALL_AUCTION), clearings
