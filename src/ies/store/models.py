"""Import every module that declares tables, so `Base.metadata` is complete for migrations and tests.

Each building block lists its table module here once; nothing else imports models for side effects.
"""

from __future__ import annotations

import importlib

TABLE_MODULES = [
    "ies.registry.subscriber_tables",
    "ies.registry.assets.tables",
    "ies.exchange.tables",
    "ies.discovery.tables",
    "ies.audit.tables",
    "ies.policy.tables",
    "ies.credentials.tables",
    "ies.consent.tables",
    "ies.usecases.p2p.tables",
]

for _name in TABLE_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a block not yet present in this build
        if exc.name != _name:
            raise
