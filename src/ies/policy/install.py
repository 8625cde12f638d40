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

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from ies.errors import UsageError
from ies.exchange.inbound import ExchangeRouter, InboundMessage
from ies.policy.catalogue import DataCatalogue, default_catalogue, load_catalogue
from ies.policy.decision import DEFAULT_BUNDLE, ConsentCheck, CredentialCheck, DecisionAudit, DecisionPoint
from ies.policy.engine import CompiledPolicy
from ies.policy.errors import BundleNotFound
from ies.policy.http import admin_router, catalogue_router, public_bundles_router
from ies.policy.metrics import HttpMetricsMiddleware, NodeMetrics, instrument_router, metrics_router
from ies.policy.open_data import OpenDataPublisher, open_data_router
from ies.policy.operational import CommandSink, operational_app, operational_exchange, operational_router
from ies.policy.serving import DataSource, install_data_serving, policy_hook
from ies.policy.sources import build_default_bundle, sandbox_sources
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
    listeners: list[asyncio.Task[None]] = field(default_factory=list)

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
    app: FastAPI | None = None,
    *,
    catalogue: DataCatalogue | None = None,
    sources: dict[str, DataSource] | None = None,
    trusted_keys: Iterable[bytes | str] = (),
    consent_check: ConsentCheck | None = None,
    credential: CredentialCheck | None = None,
    command_sink: CommandSink | None = None,
) -> PolicyLayer:
    """Add the policy layer to a node.

    Called while the NodeRuntime is being built (a role installer, `app=None`), its routes go to
    `rt.routers`, which `create_app` mounts; called on a finished app, pass it and they are mounted now.
    Keyword arguments win over the node config's `[node.settings.policy]` table, which may give
    `trusted_keys` (base64 publisher keys), `catalogue_file`, `sources = "sandbox"` and `ot_port` (serve
    the operational endpoint on its own listener as well)."""
    existing = getattr(rt, "policy", None)
    if isinstance(existing, PolicyLayer):  # every node installs the layer once, as it is built
        if app is not None:
            app.state.policy = existing
        return existing
    cfg = rt.cfg
    settings = cfg.settings.get("policy", {}) if isinstance(cfg.settings.get("policy"), dict) else {}
    bundles = BundleStore(rt.engine)
    trust = BundleTrust(key_source=rt.router.verifier.key_source)
    trust.add_key(rt.keys.signing.public_key)
    for key in [*settings.get("trusted_keys", []), *trusted_keys]:
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
    if catalogue is None:
        file = settings.get("catalogue_file")
        catalogue = load_catalogue(cfg.path(str(file))) if file else default_catalogue(cfg.subscriber_id)
    if sources is None and settings.get("sources") == "sandbox":
        sources = sandbox_sources()
    sources = dict(sources or {})
    rt.router.policy = _chain(rt.router.policy, policy_hook(point, catalogue, consent_check=consent_check))
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
    routers = [
        catalogue_router(catalogue, layer.current_bundle),
        open_data_router(publisher),
        public_bundles_router(layer),
        metrics_router(metrics),
        admin_router(layer, rt.admin_token),
        operational_router(ot_router),
    ]
    rt.policy = layer
    if app is None:
        rt.routers.extend(routers)
    else:
        app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
        for router in routers:
            app.include_router(router)
        app.state.policy = layer
    if settings.get("ot_port"):
        rt.startup.append(_operational_listener(layer, cfg.host, int(settings["ot_port"])))
    return layer


PolicyCheck = Callable[[InboundMessage], Awaitable[None]]


def _chain(first: PolicyCheck | None, then: PolicyCheck) -> PolicyCheck:
    """Keep a policy hook installed before ours (e.g. a use case's own checks): both must pass."""
    if first is None:
        return then

    async def both(msg: InboundMessage) -> None:
        await first(msg)
        await then(msg)

    return both


def _operational_listener(layer: PolicyLayer, host: str, port: int) -> Callable[[], Awaitable[None]]:
    """A start-up hook serving the operational endpoint on its own port (IT/OT segmentation: the OT
    listener can be bound to another interface and firewalled apart). uvicorn chains signal handlers:
    on SIGTERM this listener stops first, then re-raises the signal to the node's main server."""

    async def start() -> None:
        import uvicorn

        config = uvicorn.Config(
            operational_app(layer.ot_router), host=host, port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        layer.listeners.append(asyncio.get_running_loop().create_task(server.serve()))

    return start
