"""The Rego sources of the P2P bundles, ready for `ies.policy.bundle.build_bundle` with a network's data.

Each folder under `rego/` is a bundle source (bundle.toml, *.rego, data.json with neutral defaults). A
network, a SERC or a DISCOM publishes its own signed version by replacing data.json with its settings,
made by `network_policy_data`, `regulator_policy_data` or `contract_policy_data`:

    source = policy_source("contract", contract_policy_data(charges, policy), version="2026.04", revision=3)
    archive = build_bundle(source, key, publisher="discom-b.example", key_id="k1")
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ies.errors import UsageError

if TYPE_CHECKING:
    from ies.policy.bundle import BundleSource

__all__ = ["POLICY_ENTRYPOINTS", "REGO_DIR", "policy_source"]

REGO_DIR = Path(__file__).parent / "rego"
"""Bundle sources, one folder per bundle: `network` (data.deg.network.p2p_trading), `regulator`
(data.ies.p2p.regulator), `contract` (data.deg.contracts.p2p_trading)."""

POLICY_ENTRYPOINTS = {
    "network": "deg/network/p2p_trading/decision",
    "regulator": "ies/p2p/regulator/decision",
    "contract": "deg/contracts/p2p_trading/flows",
}
"""The main entrypoint of each bundle: `decision` = {allow, violations}; `flows` = the revenue flow lines."""


def policy_source(
    kind: str, data: dict[str, Any] | None = None, *, version: str | None = None, revision: int | None = None
) -> BundleSource:
    """The bundle source `kind` (network | regulator | contract), with `data` as its data.json."""
    from ies.policy.bundle import read_source  # the policy layer is only needed when building bundles
    from ies.policy.manifest import DATA_FILE

    if kind not in POLICY_ENTRYPOINTS:
        raise UsageError(f"no P2P policy bundle {kind!r}; choose one of {', '.join(POLICY_ENTRYPOINTS)}")
    source = read_source(REGO_DIR / kind, version=version, revision=revision)
    if data is None:
        return source
    files = dict(source.files)
    files[DATA_FILE] = json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"
    return dataclasses.replace(source, files=files)
