"""The DISCOM role: vouches for connections (signed onboarding records), keeps the feeder model in its
asset registry, holds settlement meter data and answers its ledger provider's `status` pulls.

Beckn: `status` from the DISCOM's own LP (and no one else: meter data is personal data; the signer,
already verified by the exchange, must be the LP named in the settings) → `on_status` carrying one
`DatasetItem` whose `dataPayload` is a `BecknTimeSeries` of `ENERGY_CONSUMPTION` per meter (import > 0,
export < 0, kWh), as in the DEG devkit's DISCOM responses. Blocks whose data is late are simply absent,
so the LP knows to allocate provisionally.

Operator routes (`/p2p/discom/…`, bearer token): register connections (creates service point, meter and
PV in the asset registry under a distribution transformer, and returns the signed record), generate a
day of simulated readings (optionally holding some back as "late"), release late data, correct a reading,
and each customer's monthly bill (`billing`: traded volume excluded, P2P charges included).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from ies._http import error_response
from ies.errors import IESError, NotFoundError, SchemaValidationFailed, UnauthorizedAction, UsageError
from ies.exchange.inbound import InboundMessage
from ies.registry.assets import NewEntity, create_entities, find_entities
from ies.registry.assets.structure import EntityClass, spec_of
from ies.store import utcnow
from ies.usecases.p2p.base import P2PNode, json_body, on, require_operator
from ies.usecases.p2p.contract import CONTEXTS
from ies.usecases.p2p.credential import electricity_credential
from ies.usecases.p2p.market import Block, block_at, block_start, blocks_of_day
from ies.usecases.p2p.metering import simulate_day
from ies.usecases.p2p.onboarding import ConnectionFacts, sign_record
from ies.usecases.p2p.tables import ConnectionRow, ReadingRow
from ies.usecases.p2p.timeseries import build_series, iso, parse_time

__all__ = ["install_discom", "meter_payloads", "requested_meters"]

RECORD_VALIDITY = timedelta(days=365)
MAX_CONNECTIONS_PER_CALL = 5000


def _host(node: P2PNode) -> str:
    return node.subscriber_id


def did(host: str, entity_class: EntityClass, local_id: str) -> str:
    """The DID the asset registry gives an entity (ids used here need no %-encoding)."""
    return ":".join(("did:web", host, *spec_of(entity_class).did_path, local_id))


def ensure_grid(node: P2PNode) -> None:
    """Create the DISCOM, one substation, its feeders and transformers in the asset registry if absent."""
    s, host = node.settings, _host(node)
    with node.transaction() as session:
        if find_entities(session, discom=host, entity_class=EntityClass.DISCOM, limit=1):
            return
        items = [
            NewEntity(
                entity_class="discom",
                local_id=host,
                discom=None,
                parent=None,
                attributes={"name": f"{s.utility_id} (sandbox)"},
            ),
            NewEntity(
                entity_class="substation",
                local_id="SS1",
                discom=host,
                parent=f"did:web:{host}",
                attributes={"primary_voltage_kv": 66, "secondary_voltage_kv": 11, "capacity_kva": 10_000},
            ),
        ]
        substation = did(host, EntityClass.SUBSTATION, "SS1")
        for f in range(1, s.feeders + 1):
            items.append(
                NewEntity(
                    entity_class="feeder",
                    local_id=f"F{f}",
                    discom=host,
                    parent=substation,
                    attributes={"voltage_kv": 11},
                )
            )
            for t in range(1, s.transformers_per_feeder + 1):
                items.append(
                    NewEntity(
                        entity_class="dt",
                        local_id=f"F{f}-DT{t}",
                        discom=host,
                        parent=did(host, EntityClass.FEEDER, f"F{f}"),
                        attributes={
                            "rated_kva": s.transformer_kva,
                            "primary_voltage_kv": 11,
                            "secondary_voltage_v": 415,
                            "phases": 3,
                        },
                    )
                )
        create_entities(session, items, actor=node.subscriber_id)


def _transformers(session: Session, host: str) -> list[str]:
    found = find_entities(session, discom=host, entity_class=EntityClass.TRANSFORMER, limit=10_000)
    return sorted(e.id for e in found)


def register_connections(
    node: P2PNode, specs: list[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Register connections; return their signed onboarding records and ElectricityCredentials (in order)."""
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_CONNECTIONS_PER_CALL:
        raise UsageError(f"give connections: a list of 1…{MAX_CONNECTIONS_PER_CALL} objects")
    host, s, now = _host(node), node.settings, utcnow()
    records: list[dict[str, Any]] = []
    credentials: list[dict[str, Any]] = []
    with node.transaction() as session:
        dts = _transformers(session, host)
        taken = {r for (r,) in session.execute(select(ConnectionRow.meter_id))}
        items: list[NewEntity] = []
        rows: list[ConnectionRow] = []
        for i, spec in enumerate(specs):
            try:
                meter = str(spec["meter_id"])
                customer = str(spec["customer_id"])
                load_w = int(spec["sanctioned_load_w"])
                solar_w = int(spec.get("solar_w", 0))
            except (KeyError, TypeError, ValueError):
                raise UsageError(f"connections[{i}] needs meter_id, customer_id, sanctioned_load_w") from None
            if meter in taken or load_w <= 0 or solar_w < 0:
                raise UsageError(f"connections[{i}]: meter {meter} is already registered or values are bad")
            taken.add(meter)
            dt = str(spec.get("transformer") or dts[(len(taken) - 1) % len(dts)])
            if dt not in dts:
                raise UsageError(f"connections[{i}]: unknown transformer {dt}")
            sp = f"SP-{meter}"
            sp_did = did(host, EntityClass.SERVICE_POINT, sp)
            items.append(
                NewEntity(
                    entity_class="service-point",
                    local_id=sp,
                    discom=host,
                    parent=dt,
                    attributes={
                        "sanctioned_load_w": load_w,
                        "connection_type": "SINGLE_PHASE",
                        **({"sanctioned_export_w": solar_w} if solar_w else {}),
                    },
                )
            )
            items.append(
                NewEntity(
                    entity_class="meter",
                    local_id=meter,
                    discom=host,
                    parent=sp_did,
                    attributes={"meter_type": "AMI", "energy_direction": "BIDIRECTIONAL"},
                )
            )
            if solar_w:
                items.append(
                    NewEntity(
                        entity_class="solar",
                        local_id=f"PV-{meter}",
                        discom=host,
                        parent=sp_did,
                        attributes={"capacity_w": solar_w},
                    )
                )
            feeder = dt.split(":dt:")[-1].split("-DT")[0]
            facts = ConnectionFacts(
                issuer=node.subscriber_id,
                utility_id=str(s.utility_id),
                meter_id=meter,
                customer_id=customer,
                sanctioned_load_w=load_w,
                solar_w=solar_w,
                feeder_id=did(host, EntityClass.FEEDER, feeder),
                valid_until=now + RECORD_VALIDITY,
            )
            record = sign_record(
                facts, key=node.runtime.keys.signing, key_id=node.runtime.keys.key_id, issued_at=now
            )
            credentials.append(
                electricity_credential(
                    facts, keys=node.runtime.keys, discom_name=f"{s.utility_id} (sandbox)", issued_at=now
                )
            )
            rows.append(
                ConnectionRow(
                    meter_id=meter,
                    customer_id=customer,
                    utility_id=str(s.utility_id),
                    sanctioned_load_w=load_w,
                    solar_w=solar_w,
                    feeder_id=facts.feeder_id,
                    eligible=True,
                    record=record,
                    issued_at=now,
                )
            )
            records.append(record)
        create_entities(session, items, actor=node.subscriber_id)
        session.add_all(rows)
        node.audit(session, "p2p.onboarding", host, {"connections": len(rows)})
    return records, credentials


