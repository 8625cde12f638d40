"""The `assets` Alembic branch builds exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

import ies.store.models  # noqa: F401  (registers every table module)
from ies.store import Base, current_heads

OURS = {"asset_entities", "asset_versions"}


def _touches_ours(diff: object) -> bool:
    text = repr(diff)
    return any(name in text for name in OURS)


def test_assets_branch_is_applied(engine: Engine) -> None:
    assert "assets_0001" in current_heads(engine)
    assert set(inspect(engine).get_table_names()) >= OURS


def test_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _touches_ours(d)]
    assert diffs == []


def test_indexes_serve_the_hierarchy_and_as_of_queries(engine: Engine) -> None:
    insp = inspect(engine)
    entity_indexes = {tuple(ix["column_names"]) for ix in insp.get_indexes("asset_entities")}
    version_indexes = {tuple(ix["column_names"]) for ix in insp.get_indexes("asset_versions")}
    assert ("parent_id",) in entity_indexes
    assert ("parent_id", "changed_at") in version_indexes
    assert insp.get_pk_constraint("asset_versions")["constrained_columns"] == ["entity_id", "version"]
