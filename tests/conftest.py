"""Shared fixtures.

`db_url` runs a storage test once on SQLite and, when IES_TEST_POSTGRES_URL is set (e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/test`, as `.ci/run` sets it), once more on that PostgreSQL,
each time in a fresh database (a temporary file, or a private schema that is dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ies.store import migrate, open_engine, sqlite_url_for

POSTGRES_URL = os.environ.get("IES_TEST_POSTGRES_URL", "")

DB_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=DB_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, on each configured backend."""
    if request.param == "sqlite":
        yield sqlite_url_for(tmp_path / "ies.db")
        return
    if not POSTGRES_URL:
        pytest.skip("IES_TEST_POSTGRES_URL not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = open_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on each configured backend."""
    eng = open_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()
