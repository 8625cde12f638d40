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
"""

from ies.policy.anonymise import (
    Reading,
    Release,
    anonymised_load_profiles,
    assert_k_anonymous,
    feeder_aggregates,
)
from ies.policy.bundle import BundleSource, build_bundle, pack_bundle, read_source
from ies.policy.catalogue import Criticality, DataCatalogue, DatasetDecl, TaxonomyClass, default_catalogue
from ies.policy.decision import (
    ConsentCheck,
    CredentialCheck,
    Decision,
    DecisionAudit,
    DecisionPoint,
    RegistryRoleCredential,
)
from ies.policy.engine import CompiledPolicy
from ies.policy.manifest import BundleRef, Manifest
from ies.policy.metrics import NodeMetrics, instrument_router, metrics_router
from ies.policy.open_data import OpenDataPublisher, verify_release
from ies.policy.operational import find_commands, operational_app, operational_exchange
from ies.policy.serving import DataRequest, DataSource, data_requests, install_data_serving, policy_hook
from ies.policy.store import BundleStore
from ies.policy.trust import BundleTrust
from ies.policy.verify import VerifiedBundle, load_bundle, peek_manifest

__all__ = [
    "BundleRef",
    "BundleSource",
    "BundleStore",
    "BundleTrust",
    "CompiledPolicy",
    "ConsentCheck",
    "CredentialCheck",
    "Criticality",
    "DataCatalogue",
    "DataRequest",
    "DataSource",
    "DatasetDecl",
    "Decision",
    "DecisionAudit",
    "DecisionPoint",
    "Manifest",
    "NodeMetrics",
    "OpenDataPublisher",
    "Reading",
    "RegistryRoleCredential",
    "Release",
    "TaxonomyClass",
    "VerifiedBundle",
    "anonymised_load_profiles",
    "assert_k_anonymous",
    "build_bundle",
    "data_requests",
    "default_catalogue",
    "feeder_aggregates",
    "find_commands",
    "install_data_serving",
    "instrument_router",
    "load_bundle",
    "metrics_router",
    "operational_app",
    "operational_exchange",
    "pack_bundle",
    "peek_manifest",
    "policy_hook",
    "read_source",
    "verify_release",
]
