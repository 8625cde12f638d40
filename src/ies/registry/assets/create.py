"""`create_<thing>(session, id, …) -> DID` for every class, and `create_entities` for batches.

Why typed singulars: `create_meter(s, "NM-1", parent=sp, attributes=MeterAttributes(...))` reads like
the domain and lets a type checker catch a battery's attributes passed for a meter. They all funnel into
`changes.create_entity`, the one write path. `create_entities` checks every reference in the batch first
(parents in the registry or earlier in the batch, right classes, no duplicates) and writes nothing when
one is wrong, after pandapower's `create_*s` helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ies.errors import IESError, UsageError
from ies.registry.assets._identifiers import entity_did, validate_discom_host
from ies.registry.assets.attributes import (
    BatteryAttributes,
    ConsumerAttributes,
    DiscomAttributes,
    EVChargerAttributes,
    FeederAttributes,
    MeterAttributes,
    ServicePointAttributes,
    SolarAttributes,
    SubstationAttributes,
    TransformerAttributes,
)
from ies.registry.assets.changes import create_entity, hierarchy_problem, validate_attributes
from ies.registry.assets.errors import EntityExists, HierarchyConflict, ParentNotFound, WrongParent
from ies.registry.assets.structure import EntityClass, Status, spec_of
from ies.registry.assets.tables import AssetEntityRow

__all__ = [
    "NewEntity",
    "create_battery",
    "create_consumer",
    "create_discom",
    "create_entities",
    "create_ev_charger",
    "create_feeder",
    "create_meter",
    "create_service_point",
    "create_solar",
    "create_substation",
    "create_transformer",
]

Attrs = Mapping[str, Any]


def create_discom(
    session: Session, host: str, *, attributes: DiscomAttributes | Attrs, actor: str,
    status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a DISCOM by its did:web host name (`did:web:<host>`)."""
    return create_entity(session, EntityClass.DISCOM, host, attributes=attributes, status=status, actor=actor,
                         reason=reason)  # fmt: skip


