"""The one structure definition: every class, its parent, its documented attribute columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from ies.registry.assets import tables
from ies.registry.assets.attributes import TransformerAttributes
from ies.registry.assets.changes import validate_attributes
from ies.registry.assets.errors import InvalidAttributes
from ies.registry.assets.structure import (
    ALLOWED_TRANSITIONS,
    STRUCTURE,
    EntityClass,
    Status,
    describe_structure,
    parse_entity_class,
)


def test_every_class_is_defined_once_with_a_parent_one_level_up() -> None:
    assert set(STRUCTURE) == set(EntityClass)
    for spec in STRUCTURE.values():
        if spec.parent_class is None:
            assert spec.entity_class is EntityClass.DISCOM and spec.level == 0
        else:
            assert STRUCTURE[spec.parent_class].level < spec.level


def test_hierarchy_chain_from_meter_to_discom() -> None:
    chain = [EntityClass.METER]
    while (parent := STRUCTURE[chain[-1]].parent_class) is not None:
        chain.append(parent)
    assert [c.value for c in chain] == ["meter", "service-point", "dt", "feeder", "substation", "discom"]
    for der in (EntityClass.SOLAR, EntityClass.BATTERY, EntityClass.EV_CHARGER, EntityClass.CONSUMER):
        assert STRUCTURE[der].parent_class is EntityClass.SERVICE_POINT


def test_every_attribute_and_column_is_documented() -> None:
    for cls in describe_structure():
        assert cls["description"] and cls["did_pattern"].startswith("did:web:<discom>")
        for column in cls["attributes"]:
            assert column["description"], (cls["class"], column["name"])
    for table in (tables.AssetEntityRow, tables.AssetVersionRow):
        for column in table.__table__.columns:
            assert column.doc, (table.__tablename__, column.name)


def test_power_and_energy_columns_carry_their_unit_in_the_name() -> None:
    units = ("_w", "_wh", "_kva", "_kv", "_v", "_deg")
    numeric = {"int", "float"}
    for cls in describe_structure():
        for column in cls["attributes"]:
            if column["type"] in numeric and column["name"] != "phases":
                assert column["name"].endswith(units), (cls["class"], column["name"])


def test_lifecycle_transitions() -> None:
    assert ALLOWED_TRANSITIONS[Status.DECOMMISSIONED] == frozenset()
    assert Status.ACTIVE in ALLOWED_TRANSITIONS[Status.PLANNED]
    assert Status.PLANNED not in ALLOWED_TRANSITIONS[Status.ACTIVE]
    assert ALLOWED_TRANSITIONS[Status.SUSPENDED] == {Status.ACTIVE, Status.DECOMMISSIONED}


@pytest.mark.parametrize(
    ("alias", "cls"), [("transformer", "dt"), ("Battery", "bess"), ("ev_charger", "ev-charger")]
)
def test_class_aliases(alias: str, cls: str) -> None:
    assert parse_entity_class(alias).value == cls


def test_attributes_are_validated_and_stored_as_json_types() -> None:
    cells = {"rated_kva": "250", "primary_voltage_kv": "11", "secondary_voltage_v": "433"}
    stored = validate_attributes("dt", cells)  # CSV cells are strings
    assert stored == {"rated_kva": 250, "primary_voltage_kv": 11.0, "secondary_voltage_v": 433, "phases": 3}
    assert validate_attributes("dt", TransformerAttributes.model_validate(stored)) == stored


@pytest.mark.parametrize(
    ("cls", "attrs", "field"),
    [
        ("dt", {"primary_voltage_kv": 11, "secondary_voltage_v": 433}, "rated_kva"),
        ("dt", {"rated_kva": 250, "primary_voltage_kv": 0.4, "secondary_voltage_v": 433}, "(attributes)"),
        ("meter", {"meter_type": "AMI", "phases": 2}, "phases"),
        ("meter", {"meter_type": "AMI", "serial": "x"}, "serial"),
        ("bess", {"storage_capacity_wh": -1, "max_charge_w": 1, "max_discharge_w": 1}, "storage_capacity_wh"),
        ("solar", {"capacity_w": 5000, "max_export_w": 6000}, "(attributes)"),
        (
            "service-point",
            {"sanctioned_load_w": "5,000", "connection_type": "THREE_PHASE"},
            "sanctioned_load_w",
        ),
        ("service-point", {"sanctioned_load_w": 1, "connection_type": "1P"}, "connection_type"),
        ("substation", {"primary_voltage_kv": 11, "secondary_voltage_kv": 66}, "(attributes)"),
    ],
)
def test_invalid_attributes_name_the_field(cls: str, attrs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidAttributes) as info:
        validate_attributes(cls, attrs)
    assert field in [e["field"] for e in info.value.details["errors"]]
    assert info.value.code == "ASSET_INVALID_ATTRIBUTES"


def test_attributes_of_another_class_are_refused() -> None:
    with pytest.raises(InvalidAttributes, match="TransformerAttributes given for a meter"):
        validate_attributes(
            "meter", TransformerAttributes(rated_kva=1, primary_voltage_kv=11, secondary_voltage_v=433)
        )


def test_the_documentation_lists_every_class_and_attribute() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "assets.md").read_text(encoding="utf-8")
    for cls in describe_structure():
        assert f"`{cls['class']}`" in doc, cls["class"]
        for column in cls["attributes"]:
            assert f"`{column['name']}`" in doc, (cls["class"], column["name"])
