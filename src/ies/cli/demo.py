"""`ies demo …`: end-to-end demonstrations over a real local network of node processes.

    ies demo p2p [--prosumers N] [--discoms 1|2] [--date YYYY-MM-DD] [--market bilateral|auction] [--out DIR]

Starts registry, CDS, two trading platforms, an aggregator and a ledger provider and a DISCOM per region
as separate processes, trades a day of 15-minute blocks (price-time matching, or with `--market auction`
the retail local energy exchange: a uniform-price call auction per DISCOM and block), delivers,
allocates, settles (with a true-up), has the DISCOMs bill the month, checks the invariants across nodes,
the bills and the audit logs, prints the report and writes CSVs, statements and a PNG chart. Exit 0 when
every check passes, 1 when one does not.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import typer

from ies.cli._common import cli_errors, console, fail
from ies.errors import UsageError

__all__ = ["register"]

demo_app = typer.Typer(
    help="End-to-end demonstrations over a local network of node processes.", no_args_is_help=True
)


@demo_app.command("p2p")
def p2p(
    prosumers: int = typer.Option(
        40, "--prosumers", "-n", help="prosumers (accounts on the trading platforms)"
    ),
    discoms: int = typer.Option(2, "--discoms", help="1 (intra-DISCOM) or 2 (inter-DISCOM as well)"),
    day: str = typer.Option("", "--date", help="IST trading day (default: the day after tomorrow)"),
    out: Path = typer.Option(Path("p2p-demo"), "--out", help="folder for the report, CSVs and chart"),
    base_port: int = typer.Option(18900, "--base-port", help="first port to try for the nodes"),
    seed: int = typer.Option(42, "--seed", help="seed of the generated population and prices"),
    keep: bool = typer.Option(False, "--keep", help="leave the network running (for `ies p2p evidence`)"),
    market: str = typer.Option(
        "bilateral",
        "--market",
        help="bilateral (price-time matching) or auction (uniform-price call auction per DISCOM and block)",
    ),
) -> None:
    """Trade a day of P2P energy among N prosumers on one or two DISCOMs, end to end."""
    from ies.usecases.p2p.demo import run_demo
    from ies.usecases.p2p.demo_report import build_report, render_text, write_outputs
    from ies.usecases.p2p.market import IST

    with cli_errors():
        if discoms not in (1, 2):
            raise UsageError("--discoms is 1 or 2")
        if market not in ("bilateral", "auction"):
            raise UsageError("--market is bilateral or auction")
        if not 2 <= prosumers <= 5000:
            raise UsageError("--prosumers is 2…5000")
        try:
            trading_day = date.fromisoformat(day) if day else (datetime.now(IST) + timedelta(days=2)).date()
        except ValueError:
            raise UsageError(f"--date {day!r} is not YYYY-MM-DD") from None
        if trading_day < (datetime.now(IST) + timedelta(days=1)).date():
            raise UsageError("--date must be tomorrow or later: gate closure is 2 hours before each block")
        with tempfile.TemporaryDirectory(prefix="ies-p2p-demo-") as scratch:
            home = (out / "network-home").resolve() if keep else Path(scratch)
            result = run_demo(
                prosumers,
                discoms,
                trading_day,
                home,
                base_port=base_port,
                seed=seed,
                progress=lambda m: console.print(f"[dim]{m}[/dim]", highlight=False),
                keep=keep,
                market=market,
            )
        report = build_report(result)
        for line in render_text(report):
            console.print(line, highlight=False, markup=False)
        for path in write_outputs(report, result, out):
            console.print(f"wrote {path}", highlight=False)
        if keep:
            network = (out / "network-home" / "network").resolve()
            console.print(
                f"the network is still running: `ies p2p evidence TRADE_ID --home {network}`; "
                f"stop it with `ies network down --home {network}`",
                highlight=False,
            )
        disputes = report["disputes"]
        if (
            not result.checks.ok
            or report["metrics"]["audit_pass_rate"] < 1
            or disputes["consistent"] < disputes["checked"]
            or report["bills"]["reconciled"] < report["bills"]["bills"]
        ):
            raise fail("some checks failed (see above)")


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")
