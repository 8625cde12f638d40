"""A small hand-built network shared by the asset registry tests.

Built with the public `create_*` functions at a fixed time `T0`, so "as of" tests can name instants
before, between and after later changes (made at `T0 + n * HOUR`) without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ies.registry import assets as A

T0 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DISCOM = "discom.example"


@dataclass
class Net:
    discom: str
    substation: str
    feeder: str
    dt: str
    dt2: str
    sp: str
    meter: str
    consumer: str
    solar: str


def build_network(s: Session, at: datetime = T0) -> Net:
    """DISCOM → substation → feeder → two DTs; one service point with a meter, a consumer and solar."""
    kw = {"actor": "test", "at": at}
    discom = A.create_entity(s, "discom", DISCOM, attributes={"name": "Example DISCOM"}, **kw)
    ss_attrs = {"primary_voltage_kv": 66, "secondary_voltage_kv": 11}
    ss = A.create_entity(s, "substation", "SS-1", parent=discom, attributes=ss_attrs, **kw)
    feeder = A.create_entity(s, "feeder", "F-1", parent=ss, attributes={"voltage_kv": 11}, **kw)
    dt_attrs = {"rated_kva": 250, "primary_voltage_kv": 11, "secondary_voltage_v": 433}
    dt = A.create_entity(s, "dt", "DT-1", parent=feeder, attributes=dt_attrs, **kw)
    dt2 = A.create_entity(s, "dt", "DT-2", parent=feeder, attributes={**dt_attrs, "rated_kva": 100}, **kw)
    sp_attrs = {"sanctioned_load_w": 5000, "connection_type": "SINGLE_PHASE"}
    sp = A.create_entity(s, "service-point", "SP-1", parent=dt, attributes=sp_attrs, **kw)
    meter = A.create_entity(s, "meter", "M-1", parent=sp, attributes={"meter_type": "AMI"}, **kw)
    consumer = A.create_entity(s, "consumer", "C-1", parent=sp, attributes={"category": "RESIDENTIAL"}, **kw)
    solar = A.create_entity(s, "solar", "PV-1", parent=sp, attributes={"capacity_w": 5000}, **kw)
    return Net(discom, ss, feeder, dt, dt2, sp, meter, consumer, solar)
