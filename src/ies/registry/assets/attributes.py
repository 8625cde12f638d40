"""Class-specific attributes of registry entities, one pydantic v2 model per class.

Why models and not free-form dicts: a registry other systems trust must refuse a transformer without a
rating or a battery with a negative capacity at the door, with the field named in the error. Units are
in the names (`capacity_w`, `storage_capacity_wh`, `rated_kva`, `primary_voltage_kv`); power and energy
are integer watts and watt-hours, never floats. Unknown fields are refused (`extra="forbid"`) so a typo
in a CSV header is an error, not a silently dropped column. Every field carries a description; together
with `structure.py` this is the registry's one documented structure.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AttributesModel",
    "BatteryAttributes",
    "ConnectionType",
    "ConsumerAttributes",
    "ConsumerCategory",
    "DiscomAttributes",
    "EVChargerAttributes",
    "EnergyDirection",
    "FeederAttributes",
    "MeterAttributes",
    "MeterType",
    "ServicePointAttributes",
    "SolarAttributes",
    "SubstationAttributes",
    "TransformerAttributes",
]

PositiveW = Annotated[int, Field(gt=0, le=10_000_000_000)]
Voltage_kV = Annotated[float, Field(gt=0, le=1200)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Text = Annotated[str, Field(min_length=1, max_length=200)]


def _one_or_three(value: int) -> int:
    if value not in (1, 3):
        raise ValueError("phases must be 1 or 3")
    return value


Phases = Annotated[int, AfterValidator(_one_or_three)]
"""1 or 3; an int rather than Literal[1, 3] so the CSV cell "3" is accepted like the JSON number 3."""


class ConnectionType(StrEnum):
    SINGLE_PHASE = "SINGLE_PHASE"
    THREE_PHASE = "THREE_PHASE"


class MeterType(StrEnum):
    AMI = "AMI"  # smart meter with two-way communication
    AMR = "AMR"  # remotely read, one-way
    CONVENTIONAL = "CONVENTIONAL"  # read on site


class EnergyDirection(StrEnum):
    IMPORT = "IMPORT"
    EXPORT = "EXPORT"
    BIDIRECTIONAL = "BIDIRECTIONAL"


class ConsumerCategory(StrEnum):
    RESIDENTIAL = "RESIDENTIAL"
    COMMERCIAL = "COMMERCIAL"
    INDUSTRIAL = "INDUSTRIAL"
    AGRICULTURAL = "AGRICULTURAL"
    PUBLIC = "PUBLIC"


class AttributesModel(BaseModel):
    """Base of the per-class models: strict about unknown fields, lax about CSV strings ("5000" -> 5000)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class _Equipment(AttributesModel):
    make: Text | None = Field(None, description="manufacturer")
    model: Text | None = Field(None, description="manufacturer's model name")
    commissioned_on: date | None = Field(None, description="date the equipment entered service")


class DiscomAttributes(AttributesModel):
    name: Text = Field(description="legal name of the distribution company")
    state_code: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166-2:IN code, e.g. DL")
    serc: Text | None = Field(None, description="state electricity regulatory commission, e.g. DERC")


class SubstationAttributes(_Equipment):
    name: Text | None = Field(None, description="operator's name for the substation")
    primary_voltage_kv: Voltage_kV = Field(description="incoming (high-side) voltage in kV, e.g. 66")
    secondary_voltage_kv: Voltage_kV = Field(description="outgoing (feeder) voltage in kV, e.g. 11")
    capacity_kva: PositiveW | None = Field(None, description="installed transformation capacity in kVA")
    latitude_deg: Latitude | None = Field(None, description="WGS 84 latitude in degrees")
    longitude_deg: Longitude | None = Field(None, description="WGS 84 longitude in degrees")

    @model_validator(mode="after")
    def _steps_down(self) -> SubstationAttributes:
        if self.secondary_voltage_kv >= self.primary_voltage_kv:
            raise ValueError("secondary_voltage_kv must be lower than primary_voltage_kv")
        return self


class FeederAttributes(AttributesModel):
    name: Text | None = Field(None, description="operator's name for the feeder")
    voltage_kv: Voltage_kV = Field(description="nominal voltage in kV, e.g. 11")
    feeder_type: Literal["URBAN", "RURAL", "AGRICULTURAL", "INDUSTRIAL", "MIXED"] | None = Field(
        None, description="load served, as DISCOMs classify feeders"
    )