def create_substation(
    session: Session, local_id: str, *, parent: str | None, attributes: SubstationAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a substation under a DISCOM (`parent` is the DISCOM's DID)."""
    return create_entity(session, EntityClass.SUBSTATION, local_id, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_feeder(
    session: Session, local_id: str, *, parent: str | None, attributes: FeederAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a feeder leaving a substation (`parent` is the substation's DID)."""
    return create_entity(session, EntityClass.FEEDER, local_id, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_transformer(
    session: Session, local_id: str, *, parent: str | None, attributes: TransformerAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a distribution transformer on a feeder (`parent` is the feeder's DID)."""
    return create_entity(session, EntityClass.TRANSFORMER, local_id, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_service_point(
    session: Session, local_id: str, *, parent: str | None, attributes: ServicePointAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a service point (connection) fed by a distribution transformer."""
    return create_entity(session, EntityClass.SERVICE_POINT, local_id, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_meter(
    session: Session, serial: str, *, parent: str | None, attributes: MeterAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a meter by serial number at a service point (`parent=None` for one in stock, PLANNED)."""
    return create_entity(session, EntityClass.METER, serial, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_consumer(
    session: Session, consumer_no: str, *, parent: str | None, attributes: ConsumerAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a consumer by consumer number, billed at a service point."""
    return create_entity(session, EntityClass.CONSUMER, consumer_no, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_solar(
    session: Session, local_id: str, *, parent: str | None, attributes: SolarAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a solar PV system behind a service point."""
    return create_entity(session, EntityClass.SOLAR, local_id, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_battery(
    session: Session, local_id: str, *, parent: str | None, attributes: BatteryAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register a battery energy storage system behind a service point."""
    return create_entity(session, EntityClass.BATTERY, local_id, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


def create_ev_charger(
    session: Session, local_id: str, *, parent: str | None, attributes: EVChargerAttributes | Attrs,
    actor: str, discom: str | None = None, status: Status | str = Status.ACTIVE, reason: str | None = None,
) -> str:  # fmt: skip
    """Register an EV charger behind a service point."""
    return create_entity(session, EntityClass.EV_CHARGER, local_id, parent=parent, discom=discom,
                         attributes=attributes, status=status, actor=actor, reason=reason)  # fmt: skip


class NewEntity(BaseModel):
    """One entity to create in a batch (also the body of `POST /assets`)."""

    model_config = ConfigDict(extra="forbid")

    entity_class: str = Field(description="class, e.g. meter, dt, service-point")
    local_id: str = Field(description="the DISCOM's internal id (a DISCOM: its host name)")
    discom: str | None = Field(None, description="owning DISCOM's host; defaults to the parent's")
    parent: str | None = Field(None, description="parent's DID")
    status: Status = Status.ACTIVE
    attributes: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None


class _Planned(BaseModel):
    discom: str
    entity_class: str
    status: Status


def _plan_one(session: Session, item: NewEntity, planned: dict[str, _Planned]) -> tuple[str, _Planned]:
    """Check one item against the registry and the items planned before it."""
    spec = spec_of(item.entity_class)
    validate_attributes(spec.entity_class, item.attributes)
    discom = item.discom
    parent: _Planned | None = None
    if item.parent is not None:
        if spec.parent_class is None:
            raise WrongParent(f"a {spec.label} has no parent in the hierarchy")
        parent = planned.get(item.parent)
        if parent is None:
            row = session.get(AssetEntityRow, item.parent)
            if row is None:
                raise ParentNotFound(f"parent {item.parent} is neither registered nor earlier in this batch")
            parent = _Planned(discom=row.discom, entity_class=row.entity_class, status=Status(row.status))
        if parent.entity_class != spec.parent_class.value:
            raise WrongParent(f"{item.parent} ({parent.entity_class}) cannot be the parent of a {spec.label}")
        if discom is not None and validate_discom_host(discom) != parent.discom:
            raise WrongParent(f"parent {item.parent} belongs to DISCOM {parent.discom}, not {discom}")
        discom = parent.discom
    if spec.entity_class is EntityClass.DISCOM:
        discom = item.local_id
    if discom is None:
        raise UsageError(f"say which DISCOM owns {item.local_id!r}: give discom or a parent")
    problem = hierarchy_problem(spec, item.status, item.parent, parent.status if parent else None)
    if problem:
        raise HierarchyConflict(problem)
    did = entity_did(discom, spec.did_path, item.local_id)
    if did in planned or session.get(AssetEntityRow, did) is not None:
        raise EntityExists(f"{did} already exists")
    return did, _Planned(
        discom=validate_discom_host(discom), entity_class=spec.entity_class.value, status=item.status
    )


def create_entities(session: Session, items: Sequence[NewEntity], *, actor: str) -> list[str]:
    """Create a batch, parents before children whatever the order given; return DIDs in input order.

    Every item is checked before anything is written, so a bad item leaves the session untouched; the
    error names the item by its position in `items`.
    """

    def level(index: int) -> int:
        try:
            return spec_of(items[index].entity_class).level
        except IESError:
            return -1  # checked first, so the unknown class is reported with its index

    order = sorted(range(len(items)), key=level)
    planned: dict[str, _Planned] = {}
    dids: dict[int, str] = {}
    for index in order:
        item = items[index]
        try:
            did, plan = _plan_one(session, item, planned)
        except IESError as exc:
            raise type(exc)(
                f"item {index} ({item.entity_class} {item.local_id}): {exc.message}",
                details={**exc.details, "index": index},
            ) from None
        planned[did] = plan
        dids[index] = did
    for index in order:
        item = items[index]
        create_entity(
            session, item.entity_class, item.local_id, attributes=item.attributes, parent=item.parent,
            discom=item.discom, status=item.status, actor=actor, reason=item.reason,
        )  # fmt: skip
    return [dids[i] for i in range(len(items))]
