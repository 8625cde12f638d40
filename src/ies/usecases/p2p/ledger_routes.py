"""The ledger provider's HTTP routes (`/p2p/ledger/…`): its operator's controls, and its DISCOM's pull.

Operator (bearer token): suspend or resume recording, reload the grid model, run an allocation round,
set the feasibility mode (refuse at init, or curtail ex post) and run the curtailment pass, read a
participant's settlement statement (JSON or CSV).

DISCOM (signed request, `signed_http`): `POST /p2p/ledger/settlements` gives this ledger's own DISCOM —
and no one else, since the answer is its customers' trades — the per-block flows of its meters' settled
trades in a period, from which the DISCOM bills them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from ies._http import error_response
from ies.errors import IESError, UnauthorizedAction, UsageError
from ies.usecases.p2p.base import P2PNode, json_body, require_operator
from ies.usecases.p2p.curtailment import curtail_day
from ies.usecases.p2p.ledger_rounds import run_round
from ies.usecases.p2p.ledger_settlement import settlements_for_billing, statement_rows
from ies.usecases.p2p.market import AllocationRound, statement_csv
from ies.usecases.p2p.signed_http import ReplayGuard, signed_caller

if TYPE_CHECKING:
    from ies.usecases.p2p.ledger import LedgerState

__all__ = ["install_ledger_routes"]

MAX_BILLING_BLOCKS = 96 * 31  # a month of blocks


def _day(body: Any) -> date:
    try:
        return date.fromisoformat(str(body["day"]))
    except (KeyError, TypeError, ValueError):
        raise UsageError("give day (YYYY-MM-DD)") from None


def install_ledger_routes(node: P2PNode, state: LedgerState) -> None:
    router = APIRouter(prefix="/p2p/ledger")
    guard = ReplayGuard()

    @router.post("/recording")
    async def recording(request: Request) -> JSONResponse:
        """Suspend (maintenance) or resume recording; while suspended every forwarded confirmation is
        NACKed, so no platform can proceed with a trade this ledger does not hold."""
        try:
            require_operator(node, request)
            body = await json_body(request)
            state.suspended = bool(body.get("suspended", False))
            with node.transaction() as session:
                node.audit(session, "p2p.ledger.recording", state.utility, {"suspended": state.suspended})
            return JSONResponse({"suspended": state.suspended})
        except IESError as err:
            return error_response(err)

    @router.post("/grid/refresh")
    async def refresh(request: Request) -> JSONResponse:
        """Reload the feeder model from the DISCOM (after onboarding) and prove its envelopes."""
        try:
            require_operator(node, request)
            state.grid = None
            grid = await state.grid_view([])
            return JSONResponse(
                {
                    "feeders": len(grid.feeders),
                    "meters": len(grid.meter_point),
                    "power_flows": grid.power_flows,
                }
            )
        except IESError as err:
            return error_response(err)

    @router.post("/rounds")
    async def rounds(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            try:
                kind = AllocationRound(str(body.get("kind", "FINAL")).upper())
            except ValueError:
                raise UsageError("kind is PROVISIONAL, FINAL or TRUE_UP") from None
            return JSONResponse(await run_round(state, kind, _day(body)))
        except IESError as err:
            return error_response(err)

    @router.post("/feasibility")
    async def feasibility(request: Request) -> JSONResponse:
        """Set how infeasible trades are handled: refused at init, or accepted and curtailed ex post."""
        try:
            require_operator(node, request)
            body = await json_body(request)
            mode = str(body.get("mode", "")).lower()
            if mode not in ("refuse", "curtail"):
                raise UsageError("mode is refuse or curtail")
            state.feasibility = "curtail" if mode == "curtail" else "refuse"
            with node.transaction() as session:
                node.audit(session, "p2p.ledger.feasibility", state.utility, {"mode": mode})
            return JSONResponse({"mode": state.feasibility})
        except IESError as err:
            return error_response(err)

    @router.post("/curtailment")
    async def curtailment(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            return JSONResponse(await curtail_day(state, _day(await json_body(request))))
        except IESError as err:
            return error_response(err)

    @router.get("/statements")
    async def statements(request: Request, participant: str, format: str = "json") -> Any:
        try:
            require_operator(node, request)
            rows = statement_rows(state, participant)
            if format == "csv":
                return PlainTextResponse(statement_csv(rows), media_type="text/csv")
            return JSONResponse(
                {
                    "participant": participant,
                    "rows": [r.as_dict() for r in rows],
                    "total_paise": sum(r.amount_paise for r in rows),
                }
            )
        except IESError as err:
            return error_response(err)

    @router.post("/settlements")
    async def settlements(request: Request) -> JSONResponse:
        try:
            caller = await signed_caller(node, request, guard, role="DISCOM")
            if caller.subscriber_id != node.settings.discom:
                raise UnauthorizedAction(f"only {node.settings.discom} may read this ledger's settlements")
            body = caller.body if isinstance(caller.body, dict) else {}
            try:
                first, last = int(body["first_block"]), int(body["last_block"])
                meters = body.get("meters")
                meters = None if meters is None else [str(m) for m in meters]
            except (KeyError, TypeError, ValueError):
                raise UsageError("give first_block, last_block and optionally meters[]") from None
            if not 0 < last - first <= MAX_BILLING_BLOCKS:
                raise UsageError(f"a billing period is 1…{MAX_BILLING_BLOCKS} blocks")
            answer = settlements_for_billing(state, meters, first, last)
            with node.transaction() as session:
                node.audit(
                    session,
                    "p2p.ledger.settlements_read",
                    caller.subscriber_id,
                    {"first_block": first, "last_block": last, "trades": len(answer["settled"])},
                )
            return JSONResponse(answer)
        except IESError as err:
            return error_response(err)

    node.runtime.routers.append(router)
