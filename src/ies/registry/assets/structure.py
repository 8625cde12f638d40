"""The one structure definition of the asset and entity registry (after pandapower's `network_structure`).

Every entity class is listed once in `STRUCTURE`: how its DID is spelled, which class its parent must be,
and which pydantic model validates its attributes. The network hierarchy follows from it:

    discom ← substation ← feeder ← dt ← service-point ← meter | consumer | solar | bess | ev-charger

Each class has exactly one parent class and a parent always sits strictly higher (`level`), so the links
can never form a cycle and a CSV can name a parent by its internal id alone. Lifecycle statuses and the
transitions between them are defined here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ies.errors import UsageError
from ies.registry.assets.attributes import (
    AttributesModel,
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

__all__ = [
    "ALLOWED_TRANSITIONS",
    "STRUCTURE",
    "ClassSpec",
    "EntityClass",
    "Status",
    "describe_structure",
    "parse_entity_class",
    "parse_status",
    "spec_of",
]


class EntityClass(StrEnum):
    """Entity classes; the value is the kebab-case class segment used in asset DIDs."""

    DISCOM = "discom"
    SUBSTATION = "substation"
    FEEDER = "feeder"
    TRANSFORMER = "dt"
    SERVICE_POINT = "service-point"
    METER = "meter"
    CONSUMER = "consumer"
    SOLAR = "solar"
    BATTERY = "bess"
    EV_CHARGER = "ev-charger"


class Status(StrEnum):
    PLANNED = "PLANNED"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DECOMMISSIONED = "DECOMMISSIONED"


ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PLANNED: frozenset({Status.ACTIVE, Status.DECOMMISSIONED}),
    Status.ACTIVE: frozenset({Status.SUSPENDED, Status.DECOMMISSIONED}),
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.DECOMMISSIONED}),
    Status.DECOMMISSIONED: frozenset(),
}
"""Lifecycle: PLANNED → ACTIVE ⇄ SUSPENDED → DECOMMISSIONED (final); a plan can be dropped straight to
DECOMMISSIONED. Setting the status an entity already has is not a transition and is always allowed."""

LIVE_STATUSES = frozenset({Status.ACTIVE, Status.SUSPENDED})
"""Statuses of an entity that is connected to the network and so must have a parent (except a DISCOM)."""


@dataclass(frozen=True)
class ClassSpec:
    entity_class: EntityClass
    label: str
    did_path: tuple[str, ...]
    parent_class: EntityClass | None
    level: int
    attributes: type[AttributesModel]
    description: str


_SPECS = [
    ClassSpec(EntityClass.DISCOM, "DISCOM", (), None, 0, DiscomAttributes,
              "distribution company; its internal id is its did:web host name"),
    ClassSpec(EntityClass.SUBSTATION, "substation", ("assets", "substation"), EntityClass.DISCOM, 1,
              SubstationAttributes, "EHV/HV substation stepping down to feeder voltage"),
    ClassSpec(EntityClass.FEEDER, "feeder", ("assets", "feeder"), EntityClass.SUBSTATION, 2,
              FeederAttributes, "HT feeder leaving a substation"),
    ClassSpec(EntityClass.TRANSFORMER, "distribution transformer", ("assets", "dt"), EntityClass.FEEDER, 3,
              TransformerAttributes, "distribution transformer (DT) on a feeder"),
    ClassSpec(EntityClass.SERVICE_POINT, "service point", ("connections",), EntityClass.TRANSFORMER, 4,
              ServicePointAttributes, "service delivery point (connection) fed by a DT"),
    ClassSpec(EntityClass.METER, "meter", ("assets", "meter"), EntityClass.SERVICE_POINT, 5,
              MeterAttributes, "energy meter at a service point; internal id is its serial number"),
    ClassSpec(EntityClass.CONSUMER, "consumer", ("consumers",), EntityClass.SERVICE_POINT, 5,
              ConsumerAttributes, "consumer billed at a service point; internal id is the consumer number"),
    ClassSpec(EntityClass.SOLAR, "solar PV", ("assets", "solar"), EntityClass.SERVICE_POINT, 5,
              SolarAttributes, "rooftop or ground-mounted solar PV behind a service point"),
    ClassSpec(EntityClass.BATTERY, "battery", ("assets", "bess"), EntityClass.SERVICE_POINT, 5,
              BatteryAttributes, "battery energy storage system behind a service point"),
    ClassSpec(EntityClass.EV_CHARGER, "EV charger", ("assets", "ev-charger"), EntityClass.SERVICE_POINT, 5,
              EVChargerAttributes, "electric-vehicle charger behind a service point"),
]  # fmt: skip

STRUCTURE: dict[EntityClass, ClassSpec] = {spec.entity_class: spec for spec in _SPECS}

_ALIASES = {
    "distribution-transformer": EntityClass.TRANSFORMER,
    "transformer": EntityClass.TRANSFORMER,
    "battery": EntityClass.BATTERY,
    "service_point": EntityClass.SERVICE_POINT,
    "ev_charger": EntityClass.EV_CHARGER,
}


def parse_entity_class(value: str) -> EntityClass:
    """Accept a class name as written in CSVs and URLs (`dt`, `transformer`, `battery`, `ev_charger`…)."""
    key = value.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return EntityClass(key)
    except ValueError:
        valid = ", ".join(c.value for c in EntityClass)
        raise UsageError(f"unknown entity class {value!r}; expected one of {valid}") from None


def parse_status(value: str) -> Status:
    try:
        return Status(value.strip().upper())
    except ValueError:
        valid = ", ".join(s.value for s in Status)
        raise UsageError(f"unknown status {value!r}; expected one of {valid}") from None


def spec_of(entity_class: EntityClass | str) -> ClassSpec:
    return STRUCTURE[parse_entity_class(entity_class)]


def describe_structure() -> list[dict[str, Any]]:
    """Every class with its parent, DID pattern and attribute columns (name, type, required, description)."""
    out: list[dict[str, Any]] = []
    for spec in _SPECS:
        columns = []
        for name, field in spec.attributes.model_fields.items():
            columns.append(
                {
                    "name": name,
                    "required": field.is_required(),
                    "type": _type_name(field.annotation),
                    "description": field.description or "",
                }
            )
        pattern = "did:web:<discom>" + "".join(f":{seg}" for seg in spec.did_path)
        out.append(
            {
                "class": spec.entity_class.value,
                "label": spec.label,
                "parent_class": spec.parent_class.value if spec.parent_class else None,
                "did_pattern": pattern + (":<id>" if spec.did_path else ""),
                "description": spec.description,
                "attributes": columns,
            }
        )
    return out


def _type_name(annotation: Any) -> str:
    """A short type name for documentation: int, float, str, bool, date or enum (Optional unwrapped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_name(get_args(annotation)[0])
    if origin in (Union, UnionType):
        names = [_type_name(a) for a in get_args(annotation) if a is not type(None)]
        return names[0] if len(names) == 1 else " | ".join(names)
    if origin is Literal or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return "enum"
    return getattr(annotation, "__name__", str(annotation))
