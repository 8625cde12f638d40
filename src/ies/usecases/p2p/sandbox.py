"""A P2P network for the sandbox: the signed rule bundles and the node specs of every role.

Why the bundles are built here: in a real network the regulator, the network operator and each DISCOM
sign their own bundles; in the sandbox one generated "regulator" key signs all three (its public key is
what every node is told to trust), and the data the bundles carry — the utility allow-list, the SERC's
cap and gate closure, every DISCOM's charges — is written into their `data.json` before signing, so the
rules and their settings are verified together.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ies.identity.keys import SigningKeyPair
from ies.policy import build_bundle, read_source
from ies.sandbox.network import NetworkSpec, NodeSpec
from ies.usecases.p2p.market import (
    REGO_DIR,
    RegulatorSettings,
    contract_policy_data,
    network_policy_data,
    regulator_policy_data,
)
from ies.usecases.p2p.settings import Charges

__all__ = ["NETWORK_ID", "P2PTopology", "build_bundles", "p2p_spec"]

NETWORK_ID = "indiaenergystack.in/test-ies-p2p-trading-network"
DISCOM_NAMES = ("north", "south")


class P2PTopology:
    """Names and ids of a sandbox P2P network with one or two DISCOMs and two trading platforms."""

    def __init__(self, discoms: int = 2, platforms: int = 2):
        if discoms not in (1, 2) or not 1 <= platforms <= 4:
            raise ValueError("1 or 2 DISCOMs and 1 to 4 platforms")
        self.regions = DISCOM_NAMES[:discoms]
        self.platforms = [f"tp-{i + 1}" for i in range(platforms)]

    @staticmethod
    def sub(name: str) -> str:
        return f"{name}.ies.local"

    @staticmethod
    def utility(region: str) -> str:
        return f"{region.upper()}-DL"

    def discom(self, region: str) -> str:
        return f"discom-{region}"

    def ledger(self, region: str) -> str:
        return f"lp-{region}"

    @property
    def utilities(self) -> list[str]:
        return [self.utility(r) for r in self.regions]


def build_bundles(
    out: Path,
    key: SigningKeyPair,
    *,
    utilities: list[str],
    charges: dict[str, Charges],
    regulator: RegulatorSettings | None = None,
    publisher: str = "regulator.ies.local",
    key_id: str = "regulator-k1",
    kinds: tuple[str, ...] = ("network", "regulator", "contract"),
    version: str | None = None,
    revision: int | None = None,
) -> list[Path]:
    """Sign the network, regulator and contract bundles with their settings; returns their paths.

    `kinds`, `version` and `revision` build a later version of some of them (a policy change)."""
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "network": network_policy_data(utilities),
        "regulator": regulator_policy_data(regulator or RegulatorSettings()),
        "contract": contract_policy_data([c.for_discom(u) for u, c in sorted(charges.items())]),
    }
    paths = []
    for kind, content in data.items():
        if kind not in kinds:
            continue
        source = read_source(REGO_DIR / kind, version=version, revision=revision)
        source = replace(source, files={**source.files, "data.json": json.dumps(content, indent=2).encode()})
        path = out / f"p2p-{kind}-{source.version}.tar.gz"
        path.write_bytes(build_bundle(source, key, publisher=publisher, key_id=key_id))
        paths.append(path)
    return paths


def p2p_spec(
    topology: P2PTopology,
    *,
    bundles: list[Path],
    trusted_key: str,
    charges: dict[str, Charges],
    base_port: int = 18700,
    grid: dict[str, dict[str, Any]] | None = None,
    ledger_overrides: dict[str, dict[str, Any]] | None = None,
    platform_overrides: dict[str, dict[str, Any]] | None = None,
    aggregators: dict[str, str] | None = None,
) -> NetworkSpec:
    """Registry, CDS, the platforms, a ledger and a DISCOM node per region, and the aggregators
    (aggregator name → the platform it trades through), each registered with role AGGREGATOR."""
    sub = topology.sub
    policy = {"policy_bundles": [str(p) for p in bundles], "policy_trusted_keys": [trusted_key]}
    tariffs = {u: c.model_dump() for u, c in charges.items()}
    ledgers = {topology.utility(r): sub(topology.ledger(r)) for r in topology.regions}
    discoms = {topology.utility(r): sub(topology.discom(r)) for r in topology.regions}
    nodes = [
        NodeSpec("registry", ("REGISTRY",)),
        NodeSpec("cds", ("CDS",), usecases=("p2p",), settings={"p2p": {"role": "cds"}}),
    ]
    for name in topology.platforms:
        nodes.append(
            NodeSpec(
                name,
                ("BAP", "BPP"),
                usecases=("p2p",),
                settings={
                    "p2p": {
                        "role": "tp",
                        "ledgers": ledgers,
                        "discoms": discoms,
                        **policy,
                        **(platform_overrides or {}).get(name, {}),
                    }
                },
            )
        )
    for name, platform in (aggregators or {}).items():
        nodes.append(
            NodeSpec(
                name,
                ("AGGREGATOR",),
                usecases=("p2p",),
                settings={"p2p": {"role": "aggregator", "platform": sub(platform), **policy}},
            )
        )
    for region in topology.regions:
        utility = topology.utility(region)
        ledger_settings = {
            "role": "ledger",
            "utility_id": utility,
            "discom": sub(topology.discom(region)),
            "tariffs": tariffs,
            **policy,
            **(ledger_overrides or {}).get(region, {}),
        }
        nodes.append(
            NodeSpec(
                topology.ledger(region), ("LEDGER",), usecases=("p2p",), settings={"p2p": ledger_settings}
            )
        )
        discom_settings = {
            "role": "discom",
            "utility_id": utility,
            "ledger": sub(topology.ledger(region)),
            "tariffs": {utility: tariffs[utility]},
            **policy,
            **(grid or {}).get(region, {}),
        }
        nodes.append(
            NodeSpec(
                topology.discom(region), ("DISCOM",), usecases=("p2p",), settings={"p2p": discom_settings}
            )
        )
    return NetworkSpec(name="p2p", network_id=NETWORK_ID, base_port=base_port, nodes=tuple(nodes))
