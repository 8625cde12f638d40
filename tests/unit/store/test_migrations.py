"""Migrations create exactly the tables the models declare, on every backend, and are idempotent."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

import ies.store.models  # noqa: F401
from ies.store import Base, current_heads, migrate


def test_migrations_match_models_and_rerun_cleanly(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    declared = set(Base.metadata.tables)
    assert declared <= tables, declared - tables
    for name in declared:
        db_cols = {c["name"] for c in inspect(engine).get_columns(name)}
        model_cols = set(Base.metadata.tables[name].columns.keys())
        assert db_cols == model_cols, (name, db_cols ^ model_cols)
    heads = current_heads(engine)
    migrate(engine)
    assert current_heads(engine) == heads
    assert {"registry_0001", "exchange_0001"} <= heads
