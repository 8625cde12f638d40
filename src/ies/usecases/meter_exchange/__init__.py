"""Meter-data exchange under consent: a provider serves IES MeterData only when a live consent covers it.

A node runs this use case in one of two roles, chosen by `settings.meter_exchange.role`:

- `provider` (a DISCOM or AMISP as BPP): answers `confirm` (start a transfer of a MeterDataRequest) and
  `status` (the next page of a transfer) only when an ACTIVE consent, fetched from its consent manager and
  verified, covers the requester, the purpose, every meter, register and date, and the frequency limit;
  pages carry IES MeterData v0.6 minimised to the request; every page served is in the access ledger the
  principal can list (`GET /consent/v1/accesses`). See `ies.usecases.meter_exchange.provider`.
- `consumer` (a BAP): sends `confirm` / `status` with its signed client (or the node's
  `/admin/caller/{action}`); every consent `on_update` its managers send is verified and its newest state
  kept (`GET /consent/v1/notices`, operator token). See `ies.usecases.meter_exchange.consumer`.

Provider settings: `consent_managers` (subscriber ids trusted; default this node if it is a consent
manager), `page_size` (records per page, default 96), `customers` (consumer number → {did, meters,
prosumer}) and `seed` (for the sandbox's synthetic readings).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ies.errors import UsageError
from ies.usecases import declare_usecase

if TYPE_CHECKING:
    from ies.node.runtime import NodeRuntime

__all__ = ["install"]

declare_usecase(
    "consent-based-data-sharing",
    module=__name__,
    status="implemented",
    notes=(
        "consent artefacts with purpose and scope, signed lifecycle at a consent manager, enforcement per "
        "request and per page at the data provider, access records the principal can list"
    ),
)

ROLES = ("provider", "consumer")


def install(runtime: NodeRuntime) -> None:
    """Install this node's meter-exchange role (read from `settings.meter_exchange.role`)."""
    raw = runtime.cfg.settings.get("meter_exchange") or {}
    if not isinstance(raw, dict):
        raise UsageError("settings.meter_exchange must be a table")
    role = raw.get("role", "provider")
    if role not in ROLES:
        raise UsageError(f"settings.meter_exchange.role must be one of {', '.join(ROLES)}, got {role!r}")
    if role == "provider":
        from ies.usecases.meter_exchange.provider import MeterDataProvider, ProviderSettings

        MeterDataProvider(runtime, ProviderSettings.from_node(raw)).install()
    else:
        from ies.usecases.meter_exchange.consumer import install_consumer

        install_consumer(runtime, raw)
