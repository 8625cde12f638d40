"""`ies p2p …`: dispute evidence for a P2P trade, its independent verification, and a DISCOM's bill.

    ies p2p evidence TRADE_ID [--home DIR] [--out FILE]   gather the bundle from a running network
    ies p2p verify-evidence FILE [--json]                   recompute allocation and settlement from it
    ies p2p bill METER --month YYYY-MM [--home DIR] [--json]   the DISCOM's bill of one customer

`evidence` asks every P2P node of the network (its state file under --home, as `ies network up` or
`ies demo p2p --keep` leave it) for its part — the trade as recorded, the signed messages it received,
the DISCOMs' signed meter data, the allocation context and rounds, the pinned policy bundle — and adds the
signers' public keys from the registry. `verify-evidence` trusts none of it: it checks every signature,
re-reads the actuals, re-runs allocation and settlement and compares (true-ups included: each adjustment
must bridge the settlements around it). Exit codes: 0 consistent, 1 inconsistent (each finding listed),
2 unusable input. `bill` asks the network's DISCOM nodes for the customer's bill of the month (traded
volume excluded, P2P charges included); exit 1 when no DISCOM has that meter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ies.cli._common import cli_errors, console, fail, print_json
from ies.errors import UsageError

__all__ = ["register"]

p2p_app = typer.Typer(help="P2P trading: dispute evidence and its verification.", no_args_is_help=True)


def gather(home: Path, contract_id: str) -> dict[str, Any]:
    """Every P2P node's evidence part for the trade, plus the signers' registered keys."""
    from ies.sandbox.network import NetworkState
    from ies.usecases.p2p.driver import Driver

    driver = Driver(NetworkState.load(home), timeout_s=60)
    try:
        return driver.gather_evidence(contract_id)
    finally:
        driver.close()


@p2p_app.command("evidence")
def evidence(
    trade_id: str = typer.Argument(..., help="the contract id of the trade"),
    home: Path = typer.Option(Path(".ies-network"), "--home", help="the running network's folder"),
    out: Path | None = typer.Option(
        None, "--out", help="write the bundle here (default: TRADE_ID.evidence.json)"
    ),
) -> None:
    """Gather the dispute evidence of one trade from every P2P node of a running network."""
    with cli_errors():
        bundle = gather(home, trade_id)
        target = out or Path(f"{trade_id}.evidence.json")
        target.write_text(json.dumps(bundle, indent=1), "utf-8")
        count = sum(len(p["messages"]) for p in bundle["parts"])
        console.print(
            f"wrote {target}: {len(bundle['parts'])} parts, {count} signed messages", highlight=False
        )


@p2p_app.command("verify-evidence")
def verify_evidence(
    file: Path = typer.Argument(..., help="an evidence bundle written by `ies p2p evidence`"),
    as_json: bool = typer.Option(False, "--json", help="print the full report as JSON"),
) -> None:
    """Recompute a trade's allocation and settlement from its evidence alone and compare."""
    from ies.usecases.p2p.dispute import verify_bundle

    with cli_errors():
        try:
            bundle = json.loads(file.read_text("utf-8"))
        except FileNotFoundError:
            raise UsageError(f"{file} does not exist") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"{file} is not a JSON evidence bundle: {exc}") from None
        if not isinstance(bundle, dict):
            raise UsageError(f"{file} is not a JSON evidence bundle")
        report = verify_bundle(bundle)
        if as_json:
            print_json(report.to_dict())
        else:
            console.print(
                f"trade {report.contract_id}: {report.messages_verified} signed messages verified; "
                f"policy {report.policy.get('name')} {report.policy.get('version')}",
                highlight=False,
            )
            for b in report.blocks:
                console.print(
                    f"  block {b['block']}: requested {b['requested_wh']} Wh, buyer {b['buyer_alloc_wh']}, "
                    f"seller {b['seller_alloc_wh']}, FINAL_ALLOC {b['final_alloc_wh']} Wh "
                    f"at {b['price_paise_per_kwh']} paise/kWh",
                    highlight=False,
                )
            for line in report.recomputed_flows:
                console.print(
                    f"  {line['kind']:<18} {line['role']:<15} {line['valuePaise']:>8} paise", highlight=False
                )
            for true_up in report.true_ups:
                state = "bridges" if true_up["bridges_signed_totals"] else "does NOT bridge"
                console.print(
                    f"  true-up {true_up['version']}: {len(true_up['lines'])} adjustment lines, {state} "
                    f"signed settlement {true_up['version'] - 1} → {true_up['version']}",
                    highlight=False,
                )
            for finding in report.findings:
                console.print(f"[red]finding[/red] {finding}", highlight=False)
        if not report.ok:
            raise fail(
                f"the evidence does not support the recorded settlement ({len(report.findings)} findings)"
            )
        if not as_json:
            console.print("consistent: the recorded allocation and settlement follow from the evidence")


@p2p_app.command("bill")
def bill(
    meter: str = typer.Argument(..., help="the customer's meter id"),
    month: str = typer.Option(..., "--month", help="the billing month, YYYY-MM (IST)"),
    home: Path = typer.Option(Path(".ies-network"), "--home", help="the running network's folder"),
    as_json: bool = typer.Option(False, "--json", help="print the bill as JSON"),
) -> None:
    """The DISCOM's monthly bill of one customer: traded volume excluded, P2P charges included."""
    from ies.errors import NotFoundError
    from ies.sandbox.network import NetworkState
    from ies.usecases.p2p.billing import period_of_month
    from ies.usecases.p2p.driver import Driver, DriverError

    with cli_errors():
        period_of_month(month)  # an unusable month is exit 2 before any network call
        driver = Driver(NetworkState.load(home), timeout_s=60)
        try:
            found = None
            for node in driver.state.nodes:
                if "DISCOM" not in node.roles:
                    continue
                try:
                    found = driver.bill(node.name, month, meter)
                    break
                except DriverError as err:
                    if err.code != "NOT_FOUND":
                        raise
        finally:
            driver.close()
        if found is None:
            raise NotFoundError(f"no DISCOM of this network has meter {meter}")
        if "error" in found:
            raise fail(f"the DISCOM could not bill {meter}: {found['error'].get('message')}")
        if as_json:
            print_json(found)
            return
        console.print(
            f"{found['utility_id']} bill for {found['month']}: meter {found['meter_id']} "
            f"({found['participant_id']}), {found['blocks_metered']} metered blocks",
            highlight=False,
        )
        console.print(
            f"  metered import {found['metered_import_wh']} Wh, export {found['metered_export_wh']} Wh; "
            f"traded (excluded) bought {found['traded_import_wh']} Wh, sold {found['traded_export_wh']} Wh",
            highlight=False,
        )
        for line in found["lines"]:
            console.print(
                f"  {line['kind']:<18} {line['energy_wh']:>9} Wh {line['amount_paise']:>10} paise  "
                f"{line['description']}",
                highlight=False,
            )
        console.print(
            f"  total {found['total_paise']} paise (without P2P: {found['without_p2p_total_paise']}; "
            f"settled with others: {found['settled_with_others_paise']}; "
            f"{len(found['trades'])} settled trades, {len(found['unsettled_trades'])} not yet settled)",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(p2p_app, name="p2p")