def generate_readings(
    node: P2PNode, day: date, late_meters: set[str], late_from_index: int
) -> dict[str, int]:
    """Simulate `day` for every connection; blocks from `late_from_index` of the late meters are held back."""
    with node.transaction() as session:
        connections = session.scalars(select(ConnectionRow)).all()
        held = 0
        for c in connections:
            profile = simulate_day(
                c.meter_id,
                day,
                sanctioned_load_w=c.sanctioned_load_w,
                solar_w=c.solar_w,
                seed=node.settings.meter_seed,
            )
            for index, (block, imp, exp) in enumerate(
                zip(profile.blocks, profile.import_wh, profile.export_wh, strict=True)
            ):
                released = not (c.meter_id in late_meters and index >= late_from_index)
                held += not released
                session.merge(
                    ReadingRow(
                        meter_id=c.meter_id, block=block, import_wh=imp, export_wh=exp, released=released
                    )
                )
        node.audit(session, "p2p.readings", day.isoformat(), {"meters": len(connections), "held_back": held})
    return {"meters": len(connections), "blocks_held_back": held}


# -- the status pull ----------------------------------------------------------------------------------
def requested_meters(contract: dict[str, Any]) -> tuple[list[str], Block, Block]:
    """The meters and [first, last) blocks a DEG meter-data pull asks for."""
    meters: list[str] = []
    window: tuple[Block, Block] | None = None
    for commitment in contract.get("commitments") or []:
        for resource in (commitment or {}).get("resources") or []:
            attrs = (resource or {}).get("resourceAttributes") or {}
            coverage = attrs.get("schema:temporalCoverage")
            if isinstance(coverage, str) and "/" in coverage:
                start, end = coverage.split("/", 1)
                window = (
                    block_at(parse_time(start, "temporalCoverage")),
                    block_at(parse_time(end, "temporalCoverage")),
                )
            payload = attrs.get("dataPayload")
            for series in payload if isinstance(payload, list) else [payload]:
                if isinstance(series, dict) and isinstance(series.get("resourceName"), str):
                    meters.append(series["resourceName"])
    if window is None or not meters or window[1] <= window[0]:
        raise SchemaValidationFailed(
            "a meter-data pull needs a temporalCoverage window and dataPayload meters"
        )
    return meters, window[0], window[1]


