"""Changes append versions; any past state, and the hierarchy as it stood, reads back "as of" a time."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.orm import Session

from ies.errors import UsageError
from ies.registry import assets as A
from ies.registry.assets.errors import (
    EntityNotFound,
    HierarchyConflict,
    InvalidAttributes,
    TransitionNotAllowed,
    VersionMismatch,
    WrongParent,
)
from ies.registry.assets.structure import ALLOWED_TRANSITIONS, Status

from ._network import HOUR, T0, Net


def test_an_update_records_who_changed_what_when(session: Session, net: Net) -> None:
    after = A.update_entity(
        session, net.sp, attributes={"sanctioned_load_w": 7000, "pincode": "110001"}, actor="bob",
        reason="load enhancement", at=T0 + HOUR,
    )  # fmt: skip
    session.commit()
    assert after.version == 2 and after.attributes["sanctioned_load_w"] == 7000
    versions = A.history(session, net.sp)
    assert [v.version for v in versions] == [1, 2]
    latest = versions[-1]
    assert (latest.changed_by, latest.changed_at, latest.change, latest.reason) == (
        "bob", T0 + HOUR, "UPDATE", "load enhancement",
    )  # fmt: skip
    assert latest.diff == {
        "attributes.pincode": {"old": None, "new": "110001"},
        "attributes.sanctioned_load_w": {"old": 5000, "new": 7000},
    }
    assert versions[0].change == "CREATE" and versions[0].diff["status"] == {"old": None, "new": "ACTIVE"}


def test_the_same_state_records_no_version(session: Session, net: Net) -> None:
    same = A.update_entity(session, net.meter, attributes={"meter_type": "AMI"}, status="ACTIVE", actor="x")
    assert same.version == 1 and len(A.history(session, net.meter)) == 1


def test_a_null_attribute_removes_it_and_the_result_is_revalidated(session: Session, net: Net) -> None:
    A.update_entity(session, net.sp, attributes={"pincode": "110001"}, actor="x", at=T0 + HOUR)
    assert (
        "pincode" not in A.update_entity(session, net.sp, attributes={"pincode": None}, actor="x").attributes
    )
    with pytest.raises(InvalidAttributes, match="sanctioned_load_w"):
        A.update_entity(session, net.sp, attributes={"sanctioned_load_w": None}, actor="x")


def test_past_states_read_back_as_of_any_time(session: Session, net: Net) -> None:
    A.update_entity(session, net.solar, attributes={"capacity_w": 8000}, actor="x", at=T0 + HOUR)
    A.update_entity(session, net.solar, status="SUSPENDED", actor="y", at=T0 + 2 * HOUR)
    session.commit()
    with pytest.raises(EntityNotFound, match="as of"):
        A.get_entity(session, net.solar, as_of=T0 - HOUR)
    assert A.get_entity(session, net.solar, as_of=T0).attributes["capacity_w"] == 5000
    mid = A.get_entity(session, net.solar, as_of=T0 + HOUR + HOUR / 2)
    assert (mid.attributes["capacity_w"], mid.status, mid.version, mid.updated_by) == (8000, "ACTIVE", 2, "x")
    assert A.get_entity(session, net.solar, as_of="2026-01-01T07:30:00+05:30").version == 3  # 02:00Z
    assert A.get_entity(session, net.solar).status == "SUSPENDED"


def test_the_hierarchy_reads_back_as_of_a_time(session: Session, net: Net) -> None:
    A.update_entity(session, net.sp, parent=net.dt2, actor="ops", reason="rephasing", at=T0 + HOUR)
    session.commit()
    before, after = T0 + HOUR / 2, T0 + 2 * HOUR
    assert [e.id for e in A.children(session, net.dt, as_of=before)] == [net.sp]
    assert A.children(session, net.dt, as_of=after) == [] == A.children(session, net.dt)
    assert [e.id for e in A.children(session, net.dt2)] == [net.sp]
    assert A.ancestors(session, net.meter, as_of=before)[1].id == net.dt
    assert A.ancestors(session, net.meter)[1].id == net.dt2
    then = {n.entity.id: n.depth for n in A.descendants(session, net.feeder, as_of=before)}
    assert then == {net.dt: 1, net.dt2: 1, net.sp: 2, net.meter: 3, net.consumer: 3, net.solar: 3}
    assert [n.entity.id for n in A.descendants(session, net.dt, as_of=before, max_depth=1)] == [net.sp]
    assert A.descendants(session, net.dt) == []


def test_as_of_needs_a_timezone(session: Session, net: Net) -> None:
    with pytest.raises(UsageError, match="no timezone"):
        A.get_entity(session, net.meter, as_of="2026-01-01T00:00:00")
    with pytest.raises(UsageError, match="not ISO 8601"):
        A.children(session, net.sp, as_of="yesterday")


def test_every_lifecycle_transition_is_allowed_or_refused_as_defined(session: Session, net: Net) -> None:
    reach = {Status.PLANNED: [], Status.ACTIVE: ["ACTIVE"], Status.SUSPENDED: ["ACTIVE", "SUSPENDED"],
             Status.DECOMMISSIONED: ["DECOMMISSIONED"]}  # fmt: skip
    for old, new in itertools.product(list(Status), repeat=2):
        entity = A.create_meter(
            session,
            f"M-{old}-{new}",
            parent=net.sp,
            status="PLANNED",
            actor="t",
            attributes={"meter_type": "AMI"},
        )
        for step in reach[old]:
            A.update_entity(session, entity, status=step, actor="t")
        if new is old or new in ALLOWED_TRANSITIONS[old]:
            assert A.update_entity(session, entity, status=new, actor="t").status == new.value
        else:
            with pytest.raises(TransitionNotAllowed, match=f"{old.value} → {new.value} is not allowed"):
                A.update_entity(session, entity, status=new, actor="t")


def test_a_parent_is_decommissioned_only_after_its_children(session: Session, net: Net) -> None:
    with pytest.raises(HierarchyConflict, match="3 child"):
        A.update_entity(session, net.sp, status="DECOMMISSIONED", actor="t")
    for child in (net.meter, net.consumer, net.solar):
        A.update_entity(session, child, status="DECOMMISSIONED", actor="t")
    A.update_entity(session, net.sp, status="DECOMMISSIONED", actor="t")
    with pytest.raises(HierarchyConflict, match="is DECOMMISSIONED"):
        A.create_meter(
            session, "M-9", parent=net.sp, status="PLANNED", actor="t", attributes={"meter_type": "AMI"}
        )


def test_moves_are_checked_like_creations(session: Session, net: Net) -> None:
    with pytest.raises(WrongParent):
        A.update_entity(session, net.meter, parent=net.dt2, actor="t")
    with pytest.raises(HierarchyConflict, match="needs a parent"):
        A.update_entity(session, net.meter, parent=None, actor="t")
    spare = A.update_entity(session, net.meter, parent=None, status="DECOMMISSIONED", actor="t")
    assert spare.parent_id is None and spare.status == "DECOMMISSIONED"


def test_expected_version_guards_against_lost_updates(session: Session, net: Net) -> None:
    A.update_entity(session, net.dt, attributes={"rated_kva": 400}, expected_version=1, actor="a")
    with pytest.raises(VersionMismatch, match="version 2, not 1"):
        A.update_entity(session, net.dt, attributes={"rated_kva": 630}, expected_version=1, actor="b")


def test_history_is_append_only_in_time(session: Session, net: Net) -> None:
    with pytest.raises(VersionMismatch, match="before the last"):
        A.update_entity(session, net.dt, attributes={"rated_kva": 400}, actor="a", at=T0 - HOUR)
    with pytest.raises(EntityNotFound):
        A.history(session, "did:web:discom.example:assets:dt:NOPE")


def test_find_entities_filters_now_and_as_of(session: Session, net: Net) -> None:
    A.update_entity(session, net.solar, status="SUSPENDED", actor="t", at=T0 + HOUR)
    session.commit()
    dts = A.find_entities(session, discom="DISCOM.example", entity_class=A.EntityClass.TRANSFORMER)
    assert [e.local_id for e in dts] == ["DT-1", "DT-2"]
    assert [e.id for e in A.find_entities(session, status=Status.SUSPENDED)] == [net.solar]
    assert A.find_entities(session, status=Status.SUSPENDED, as_of=T0) == []
    assert [e.id for e in A.find_entities(session, local_id="M-1")] == [net.meter]
    assert len(A.find_entities(session, limit=2, offset=8)) == 1
