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


def test_the_assets_branch_builds_the_tables_the_models_declare(engine: Engine) -> None:
    assert "assets_0001" in current_heads(engine)
    insp = inspect(engine)
    assert set(insp.get_table_names()) >= OURS
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if _touches_ours(d)]
    assert diffs == []
    # the indexes the hierarchy and "as of" queries rely on
    entity_indexes = {tuple(ix["column_names"]) for ix in insp.get_indexes("asset_entities")}
    version_indexes = {tuple(ix["column_names"]) for ix in insp.get_indexes("asset_versions")}
    assert ("parent_id",) in entity_indexes
    assert ("parent_id", "changed_at") in version_indexes
    assert insp.get_pk_constraint("asset_versions")["constrained_columns"] == ["entity_id", "version"]
