"""Creating entities: typed `create_<thing>` functions, parent checks, and checked batches."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ies.errors import UsageError
from ies.registry import assets as A
from ies.registry.assets.attributes import BatteryAttributes, MeterAttributes
from ies.registry.assets.errors import (
    EntityExists,
    HierarchyConflict,
    InvalidAttributes,
    ParentNotFound,
    WrongParent,
)
from ies.registry.assets.tables import AssetEntityRow, AssetVersionRow

from ._network import DISCOM, Net


def _count(s: Session, table: type) -> int:
    return s.scalar(select(func.count()).select_from(table)) or 0


def test_typed_creators_return_dids_and_store_validated_attributes(session: Session, net: Net) -> None:
    meter = A.create_meter(
        session, "NM/0042", parent=net.sp, actor="alice",
        attributes=MeterAttributes(meter_type="AMI", energy_direction="BIDIRECTIONAL", phases=3),
    )  # fmt: skip
    battery = A.create_battery(
        session, "BESS-1", parent=net.sp, actor="alice",
        attributes=BatteryAttributes(storage_capacity_wh=10_000, max_charge_w=3000, max_discharge_w=3000),
    )  # fmt: skip
    evc = A.create_ev_charger(
        session, "EVC-1", parent=net.sp, actor="alice", attributes={"max_power_w": 7400}
    )
    session.commit()
    assert meter == f"did:web:{DISCOM}:assets:meter:NM%2F0042"
    got = A.get_entity(session, meter)
    assert got.local_id == "NM/0042" and got.discom == DISCOM and got.parent_id == net.sp
    assert got.attributes == {"meter_type": "AMI", "energy_direction": "BIDIRECTIONAL", "phases": 3}
    assert got.status == "ACTIVE" and got.version == 1 and got.updated_by == "alice"
    assert A.get_entity(session, battery).attributes["storage_capacity_wh"] == 10_000
    assert A.get_entity(session, evc).attributes == {"max_power_w": 7400, "bidirectional": False}


def test_each_class_checks_its_parent_class(session: Session, net: Net) -> None:
    with pytest.raises(WrongParent, match="parent of a meter must be a service point"):
        A.create_meter(session, "M-9", parent=net.dt, actor="t", attributes={"meter_type": "AMI"})
    with pytest.raises(WrongParent, match="parent of a distribution transformer must be a feeder"):
        A.create_transformer(
            session, "DT-9", parent=net.substation, actor="t",
            attributes={"rated_kva": 63, "primary_voltage_kv": 11, "secondary_voltage_v": 433},
        )  # fmt: skip
    with pytest.raises(WrongParent, match="has no parent"):
        A.create_entity(
            session, "discom", "other.example", parent=net.discom, actor="t", attributes={"name": "O"}
        )


def test_parent_must_exist_and_belong_to_the_same_discom(session: Session, net: Net) -> None:
    with pytest.raises(ParentNotFound):
        A.create_consumer(session, "C-9", parent=f"{net.sp}x", actor="t", attributes={"category": "PUBLIC"})
    with pytest.raises(WrongParent, match="belongs to DISCOM"):
        A.create_consumer(
            session,
            "C-9",
            parent=net.sp,
            discom="other.example",
            actor="t",
            attributes={"category": "PUBLIC"},
        )


def test_duplicate_ids_conflict_and_nothing_is_written(session: Session, net: Net) -> None:
    before = _count(session, AssetVersionRow)
    with pytest.raises(EntityExists):
        A.create_meter(session, "M-1", parent=net.sp, actor="t", attributes={"meter_type": "AMR"})
    assert _count(session, AssetVersionRow) == before


def test_a_live_entity_needs_a_live_parent(session: Session, net: Net) -> None:
    with pytest.raises(HierarchyConflict, match="needs a parent service point"):
        A.create_meter(
            session, "M-2", parent=None, discom=DISCOM, actor="t", attributes={"meter_type": "AMI"}
        )
    stock = A.create_meter(
        session,
        "M-2",
        parent=None,
        discom=DISCOM,
        status="PLANNED",
        actor="t",
        attributes={"meter_type": "AMI"},
    )
    assert A.get_entity(session, stock).parent_id is None
    planned_sp = A.create_service_point(
        session, "SP-9", parent=net.dt, status="PLANNED", actor="t",
        attributes={"sanctioned_load_w": 3000, "connection_type": "SINGLE_PHASE"},
    )  # fmt: skip
    with pytest.raises(HierarchyConflict, match="which is PLANNED"):
        A.create_meter(session, "M-3", parent=planned_sp, actor="t", attributes={"meter_type": "AMI"})
    A.create_meter(
        session, "M-3", parent=planned_sp, status="PLANNED", actor="t", attributes={"meter_type": "AMI"}
    )


def test_discom_or_parent_is_required(session: Session) -> None:
    with pytest.raises(UsageError, match="which DISCOM"):
        A.create_meter(
            session, "M-1", parent=None, status="PLANNED", actor="t", attributes={"meter_type": "AMI"}
        )
    with pytest.raises(UsageError, match="actor"):
        A.create_entity(session, "discom", DISCOM, attributes={"name": "D"}, actor=" ")


def _batch() -> list[A.NewEntity]:
    def item(cls: str, local_id: str, parent: str | None, **attrs: object) -> A.NewEntity:
        return A.NewEntity(entity_class=cls, local_id=local_id, parent=parent, attributes=attrs)

    d = "did:web:grid.example"
    return [  # children first: the batch must sort them
        item("meter", "M-1", f"{d}:connections:SP-1", meter_type="AMI"),
        item(
            "service-point",
            "SP-1",
            f"{d}:assets:dt:DT-1",
            sanctioned_load_w=2000,
            connection_type="SINGLE_PHASE",
        ),
        item(
            "dt",
            "DT-1",
            f"{d}:assets:feeder:F-1",
            rated_kva=25,
            primary_voltage_kv=11,
            secondary_voltage_v=433,
        ),
        item("feeder", "F-1", f"{d}:assets:substation:SS-1", voltage_kv=11),
        item("substation", "SS-1", d, primary_voltage_kv=33, secondary_voltage_kv=11),
        item("discom", "grid.example", None, name="Grid"),
    ]


def test_batch_resolves_parents_given_later_and_returns_ids_in_input_order(session: Session) -> None:
    dids = A.create_entities(session, _batch(), actor="batch")
    session.commit()
    assert dids[0] == "did:web:grid.example:assets:meter:M-1" and dids[-1] == "did:web:grid.example"
    assert [e.id for e in A.ancestors(session, dids[0])] == dids[1:]


BAD_ITEMS: list[tuple[int, dict[str, object], type[Exception]]] = [
    (2, {"attributes": {"rated_kva": 0}}, InvalidAttributes),
    (1, {"parent": "did:web:grid.example:assets:dt:NOPE"}, ParentNotFound),
    (0, {"parent": "did:web:grid.example:assets:feeder:F-1"}, WrongParent),
    (0, {"discom": "grid.example", "parent": None}, HierarchyConflict),
]


def test_a_bad_batch_item_is_named_and_nothing_is_written(session: Session) -> None:
    for index, change, error in BAD_ITEMS:  # one database for all: a refused batch writes nothing
        batch = _batch()
        batch[index] = batch[index].model_copy(update=change)
        with pytest.raises(error, match=f"item {index} "):
            A.create_entities(session, batch, actor="batch")
        assert _count(session, AssetEntityRow) == 0
    with pytest.raises(UsageError, match=r"item 6 .*unknown entity class 'gizmo'"):
        A.create_entities(session, [*_batch(), A.NewEntity(entity_class="gizmo", local_id="G-1")], actor="b")
    with pytest.raises(EntityExists, match="item 6 "):
        A.create_entities(session, [*_batch(), _batch()[0]], actor="batch")
    assert _count(session, AssetEntityRow) == 0
