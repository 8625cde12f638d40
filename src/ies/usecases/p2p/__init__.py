"""Peer-to-peer energy trading over the IES network (seed §12, DEG wave-2 P2P devkit).

One package plays every P2P role a node can take, chosen per node by `settings["p2p"]["role"]`:
buyer trading platform (BAP), seller trading platform (BPP), Ledger Provider (one per DISCOM), DISCOM
(answers meter-data pulls, signs onboarding records, bills its customers) and aggregator (trades for
its prosumers through a platform). The domain core (units, matching, call
auction, rules, feasibility, allocation, settlement) lives in `ies.usecases.p2p.market` and has no I/O;
this package is the network half: Beckn handlers, HTTP routes, tables and the demo that wires them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ies.usecases import declare_usecase

if TYPE_CHECKING:
    from ies.node.app import NodeRuntime

__all__ = ["install"]

declare_usecase(
    "peer-to-peer-and-local-prosumer-trading-pilots",
    module=__name__,
    status="implemented",
    notes=(
        "trading platforms, ledger providers, DISCOMs and aggregators over the DEG wave-2 wire: "
        "DISCOM-signed eligibility, catalogues and discovery, price-time matching or a uniform-price call "
        "auction per DISCOM, select/init/confirm, signed Rego rules, pandapower feasibility (refused at "
        "init or curtailed ex post), recording in both ledgers, provisional/final/true-up allocation, "
        "settlement with explicit true-up adjustments, DISCOM monthly bills, dispute evidence; "
        "`ies demo p2p`"
    ),
)


def install(runtime: NodeRuntime) -> None:
    """Register this node's P2P role (handlers, routes, start-up hooks) on the runtime it is handed."""
    from ies.usecases.p2p.node import install_role

    install_role(runtime)
