"""What a trading platform's book holds: buyers' orders, sellers' offers, and the fills that match them.

Frozen dataclasses with the unit in every field name. They are deliberately transport-free: the network
layer builds them from `EnergyTradeOffer` catalogues and `select` intents (1-hour wire intervals already
split into blocks with `split_hour`) and turns fills back into `select`/`init`/`confirm` messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ies.errors import UsageError
from ies.usecases.p2p.market._units import Block, PaisePerKWh, Wh

__all__ = ["Bid", "Fill", "Offer", "SourceType", "check_book"]

MAX_PRICE_PAISE_PER_KWH = 1_000_000
"""10 000 INR/kWh: far above any tariff; a bound that keeps every product of quantity and price in int64."""
MAX_QUANTITY_WH = 10_000_000_000
"""10 GWh in one order: far above any prosumer; same reason."""


class SourceType(StrEnum):
    """Where an offer's energy comes from (DEG `EnergyResource.sourceType`)."""

    SOLAR = "SOLAR"
    WIND = "WIND"
    BATTERY = "BATTERY"
    HYBRID = "HYBRID"
    RENEWABLE = "RENEWABLE"
    GRID = "GRID"


@dataclass(frozen=True, slots=True)
class Offer:
    """A seller's offer of `quantity_wh` in one block at `price_paise_per_kwh` (a sell limit).

    Time priority is `submitted_at`, then `offer_id` (so equal timestamps still order deterministically).
    """

    offer_id: str
    seller_id: str
    seller_platform_id: str
    block: Block
    quantity_wh: Wh
    price_paise_per_kwh: PaisePerKWh
    source_type: SourceType
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class Bid:
    """A buyer's order for up to `quantity_wh` in one block, paying at most `limit_price_paise_per_kwh`.

    `source_types` lists the source types the buyer accepts; empty means any source.
    """

    order_id: str
    buyer_id: str
    buyer_platform_id: str
    block: Block
    quantity_wh: Wh
    limit_price_paise_per_kwh: PaisePerKWh
    submitted_at: datetime
    source_types: frozenset[SourceType] = field(default_factory=frozenset)

    def accepts(self, source: SourceType) -> bool:
        return not self.source_types or source in self.source_types


@dataclass(frozen=True, slots=True)
class Fill:
    """`energy_wh` of offer `offer_id` sold to order `order_id` in `block` at `price_paise_per_kwh`.

    Invariants (checked by the property tests): price ≤ the order's limit and ≥ the offer's price;
    the fills of an order never exceed its quantity, those of an offer never exceed its quantity.
    """

    order_id: str
    offer_id: str
    buyer_id: str
    seller_id: str
    buyer_platform_id: str
    seller_platform_id: str
    block: Block
    energy_wh: Wh
    price_paise_per_kwh: PaisePerKWh
    source_type: SourceType


def check_book(bids: list[Bid], offers: list[Offer]) -> None:
    """Refuse a book the engines cannot clear meaningfully (UsageError naming the first bad entry).

    Quantities must be positive, prices within 0..MAX_PRICE_PAISE_PER_KWH, ids unique per side and
    timestamps timezone-aware.
    """
    seen: set[str] = set()
    for bid in bids:
        _check_entry("order", bid.order_id, bid.quantity_wh, bid.limit_price_paise_per_kwh, bid.submitted_at)
        if bid.order_id in seen:
            raise UsageError(f"order id {bid.order_id!r} appears twice in the book")
        seen.add(bid.order_id)
    seen.clear()
    for offer in offers:
        _check_entry(
            "offer", offer.offer_id, offer.quantity_wh, offer.price_paise_per_kwh, offer.submitted_at
        )
        if offer.offer_id in seen:
            raise UsageError(f"offer id {offer.offer_id!r} appears twice in the book")
        seen.add(offer.offer_id)


def _check_entry(kind: str, entry_id: str, quantity_wh: int, price: int, at: datetime) -> None:
    if not entry_id:
        raise UsageError(f"an {kind} has an empty id")
    if not 0 < quantity_wh <= MAX_QUANTITY_WH:
        raise UsageError(f"{kind} {entry_id!r}: quantity {quantity_wh} Wh is not in 1..{MAX_QUANTITY_WH}")
    if not 0 <= price <= MAX_PRICE_PAISE_PER_KWH:
        raise UsageError(
            f"{kind} {entry_id!r}: price {price} paise/kWh is not in 0..{MAX_PRICE_PAISE_PER_KWH}"
        )
    if at.tzinfo is None or at.utcoffset() is None:
        raise UsageError(f"{kind} {entry_id!r}: submitted_at must be timezone-aware")
