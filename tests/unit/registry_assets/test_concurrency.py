"""Two writers changing the same entity at once: no update is ever lost.

On PostgreSQL the second writer waits on the row lock (SELECT … FOR UPDATE) and then builds on the first
writer's version. SQLite has no row locks: the second writer waits for the database lock, and when its
version number is taken it fails with ASSET_CONCURRENT_CHANGE instead of overwriting.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ies.registry import assets as A
from ies.registry.assets.errors import ConcurrentChange, VersionMismatch

from ._network import Net


def _race(
    engine: Engine, entity_id: str, first_change: dict[str, Any], second_change: dict[str, Any]
) -> object:
    """Run two updates of one entity, the second starting while the first is uncommitted; its result."""
    outcome: list[object] = []
    with Session(engine) as first:
        A.update_entity(first, entity_id, actor="first", **first_change)

        def second_writer() -> None:
            try:
                with Session(engine) as second, second.begin():
                    outcome.append(A.update_entity(second, entity_id, actor="second", **second_change))
            except Exception as exc:
                outcome.append(exc)

        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive() and not outcome  # waiting for the first writer, not racing past it
        first.commit()
        thread.join(timeout=15)
    assert len(outcome) == 1
    return outcome[0]


def test_concurrent_updates_never_lose_a_change(engine: Engine, net: Net) -> None:
    result = _race(engine, net.dt, {"attributes": {"make": "Kirloskar"}}, {"attributes": {"model": "K-250"}})
    with Session(engine) as s:
        final = A.get_entity(s, net.dt)
        writers = [v.changed_by for v in A.history(s, net.dt)]
    assert final.attributes["make"] == "Kirloskar"  # the first change always survives
    if engine.dialect.name == "postgresql":
        assert isinstance(result, A.Entity) and result.version == 3
        assert final.attributes["model"] == "K-250" and writers == ["test", "first", "second"]
    else:
        assert isinstance(result, ConcurrentChange) and result.code == "ASSET_CONCURRENT_CHANGE"
        assert "model" not in final.attributes and writers == ["test", "first"]


def test_a_stale_expected_version_loses_the_race(engine: Engine, net: Net) -> None:
    result = _race(
        engine,
        net.dt,
        {"attributes": {"rated_kva": 400}, "expected_version": 1},
        {"attributes": {"rated_kva": 630}, "expected_version": 1},
    )
    assert isinstance(result, VersionMismatch | ConcurrentChange)
    with Session(engine) as s:
        assert A.get_entity(s, net.dt).attributes["rated_kva"] == 400
