"""Which P2P role a node plays, read from its settings, and the installer for each role."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ies.errors import UsageError

if TYPE_CHECKING:
    from ies.node.app import NodeRuntime

ROLES = ("buyer_tp", "seller_tp", "tp", "ledger", "discom")


def install_role(runtime: NodeRuntime) -> None:
    """Read `settings["p2p"]["role"]` and install that role; an unknown role stops the node at start."""
    settings = runtime.cfg.settings.get("p2p") or {}
    role = settings.get("role")
    if role not in ROLES:
        raise UsageError(f"settings.p2p.role must be one of {', '.join(ROLES)}, got {role!r}")
