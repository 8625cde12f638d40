"""Export writes the import format: export → import rebuilds the registry; re-importing changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ies.registry import assets as A
from ies.store import migrate, open_engine, sqlite_url_for

from ._network import HOUR, T0, Net


def _states(s: Session) -> dict[str, tuple[Any, ...]]:
    return {
        e.id: (e.entity_class, e.discom, e.local_id, e.parent_id, e.status, e.attributes)
        for e in A.find_entities(s, limit=10_000)
    }


def test_export_then_import_rebuilds_the_same_registry(session: Session, tmp_path: Path) -> None:
    A.import_csv(session, A.sample_csv_path().read_text(), actor="loader")
    meter = "did:web:ies.discom.example:assets:meter:NM-44090003"
    A.update_entity(session, meter, status="SUSPENDED", attributes={"accuracy_class": "1.0"}, actor="ops")
    session.commit()
    exported = A.export_csv(session)
    fresh = open_engine(sqlite_url_for(tmp_path / "copy.db"))
    migrate(fresh)
    with Session(fresh) as copy:
        report = A.import_csv(copy, exported, actor="copy")
        copy.commit()
        assert report.errors == [] and report.created == 37
        assert _states(copy) == _states(session)
    fresh.dispose()
    again = A.import_csv(session, exported, actor="loader")
    assert (again.unchanged, again.updated, again.created) == (37, 0, 0)


def test_export_as_of_and_per_discom(session: Session, net: Net) -> None:
    A.update_entity(session, net.dt, attributes={"rated_kva": 400}, actor="ops", at=T0 + HOUR)
    A.create_entity(session, "discom", "other.example", attributes={"name": "Other"}, actor="t", at=T0 + HOUR)
    session.commit()
    header, *rows = A.export_csv(session, as_of=T0).splitlines()
    assert header.startswith("class,id,parent,status,discom,")
    assert len(rows) == 9 and rows[0].startswith("discom,discom.example,,ACTIVE,discom.example,")
    dt_then = next(r for r in rows if r.startswith("dt,DT-1,"))
    assert dt_then.startswith("dt,DT-1,F-1,ACTIVE,discom.example,") and ",250," in dt_then
    now = A.export_csv(session, discom="discom.example").splitlines()
    assert len(now) == 10 and ",400," in next(r for r in now if r.startswith("dt,DT-1,"))
    assert "other.example" not in "".join(now)
