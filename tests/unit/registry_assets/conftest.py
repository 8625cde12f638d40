"""Fixtures for the asset registry: a session on each backend and a small network (see `_network`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ._network import Net, build_network


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def net(session: Session) -> Net:
    built = build_network(session)
    session.commit()
    return built
