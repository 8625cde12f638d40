"""Policy: machine-readable rules as Rego in signed, versioned bundles, and the data policy built on them.

The engine (reusable by every use case):
    build_bundle / read_source    a folder of .rego + data.json + bundle.toml → signed .tar.gz
    load_bundle                   verify signature and hashes, fail closed (POL_BUNDLE_*)
    CompiledPolicy                compile once with regopy, evaluate many
    BundleStore                   every version side by side; newest for new requests, pinned for contracts
The data policy (National Power Sector Data Policy pillars, IES strategy v0.2 §11):
    DataCatalogue / DatasetDecl   taxonomy class, criticality, personal flag, custodian, retention, cadence
    DecisionPoint.decide          entitlement AND consent AND IT/OT → Decision, or a POL_* PolicyError
    policy_hook                   the ExchangeRouter `policy=` hook (refusals become NACKs)
    feeder_aggregates, anonymised_load_profiles   k-anonymous releases with small-cell suppression
    OpenDataPublisher             C0 releases: signed, versioned, chained revision history
    operational_exchange          the OT endpoint: certified interfaces only, never trading platforms
    NodeMetrics                   Prometheus exposition
    install                       wire all of it into a node

Names are imported on first use (PEP 562), so importing `ies.policy.tables` (as `ies.store.models` does
for every command) does not load regopy or FastAPI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BundleRef": "ies.policy.manifest",
    "BundleSource": "ies.policy.bundle",
    "BundleStore": "ies.policy.store",
    "BundleTrust": "ies.policy.trust",
    "CompiledPolicy": "ies.policy.engine",
    "ConsentCheck": "ies.policy.decision",
    "CredentialCheck": "ies.policy.decision",
    "Criticality": "ies.policy.catalogue",
    "DataCatalogue": "ies.policy.catalogue",
    "DataRequest": "ies.policy.serving",
    "DataSource": "ies.policy.serving",
    "DatasetDecl": "ies.policy.catalogue",
    "Decision": "ies.policy.decision",
    "DecisionAudit": "ies.policy.decision",
    "DecisionPoint": "ies.policy.decision",
    "Manifest": "ies.policy.manifest",
    "NodeMetrics": "ies.policy.metrics",
    "OpenDataPublisher": "ies.policy.open_data",
    "Reading": "ies.policy.anonymise",
    "RegistryRoleCredential": "ies.policy.decision",
    "Release": "ies.policy.anonymise",
    "TaxonomyClass": "ies.policy.catalogue",
    "VerifiedBundle": "ies.policy.verify",
    "anonymised_load_profiles": "ies.policy.anonymise",
    "assert_k_anonymous": "ies.policy.anonymise",
    "build_bundle": "ies.policy.bundle",
    "data_requests": "ies.policy.serving",
    "default_catalogue": "ies.policy.catalogue",
    "feeder_aggregates": "ies.policy.anonymise",
    "find_commands": "ies.policy.operational",
    "install": "ies.policy.install",
    "install_data_serving": "ies.policy.serving",
    "instrument_router": "ies.policy.metrics",
    "load_bundle": "ies.policy.verify",
    "metrics_router": "ies.policy.metrics",
    "operational_app": "ies.policy.operational",
    "operational_exchange": "ies.policy.operational",
    "pack_bundle": "ies.policy.bundle",
    "peek_manifest": "ies.policy.verify",
    "policy_hook": "ies.policy.serving",
    "read_source": "ies.policy.bundle",
    "verify_release": "ies.policy.open_data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ies.policy' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
