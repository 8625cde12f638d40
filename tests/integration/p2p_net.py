"""Handles on a running P2P sandbox network for the P2P integration tests (a driver, waits, callers)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ies.identity.keys import SigningKeyPair
from ies.usecases.p2p.driver import Driver
from ies.usecases.p2p.sandbox import P2PTopology


class P2PNet:
    def __init__(self, driver: Driver, topo: P2PTopology, bundles: list[Path]):
        self.d = driver
        self.topo = topo
        self.bundles = bundles
        self.records: dict[str, dict[str, Any]] = {}
        self.key: SigningKeyPair | None = None  # the sandbox's bundle-signing ("regulator") key
        self.home: Path | None = None

    def ledger_trades(self) -> dict[str, list[dict[str, Any]]]:
        return {
            self.topo.sub(self.topo.ledger(r)): self.d.trades(self.topo.ledger(r)) for r in self.topo.regions
        }

    def platform_trades(self) -> dict[str, list[dict[str, Any]]]:
        return {self.topo.sub(p): self.d.trades(p) for p in self.topo.platforms}

    def wait_for(self, predicate: Any, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            assert time.monotonic() < deadline, "timed out waiting for the network"
            time.sleep(0.3)

    def caller(
        self, platform: str, action: str, target: str, message: dict[str, Any], txn: str | None = None
    ) -> Any:
        spec = {
            "bpp_id": self.d.node(target).subscriber_id,
            "bpp_uri": self.d.node(target).beckn_url,
            "message": message,
            "timeout_s": 30,
        }
        if txn:
            spec["transaction_id"] = txn
        return self.d.call(platform, "POST", f"/admin/caller/{action}", spec)


def bid_of(who: str, blocks: list[int], wh: int, limit: int = 700) -> dict[str, Any]:
    return {
        "participant_id": who,
        "blocks": [{"block": b, "quantity_wh": wh, "limit_price_paise_per_kwh": limit} for b in blocks],
    }


def start_p2p_net(home: Path, regions: int, **spec: Any) -> P2PNet:
    """Sign the rule bundles with a fresh "regulator" key and start the P2P sandbox network under `home`;
    `spec` goes to `p2p_spec` (base_port, grid, overrides, aggregators). Stop it with `stop_network`."""
    import os

    from ies.sandbox.launcher import start_network
    from ies.usecases.p2p.sandbox import build_bundles, p2p_spec
    from ies.usecases.p2p.settings import Charges

    os.environ["IES_NODE_REGISTRY_CACHE_TTL_S"] = "0.2"
    topo = P2PTopology(regions)
    key = SigningKeyPair.generate()
    charges = {u: Charges.model_validate({}) for u in topo.utilities}
    bundles = build_bundles(home / "bundles", key, utilities=topo.utilities, charges=charges)
    state = start_network(
        p2p_spec(topo, bundles=bundles, trusted_key=key.public_key_b64, charges=charges, **spec), home / "net"
    )
    net = P2PNet(Driver(state), topo, bundles)
    net.key, net.home = key, home
    return net
