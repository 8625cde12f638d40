"""Storage foundation: one SQLAlchemy 2 metadata, engines for SQLite (default) and PostgreSQL, migrations.

Why this shape: every building block and use case owns its own tables, but they all live in the node's
one database so that an action and its audit line commit in the same transaction. Tables are declared on
`Base`; schema changes ship as Alembic revisions under `ies/store/migrations/versions/`, one branch per
building block (`branch_labels=("registry",)` …), so blocks evolve independently and `migrate()` applies
every head.
"""

from ies.store._engine import Base, open_engine, session_factory, sqlite_url_for
from ies.store._migrate import current_heads, migrate
from ies.store._types import UTCDateTime, utcnow

__all__ = [
    "Base",
    "UTCDateTime",
    "current_heads",
    "migrate",
    "open_engine",
    "session_factory",
    "sqlite_url_for",
    "utcnow",
]
