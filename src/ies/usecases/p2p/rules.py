"""The P2P rules at the edge: the signed Rego bundles (network, regulator, contract) evaluated locally.

Each node installs the bundles its settings name, verified against the publisher keys it trusts
(`ies.policy.BundleStore`: signature and hashes checked, rollbacks refused, every version kept). A check
evaluates the newest bundle for new requests, or the version a contract pinned for a contract already
made, and answers with the bundle's (name, version, hash) — which the caller records with the decision.
A broken rule raises `RuleViolation` with code `POL_P2P_<RULE>` and the rule, message and bundle in its
details, so it reads the same in a NACK, an error callback, the events table and the audit log.

Without bundles configured (unit tests, a node not yet given any) the same rules run from the market
engine's Python reference, and decisions say so (`python-reference`); the demo and the integration
tests always run the signed Rego.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ies.errors import PolicyError, UsageError
from ies.identity.keys import b64decode_strict
from ies.policy import BundleStore, CompiledPolicy
from ies.policy.errors import BundleNotFound, BundleRollback
from ies.usecases.p2p.market import (
    ContractFacts,
    RegulatorSettings,
    TradeRecord,
    TradeRequestFacts,
    Violation,
    contract_policy_input,
    network_policy_input,
    network_policy_violations,
    regulator_input,
    regulator_violations,
)

__all__ = ["PYTHON_REFERENCE", "RuleBook", "RuleViolation"]

PYTHON_REFERENCE = {"name": "python-reference", "version": "", "hash": ""}
#: bundle kind → the Rego package prefix of its entrypoints
PACKAGES = {"network": "deg/network/", "regulator": "ies/p2p/regulator", "contract": "deg/contracts/"}


class RuleViolation(PolicyError):
    """A P2P rule refused the request; `code` is POL_P2P_<RULE>."""

    def __init__(self, violation: Violation, bundle: dict[str, str]):
        super().__init__(
            violation.message,
            code=f"POL_P2P_{violation.rule}",
            details={"rule": violation.rule, "bundle": bundle, **violation.details},
        )
        self.violation = violation
        self.bundle = bundle


def _violations(value: Any) -> list[Violation]:
    if value is None:
        return []
    if isinstance(value, dict) and "violations" in value:
        value = value["violations"]
    if not isinstance(value, list | tuple | set):
        raise PolicyError(f"the policy answered {type(value).__name__}, not a list of violations")
    out = []
    for item in value:
        if isinstance(item, dict):
            out.append(
                Violation(
                    str(item.get("rule")), str(item.get("message", "")), dict(item.get("details") or {})
                )
            )
    return sorted(out, key=lambda v: (v.rule, repr(sorted(v.details.items()))))


class RuleBook:
    def __init__(self, engine: Engine, bundles: Iterable[str], trusted_keys: Iterable[str]):
        self.store = BundleStore(engine)
        self.trusted_keys = [
            b64decode_strict(k, what="policy_trusted_keys", lengths=(32,)) for k in trusted_keys
        ]
        for path in bundles:
            if not Path(path).is_file():
                raise UsageError(f"policy bundle {path} does not exist")
            with contextlib.suppress(BundleRollback):  # this version (or a newer one) is already installed
                self.store.install(path, self.trusted_keys)
        self._read_regulator_settings()

    def install(self, archive: bytes) -> dict[str, str]:
        """Install a new signed version of a P2P bundle while the node runs (a policy change).

        Verified against the trusted publisher keys like the configured bundles; a version already
        installed with other content, or a revision not newer than the installed one, is refused
        (POL_BUNDLE_ROLLBACK). New requests are decided under the newest version from now on; contracts
        already made keep, and are settled under, the version they pinned.
        """
        policy = self.store.install(archive, self.trusted_keys)
        kinds = [k for k, prefix in PACKAGES.items() if any(e.startswith(prefix) for e in policy.entrypoints)]
        if not kinds:
            raise UsageError(f"bundle {policy.ref.name} holds none of the P2P rule sets")
        self._read_regulator_settings()
        return {**policy.ref.to_dict(), "kind": kinds[0]}

    def _read_regulator_settings(self) -> None:
        self.regulator_settings = RegulatorSettings()
        regulator = self._latest("regulator")
        if regulator is not None:
            data = regulator.bundle.data.get("settings") or {}
            self.regulator_settings = RegulatorSettings(
                max_traded_percent_of_sanctioned_load=int(
                    data.get("max_traded_percent_of_sanctioned_load", 500)
                ),
                gate_closure_blocks=int(data.get("gate_closure_blocks", 8)),
            )

    # -- bundles -------------------------------------------------------------------------------------
    def _latest(self, kind: str) -> CompiledPolicy | None:
        for name in self.store.names():
            policy = self.store.latest(name)
            if any(e.startswith(PACKAGES[kind]) for e in policy.entrypoints):
                return policy
        return None

    def _entrypoint(self, policy: CompiledPolicy, kind: str, suffix: str) -> str:
        for e in sorted(policy.entrypoints):
            if e.startswith(PACKAGES[kind]) and e.endswith(suffix):
                return e
        raise PolicyError(f"bundle {policy.ref.name} has no {kind} entrypoint ending in {suffix!r}")

    def bundle_ref(self, kind: str) -> dict[str, str]:
        policy = self._latest(kind)
        return policy.ref.to_dict() if policy else dict(PYTHON_REFERENCE)

    def pinned(self, kind: str, name: str, version: str, bundle_hash: str) -> CompiledPolicy | None:
        if not name or name == PYTHON_REFERENCE["name"]:
            return None
        try:
            return self.store.get(name, version or None, bundle_hash or None)
        except BundleNotFound:
            raise PolicyError(
                f"the contract was made under policy {name} {version}, which this node does not hold",
                code="POL_P2P_POLICY_VERSION_UNKNOWN",
            ) from None

    # -- checks --------------------------------------------------------------------------------------
    def check_network(
        self, facts: ContractFacts, allow_list: Iterable[str], pinned: CompiledPolicy | None = None
    ) -> dict[str, str]:
        """Network rules; `allow_list` is used only by the Python reference (a bundle carries its own)."""
        policy = pinned or self._latest("network")
        allow = list(allow_list)
        if policy is None:
            found = network_policy_violations(facts, allow)
            ref = dict(PYTHON_REFERENCE)
        else:
            found = _violations(
                policy.evaluate(
                    self._entrypoint(policy, "network", "violations"), network_policy_input(facts)
                )
            )
            ref = policy.ref.to_dict()
        if found:
            raise RuleViolation(found[0], ref)
        return ref

    def check_regulator(self, facts: TradeRequestFacts) -> dict[str, str]:
        policy = self._latest("regulator")
        if policy is None:
            found = regulator_violations(facts, self.regulator_settings)
            ref = dict(PYTHON_REFERENCE)
        else:
            doc = regulator_input(facts)
            found = _violations(policy.evaluate(self._entrypoint(policy, "regulator", "violations"), doc))
            ref = policy.ref.to_dict()
        if found:
            raise RuleViolation(found[0], ref)
        return ref

    # -- the contract policy -------------------------------------------------------------------------
    def contract_charges(self, pinned: CompiledPolicy | None) -> dict[str, dict[str, int]]:
        """Every DISCOM's P2P charges from the contract's policy bundle (empty without a bundle)."""
        if pinned is None:
            return {}
        charges = pinned.bundle.data.get("deg", {}).get("contract_settings", {}).get("p2p_trading", {})
        return {
            str(k): {kk: int(vv) for kk, vv in v.items()} for k, v in (charges.get("charges") or {}).items()
        }

    def contract_net_by_role(self, pinned: CompiledPolicy, record: TradeRecord) -> dict[str, int]:
        """The contract policy's own answer (Rego) for a trade's net money per role, in paise."""
        entry = self._entrypoint(pinned, "contract", "revenue_flows")
        lines = pinned.evaluate(entry, contract_policy_input(record)) or []
        return {str(line["role"]): int(line["value_paise"]) for line in lines}