def meter_payloads(readings: dict[str, dict[Block, int]], utility_id: str) -> list[dict[str, Any]]:
    """One ENERGY_CONSUMPTION series per meter (only the blocks held)."""
    out = []
    for meter, by_block in sorted(readings.items()):
        if not by_block:
            continue
        series = build_series({"ENERGY_CONSUMPTION": by_block})
        out.append({**series, "resourceName": meter, "clientName": utility_id})
    return out


def answer_pull(node: P2PNode, msg: InboundMessage) -> dict[str, Any]:
    if msg.signature.subscriber_id != node.settings.ledger:
        raise UnauthorizedAction("only this DISCOM's ledger provider may pull its meter data")
    contract = msg.message.get("contract")
    if not isinstance(contract, dict):
        raise SchemaValidationFailed("message.contract is required")
    meters, first, last = requested_meters(contract)
    readings: dict[str, dict[Block, int]] = {m: {} for m in meters}
    with node.sessions() as session:
        rows = session.scalars(
            select(ReadingRow).where(
                ReadingRow.meter_id.in_(meters),
                ReadingRow.block >= first,
                ReadingRow.block < last,
                ReadingRow.released.is_(True),
            )
        )
        for r in rows:
            readings[r.meter_id][r.block] = r.import_wh - r.export_wh
    coverage = f"{iso(block_start(first))}/{iso(block_start(last))}"
    dataset = {
        "@context": CONTEXTS["DatasetItem"],
        "@type": "DatasetItem",
        "schema:identifier": f"actuals-{node.settings.utility_id}-{first}",
        "schema:temporalCoverage": coverage,
        "dataPayload": meter_payloads(readings, str(node.settings.utility_id)),
    }
    return {
        "contract": {
            "id": str(contract.get("id") or "meter-data"),
            "status": {"code": "ACTIVE"},
            "commitments": [
                {
                    "id": "actuals",
                    "status": {"descriptor": {"code": "ACTIVE"}},
                    "resources": [{"id": dataset["schema:identifier"], "resourceAttributes": dataset}],
                    "offer": {"id": "meter-data", "resourceIds": [dataset["schema:identifier"]]},
                }
            ],
        }
    }


