"""What a running node holds: config, keys, database, message log, signed client, exchange router.

Built once per app (no module-level state, so two nodes in one process never share keys or replay caches).
Building blocks and use cases extend a runtime when it is built: handlers on `runtime.router`, HTTP routes
in `runtime.routers`, start-up hooks in `runtime.startup`.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter

from ies.discovery import CatalogStore
from ies.errors import UsageError
from ies.exchange.context import Context, new_context
from ies.exchange.inbound import ExchangeRouter, InboundMessage, PayloadValidator, basic_envelope_check
from ies.exchange.messagelog import AuditSink, MessageLog
from ies.exchange.outbound import BecknClient
from ies.exchange.verify import Verifier
from ies.identity.did_web import PublishedKey, did_web_for_subscriber
from ies.identity.keys import NodeKeys
from ies.node.config import NodeConfig
from ies.node.roles import _validate_publish, install_bpp_defaults, install_cds, load_catalog
from ies.registry import directory
from ies.registry.client import RegistryClient
from ies.registry.records import KeyRecord, Role
from ies.store import migrate, open_engine, session_factory

__all__ = ["ROLE_INSTALLERS", "NodeRuntime"]

#: Building blocks that bring a role to a node: "module:function", called with the NodeRuntime, which the
#: function extends (handlers on `runtime.router`, routes in `runtime.routers`, hooks in `runtime.startup`).
ROLE_INSTALLERS: dict[Role, str] = {
    Role.ISSUER: "ies.credentials.service:install",
    Role.CONSENT_MANAGER: "ies.consent.service:install",
}


def _audit_sink() -> AuditSink:
    from ies.audit import append_many

    return append_many


class NodeRuntime:
    """Everything a running node holds; built once per app (no module-level state)."""

    def __init__(self, cfg: NodeConfig):
        self.cfg = cfg
        self.keys: NodeKeys = cfg.keys()
        self.pending_keys: NodeKeys | None = None  # during rotation, until the registry accepts them
        self.previous_keys: list[PublishedKey] = []  # published in did.json until their grace ends
        self.did = did_web_for_subscriber(cfg.subscriber_id)
        self.admin_token = cfg.admin_token()
        self.engine = open_engine(cfg.db_url())
        migrate(self.engine)
        self.log = MessageLog(self.engine, _audit_sink(), keep_bodies=cfg.log_bodies)
        self.client = BecknClient(
            subscriber_id=cfg.subscriber_id, key_id=self.keys.key_id, key=self.keys.signing, log=self.log
        )
        self.registry_client: RegistryClient | None = None
        if cfg.has_role(Role.REGISTRY):
            sessions = session_factory(self.engine)

            async def local_keys(subscriber_id: str, key_id: str) -> KeyRecord | None:
                with sessions() as session:
                    return directory.get_key(session, subscriber_id, key_id)

            key_source = local_keys
        else:
            if not cfg.registry_url:
                raise UsageError("a node that is not a registry needs registry_url in its config")
            self.registry_client = RegistryClient(cfg.registry_url, ttl_s=cfg.registry_cache_ttl_s)
            key_source = self.registry_client.get_key
        validators: list[PayloadValidator] = [basic_envelope_check, _validate_publish]
        self.router = ExchangeRouter(
            subscriber_id=cfg.subscriber_id,
            verifier=Verifier(key_source, skew_s=cfg.skew_s),
            log=self.log,
            send_callback=self.send_callback,
            on_callback=self.client.resolve,
            on_refused_callback=self.client.note_refused_callback,
            validators=validators,
        )
        self.catalog: dict[str, Any] | None = None
        self.routers: list[APIRouter] = []  # extra HTTP routes that use cases add
        self.startup: list[Callable[[], Awaitable[None]]] = []  # run once the server is up
        # a consent check (requester, dataset, purpose) -> bool that the consent layer sets when it is
        # installed; the policy layer, installed last, asks it before serving personal data
        self.consent_check: Any = None
        # functions that add to the node's did:web document (e.g. an issuer's P-256 key), applied in order
        self.did_document_extensions: list[Callable[[dict[str, Any]], dict[str, Any]]] = []
        if cfg.has_role(Role.CDS):
            install_cds(self.router, CatalogStore(self.engine))
        if cfg.has_role(Role.BPP):
            self.catalog = load_catalog(
                cfg.path(cfg.catalog_file) if cfg.catalog_file else None, cfg.subscriber_id
            )
            install_bpp_defaults(self.router, self.catalog)
        for role, target in ROLE_INSTALLERS.items():
            if cfg.has_role(role):
                self._call_installer(target)
        for name in cfg.usecases:
            self._install_usecase(name)
        # Last: the policy layer wraps the handlers installed above and chains onto any policy hook.
        from ies.policy.install import install as install_policy

        self.policy = install_policy(self, consent_check=self.consent_check)

    def _call_installer(self, target: str) -> None:
        module_name, _, function = target.partition(":")
        install = getattr(importlib.import_module(module_name), function)
        install(self)

    def _install_usecase(self, name: str) -> None:
        """Load `ies.usecases.<name>` and let it register its handlers, routes and tables on this node.

        Entry points sit above use cases, so the node imports them by name; a use case never imports the
        node module beyond the `NodeRuntime` it is handed.
        """
        if not name.isidentifier():
            raise UsageError(f"use case name {name!r} is not a package name")
        try:
            module = importlib.import_module(f"ies.usecases.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"ies.usecases.{name}"):
                raise UsageError(f"unknown use case {name!r}") from None
            raise
        install = getattr(module, "install", None)
        if install is None:
            raise UsageError(f"use case {name!r} has no install(runtime) function")
        install(self)

    async def send_callback(self, msg: InboundMessage, action: str, answer: dict[str, Any]) -> None:
        ctx = msg.context.wire()
        ctx.update(action=action, bppId=self.cfg.subscriber_id, bppUri=self.cfg.beckn_url)
        ctx["timestamp"] = new_context(action, bap_id="-", bap_uri="-").timestamp
        body: dict[str, Any] = {"context": ctx, "message": {}}
        if "__error__" in answer:
            body["error"] = answer["__error__"]
        else:
            body["message"] = answer
        target = msg.context.bapUri
        if not target:
            return
        await self.client.send(f"{target.rstrip('/')}/{action}", body)

    def context_for(self, action: str, bpp_id: str | None, bpp_uri: str | None, txn: str | None) -> Context:
        ctx = new_context(
            action,
            bap_id=self.cfg.subscriber_id,
            bap_uri=self.cfg.beckn_url,
            bpp_id=bpp_id,
            bpp_uri=bpp_uri,
            network_id=self.cfg.network_id,
            transaction_id=txn,
        )
        if action == "catalog/publish":
            ctx = Context.model_validate(
                {
                    **ctx.wire(),
                    "bapId": None,
                    "bapUri": None,
                    "bppId": self.cfg.subscriber_id,
                    "bppUri": self.cfg.beckn_url,
                }
            )
        return ctx

    async def aclose(self) -> None:
        await self.router.drain()
        await self.client.aclose()
        if self.registry_client is not None:
            await self.registry_client.aclose()
        self.engine.dispose()