class TransformerAttributes(_Equipment):
    rated_kva: PositiveW = Field(description="nameplate rating in kVA, e.g. 250")
    primary_voltage_kv: Voltage_kV = Field(description="high-side voltage in kV, e.g. 11")
    secondary_voltage_v: Annotated[int, Field(gt=0, le=1000)] = Field(
        description="low-side line voltage in V, e.g. 433"
    )
    phases: Phases = Field(3, description="1 or 3")
    latitude_deg: Latitude | None = Field(None, description="WGS 84 latitude in degrees")
    longitude_deg: Longitude | None = Field(None, description="WGS 84 longitude in degrees")

    @model_validator(mode="after")
    def _steps_down(self) -> TransformerAttributes:
        if self.secondary_voltage_v >= self.primary_voltage_kv * 1000:
            raise ValueError("secondary_voltage_v must be lower than primary_voltage_kv")
        return self


class ServicePointAttributes(AttributesModel):
    sanctioned_load_w: PositiveW = Field(description="sanctioned (contracted) load in W")
    connection_type: ConnectionType = Field(description="SINGLE_PHASE or THREE_PHASE")
    supply_voltage_v: Annotated[int, Field(gt=0, le=1_200_000)] | None = Field(
        None, description="supply voltage in V (230 single-phase LT, 415 three-phase LT, 11000 HT)"
    )
    sanctioned_export_w: PositiveW | None = Field(None, description="export limit in W for prosumers")
    tariff_category_code: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        None, description="tariff category of the connection, e.g. LT1A"
    )
    address: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(None, description="premises")
    pincode: str | None = Field(None, pattern=r"^[1-9][0-9]{5}$", description="six-digit Indian PIN code")
    latitude_deg: Latitude | None = Field(None, description="WGS 84 latitude in degrees")
    longitude_deg: Longitude | None = Field(None, description="WGS 84 longitude in degrees")


class MeterAttributes(_Equipment):
    meter_type: MeterType = Field(description="AMI, AMR or CONVENTIONAL")
    energy_direction: EnergyDirection = Field(
        EnergyDirection.IMPORT, description="IMPORT, EXPORT (generation meter) or BIDIRECTIONAL (net meter)"
    )
    phases: Phases = Field(1, description="1 or 3")
    accuracy_class: Annotated[str, Field(min_length=1, max_length=8)] | None = Field(
        None, description="IS 16444 accuracy class, e.g. 1.0"
    )


class ConsumerAttributes(AttributesModel):
    category: ConsumerCategory = Field(description="consumer category for tariff purposes")
    name: Text | None = Field(None, description="name on the bill")
    tariff_category_code: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        None, description="tariff category billed, e.g. LT1A"
    )


class SolarAttributes(_Equipment):
    capacity_w: PositiveW = Field(description="AC (inverter) capacity in W")
    dc_capacity_w: PositiveW | None = Field(None, description="DC array capacity in W")
    max_export_w: PositiveW | None = Field(None, description="export limit in W")

    @model_validator(mode="after")
    def _export_within_capacity(self) -> SolarAttributes:
        if self.max_export_w is not None and self.max_export_w > self.capacity_w:
            raise ValueError("max_export_w cannot exceed capacity_w")
        return self


class BatteryAttributes(_Equipment):
    storage_capacity_wh: PositiveW = Field(description="usable energy capacity in Wh")
    max_charge_w: PositiveW = Field(description="maximum charging power in W")
    max_discharge_w: PositiveW = Field(description="maximum discharging power in W")
    chemistry: Literal["LITHIUM_ION", "LEAD_ACID", "FLOW", "OTHER"] | None = Field(
        None, description="cell chemistry"
    )


class EVChargerAttributes(_Equipment):
    max_power_w: PositiveW = Field(description="maximum charging power in W")
    connector_type: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        None, description="e.g. Type2, CCS2, Bharat-AC001"
    )
    bidirectional: bool = Field(False, description="true when the charger can discharge (V2G)")
    control_protocol: Literal["OCPP_1.6", "OCPP_2.0.1", "NONE"] | None = Field(
        None, description="remote control protocol"
    )