def install_discom(node: P2PNode) -> None:
    runtime = node.runtime

    @on(node, "status")
    async def status(msg: InboundMessage) -> dict[str, Any]:
        return answer_pull(node, msg)

    async def start() -> None:
        ensure_grid(node)

    runtime.startup.append(start)
    router = APIRouter(prefix="/p2p/discom")

    @router.post("/connections")
    async def connections(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            records, credentials = register_connections(node, list((body or {}).get("connections") or []))
            return JSONResponse({"records": records, "credentials": credentials})
        except IESError as err:
            return error_response(err)

    @router.post("/readings")
    async def readings(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            try:
                day = date.fromisoformat(str(body["day"]))
                late = {str(m) for m in body.get("late_meters", [])}
                late_from = int(body.get("late_from_index", 96))
            except (KeyError, TypeError, ValueError):
                raise UsageError(
                    "give day (YYYY-MM-DD), and optionally late_meters and late_from_index"
                ) from None
            return JSONResponse(generate_readings(node, day, late, late_from))
        except IESError as err:
            return error_response(err)

    @router.get("/readings")
    async def read(request: Request, day: str) -> JSONResponse:
        """Every meter's readings of an IST day, released or not (the operator's own view)."""
        try:
            require_operator(node, request)
            try:
                blocks = blocks_of_day(date.fromisoformat(day))
            except ValueError:
                raise UsageError("day must be YYYY-MM-DD") from None
            out: dict[str, dict[int, list[int | bool]]] = {}
            with node.sessions() as session:
                query = select(ReadingRow).where(
                    ReadingRow.block >= blocks.start, ReadingRow.block < blocks.stop
                )
                for r in session.scalars(query):
                    out.setdefault(r.meter_id, {})[r.block] = [r.import_wh, r.export_wh, r.released]
            return JSONResponse({"day": day, "meters": out})
        except IESError as err:
            return error_response(err)

    @router.post("/readings/release")
    async def release(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            with node.transaction() as session:
                rows = session.scalars(select(ReadingRow).where(ReadingRow.released.is_(False))).all()
                for r in rows:
                    r.released = True
                node.audit(session, "p2p.readings", "release", {"released": len(rows)})
            return JSONResponse({"released": len(rows)})
        except IESError as err:
            return error_response(err)

    @router.post("/readings/correct")
    async def correct(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            try:
                meter, block = str(body["meter_id"]), int(body["block"])
                imp, exp = int(body["import_wh"]), int(body["export_wh"])
            except (KeyError, TypeError, ValueError):
                raise UsageError("give meter_id, block, import_wh and export_wh") from None
            if imp < 0 or exp < 0:
                raise UsageError("readings are not negative")
            with node.transaction() as session:
                row = session.get(ReadingRow, (meter, block))
                if row is None:
                    raise NotFoundError(f"no reading of {meter} in block {block}")
                before = {"import_wh": row.import_wh, "export_wh": row.export_wh}
                row.import_wh, row.export_wh = imp, exp
                node.audit(
                    session,
                    "p2p.readings",
                    meter,
                    {"block": block, "before": before, "after": {"import_wh": imp, "export_wh": exp}},
                )
            return JSONResponse({"corrected": 1})
        except IESError as err:
            return error_response(err)

    @router.get("/bills")
    async def monthly_bills(request: Request, month: str, meter: str | None = None) -> JSONResponse:
        """The month's bill of every connection (or of one meter), from this DISCOM's meter data and
        its ledger provider's settlements (`ies.usecases.p2p.billing`)."""
        from ies.usecases.p2p.billing import bills

        try:
            require_operator(node, request)
            found = await bills(node, month, meter)
            if meter is not None:
                return JSONResponse(found[0])
            return JSONResponse({"month": month, "bills": found})
        except IESError as err:
            return error_response(err)

    runtime.routers.append(router)
