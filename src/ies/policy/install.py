"""Wiring the policy layer into a running node (`install(runtime, app)`), for the node's owner to call.

What it adds to a node:
- a BundleStore on the node's database; if no `ies-entitlements` bundle is installed yet, the shipped
  default source is signed with the node's own key (its local default, revision 1) and installed;
- the DecisionPoint (audited, counted) as the node router's `policy=` hook, and the data-serving
  handlers for the catalogued datasets (other requests still reach the handlers installed before);
- the operational (OT) ExchangeRouter, mounted at `/ot/beckn/{action}` and servable on its own listener
  with `ies.policy.operational.operational_app(layer.ot_router)`;
- routes: `/catalogue`, `/open-data…`, `/policy/bundles…`, `/metrics`, and the operator's `/admin/policy/…`;
- Prometheus metrics of every inbound message and every decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from ies.errors import UsageError
from ies.exchange.inbound import ExchangeRouter
from ies.policy.catalogue import DataCatalogue, default_catalogue
from ies.policy.decision import DEFAULT_BUNDLE, ConsentCheck, CredentialCheck, DecisionAudit, DecisionPoint
from ies.policy.engine import CompiledPolicy
from ies.policy.errors import BundleNotFound
from ies.policy.http import admin_router, catalogue_router, public_bundles_router
from ies.policy.metrics import HttpMetricsMiddleware, NodeMetrics, instrument_router, metrics_router
from ies.policy.open_data import OpenDataPublisher, open_data_router
from ies.policy.operational import CommandSink, operational_exchange, operational_router
from ies.policy.serving import DataSource, install_data_serving, policy_hook
from ies.policy.sources import build_default_bundle
from ies.policy.store import BundleStore
from ies.policy.trust import BundleTrust
from ies.policy.verify import peek_manifest
from ies.store import session_factory

if TYPE_CHECKING:
    from ies.node.app import NodeRuntime

__all__ = ["PolicyLayer", "install"]


@dataclass
class PolicyLayer:
    runtime: NodeRuntime
    bundles: BundleStore
    trust: BundleTrust
    point: DecisionPoint
    catalogue: DataCatalogue
    sources: dict[str, DataSource]
    metrics: NodeMetrics
    open_data: OpenDataPublisher
    ot_router: ExchangeRouter

    def current_bundle(self) -> dict[str, str] | None:
        try:
            return self.bundles.latest(self.point.bundle_name).ref.to_dict()
        except BundleNotFound:
            return None

    async def install_bundle(self, archive: bytes) -> CompiledPolicy:
        """Verify against the trusted publishers (configured keys, registry regulators), install, audit."""
        from ies.audit import append

        keys = await self.trust.keys_for(peek_manifest(archive))
        before = {v["hash"] for v in self.bundles.versions()}
        policy = self.bundles.install(archive, keys)
        if policy.ref.hash not in before:
            with session_factory(self.runtime.engine).begin() as session:
                append(
                    session,
                    "policy.bundle_install",
                    policy.manifest.publisher.subscriber_id,
                    f"bundle:{policy.ref.name}",
                    {
                        **policy.ref.to_dict(),
                        "revision": policy.manifest.revision,
                        "key_id": policy.manifest.publisher.key_id,
                    },
                )
        return policy

    async def publish_catalogue(self) -> dict[str, Any]:
        """Send the data catalogue (beside the node's trade catalogue, if any) to the CDS."""
        rt = self.runtime
        if not rt.cfg.cds_url:
            raise UsageError("no cds_url configured: nowhere to publish the catalogue")
        catalogs = [self.catalogue.beckn_catalog(rt.cfg.subscriber_id, bundle=self.current_bundle())]
        if rt.catalog is not None:
            catalogs.insert(0, rt.catalog)
        ctx = rt.context_for("catalog/publish", None, None, None)
        ack = await rt.client.send(
            f"{rt.cfg.cds_url.rstrip('/')}/catalog/publish",
            {"context": ctx.wire(), "message": {"catalogs": catalogs}},
        )
        return {"ack": ack.body, "catalogs": [c["id"] for c in catalogs]}

    def publish_open(
        self, dataset_id: str, content: dict[str, Any] | None, *, note: str = ""
    ) -> dict[str, Any]:
        """Publish the next open release; without content, derive it from the source of the personal
        dataset it anonymises, with the policy's k."""
        decl = self.catalogue.get(dataset_id)
        if content is None:
            source = self.sources.get(decl.id)
            if source is None:
                raise UsageError(f"give the release content: no data source for {decl.id}")
            content = source.aggregate(decl, self.open_data.min_k)
        return self.open_data.publish(dataset_id, content, note=note)


def install(
    rt: NodeRuntime,
    app: FastAPI,
    *,
    catalogue: DataCatalogue | None = None,
    sources: dict[str, DataSource] | None = None,
    trusted_keys: Iterable[bytes | str] = (),
    consent_check: ConsentCheck | None = None,
    credential: CredentialCheck | None = None,
    command_sink: CommandSink | None = None,
) -> PolicyLayer:
    """Add the policy layer to a node built by `ies.node.app.create_app` (call before it serves)."""
    cfg = rt.cfg
    bundles = BundleStore(rt.engine)
    trust = BundleTrust(key_source=rt.router.verifier.key_source)
    trust.add_key(rt.keys.signing.public_key)
    for key in trusted_keys:
        trust.add_key(key)
    try:
        bundles.latest(DEFAULT_BUNDLE)
    except BundleNotFound:
        archive = build_default_bundle(rt.keys.signing, publisher=cfg.subscriber_id, key_id=rt.keys.key_id)
        bundles.install(archive, [rt.keys.signing.public_key])
    metrics = NodeMetrics()
    point = DecisionPoint(
        bundles, audit=DecisionAudit(rt.engine), credential=credential, on_decision=metrics.observe_decision
    )
    catalogue = catalogue if catalogue is not None else default_catalogue(cfg.subscriber_id)
    sources = dict(sources or {})
    rt.router.policy = policy_hook(point, catalogue, consent_check=consent_check)
    install_data_serving(rt.router, point, catalogue, sources, consent_check=consent_check)
    instrument_router(rt.router, metrics)
    ot_router = operational_exchange(
        rt.router,
        point,
        catalogue,
        engine=rt.engine,
        sink=command_sink,
        sources=sources,
        consent_check=consent_check,
    )
    instrument_router(ot_router, metrics)
    min_k = bundles.latest(DEFAULT_BUNDLE).query("data.ies.policy.min_k")
    publisher = OpenDataPublisher(
        rt.engine,
        catalogue,
        rt.keys.signing,
        publisher=cfg.subscriber_id,
        key_id=rt.keys.key_id,
        min_k=int(min_k) if isinstance(min_k, int) and min_k >= 2 else 10,
    )
    layer = PolicyLayer(rt, bundles, trust, point, catalogue, sources, metrics, publisher, ot_router)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.include_router(catalogue_router(catalogue, layer.current_bundle))
    app.include_router(open_data_router(publisher))
    app.include_router(public_bundles_router(layer))
    app.include_router(metrics_router(metrics))
    app.include_router(admin_router(layer, rt.admin_token))
    app.include_router(operational_router(ot_router))
    app.state.policy = layer
    return layer
