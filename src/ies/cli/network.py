"""`ies network up|down|status|ping|demo`: a whole IES network on this machine."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ies.cli._common import console, err_console, handles_errors, print_json

network_app = typer.Typer(help="Run a local IES network of separate node processes.", no_args_is_help=True)

HOME = typer.Option(Path(".ies/network"), "--home", help="Folder for node folders, logs and state.json.")


def _table(state: Any) -> Table:
    table = Table(title=f"IES network '{state.name}' ({state.network_id})")
    for col in ("node", "roles", "url", "subscriber id", "key id", "pid", "status"):
        table.add_column(col)
    for n in state.nodes:
        table.add_row(n.name, ",".join(n.roles), n.url, n.subscriber_id, n.key_id, str(n.pid), n.status)
    return table


def _spec(config: Path | None, baps: int, bpps: int) -> Any:
    from ies.sandbox.network import default_spec, load_spec

    return load_spec(config) if config else default_spec(baps=baps, bpps=bpps)


@network_app.command("up")
@handles_errors
def up(
    config: Path = typer.Option(
        None, "--config", help="network.toml (default: registry, CDS, 1 BAP, 1 BPP)."
    ),
    baps: int = typer.Option(1, help="Buyer apps in the default network."),
    bpps: int = typer.Option(1, help="Seller apps in the default network."),
    detach: bool = typer.Option(False, "--detach", "-d", help="Return once all nodes are healthy."),
    home: Path = HOME,
    json_out: bool = typer.Option(False, "--json", help="Print the state as JSON."),
) -> None:
    """Start the registry, the CDS and the nodes; register, approve and wait until all are healthy."""
    from dataclasses import asdict

    from ies.sandbox.launcher import is_alive, start_network, stop_network

    spec = _spec(config, baps, bpps)
    stop = {"now": False}

    def _stop(_sig: int, _frame: Any) -> None:
        stop["now"] = True

    if not detach:  # Ctrl-C during start-up is honoured as soon as start-up has finished
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
    with console.status("starting the network…") as status:
        state = start_network(spec, home, progress=lambda m: status.update(m))
    try:  # from here on, any way out (Ctrl-C included) stops the nodes unless --detach
        if json_out:
            print_json(asdict(state))
        else:
            console.print(_table(state))
            console.print(f"state: {Path(state.home) / 'state.json'}")
        if detach:
            return
        console.print("running — press Ctrl-C to stop")
        while not stop["now"]:
            dead = [n.name for n in state.nodes if not is_alive(n.pid)]
            if dead:
                err_console.print(f"node(s) exited: {', '.join(dead)}; stopping the network")
                break
            time.sleep(0.5)
    finally:
        if not detach:
            stopped = stop_network(state)
            console.print(f"stopped {len(stopped)} node(s)")


@network_app.command("down")
@handles_errors
def down(home: Path = HOME) -> None:
    """Stop every node of the network started from --home."""
    from ies.sandbox.launcher import stop_network
    from ies.sandbox.network import NetworkState

    stopped = stop_network(NetworkState.load(home))
    console.print(f"stopped {len(stopped)} node(s)")


@network_app.command("status")
@handles_errors
def status(home: Path = HOME, json_out: bool = typer.Option(False, "--json")) -> None:
    """Show each node and whether it answers its health check (exit 1 if any does not)."""
    import httpx

    from ies.sandbox.launcher import is_alive
    from ies.sandbox.network import NetworkState

    state = NetworkState.load(home)
    bad = 0
    for n in state.nodes:
        try:
            ok = is_alive(n.pid) and httpx.get(f"{n.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            ok = False
        n.status = "healthy" if ok else "DOWN"
        bad += not ok
    if json_out:
        from dataclasses import asdict

        print_json(asdict(state))
    else:
        console.print(_table(state))
    if bad:
        raise typer.Exit(1)


def _print_trail(steps: list[Any]) -> None:
    for step in steps:
        table = Table(title=f"{step.action} → on_{step.action}  ({step.elapsed_ms:.1f} ms)")
        for col in ("dir", "action", "signer / sender", "to", "messageId", "outcome", "keyId", "digest"):
            table.add_column(col, overflow="fold", no_wrap=col in ("dir", "outcome"))
        for line in step.trail:
            table.add_row(
                line["direction"],
                line["action"],
                line["sender_id"] or "",
                line["receiver"] or "",
                line["message_id"] or "",
                line["outcome"] + (f" {line['error_code']}" if line["error_code"] else ""),
                line["key_id"] or "",
                (line["digest"] or "")[:16] + "…",
            )
        console.print(table)


@network_app.command("ping")
@handles_errors
def ping_cmd(
    home: Path = HOME,
    bap: str = typer.Option(None, help="Which BAP originates (default: the first)."),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds to wait for each callback."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Signed discover → on_discover and select → on_select across processes; print the trail."""
    from dataclasses import asdict

    from ies.sandbox.network import NetworkState
    from ies.sandbox.ping import ping

    steps = ping(NetworkState.load(home), bap=bap, timeout_s=timeout)
    if json_out:
        print_json([asdict(s) for s in steps])
        return
    _print_trail(steps)
    catalogs = steps[0].callback["message"]["catalogs"] if steps[0].callback else []
    contract = steps[1].callback["message"]["contract"] if steps[1].callback else {}
    console.print(
        f"[green]ok[/green]: discovered {len(catalogs)} catalogue(s); contract {contract.get('id')} "
        f"is {contract.get('status')}"
    )


@network_app.command("kpis")
@handles_errors
def kpis(home: Path = HOME, json_out: bool = typer.Option(False, "--json")) -> None:
    """IES KPIs of the running network: signed-interface share, IES-identifier share, audit pass rate."""
    from ies.sandbox.kpis import compute_kpis
    from ies.sandbox.network import NetworkState

    result = compute_kpis(NetworkState.load(home))
    if json_out:
        print_json(result.to_dict())
        return
    table = Table(title="IES network KPIs (strategy §10, §12.6.2)")
    table.add_column("indicator")
    table.add_column("value", justify="right")
    table.add_row(
        "interactions through signed IES interfaces",
        f"{result.share_signed_interfaces:.1%}  ({result.signed_and_verified}/{result.inbound_messages})",
    )
    table.add_row(
        "transactions using IES identifiers",
        f"{result.share_ies_identifiers:.1%}"
        f"  ({result.transactions_with_ies_identifiers}/{result.transactions})",
    )
    table.add_row(
        "audit verification pass rate",
        f"{result.audit_pass_rate:.1%}  ({result.audit_logs_verified}/{result.nodes_audited})",
    )
    for role, count in result.participants_by_role.items():
        table.add_row(f"participants: {role}", str(count))
    for code, count in result.nacks_by_code.items():
        table.add_row(f"refused: {code}", str(count))
    console.print(table)


@network_app.command("demo")
@handles_errors
def demo(home: Path = HOME, baps: int = typer.Option(1), bpps: int = typer.Option(2)) -> None:
    """Bring a network up, run the signed round trips, print the trail, and take it down again."""
    from ies.sandbox.launcher import start_network, stop_network
    from ies.sandbox.ping import ping

    with console.status("starting the network…") as st:
        state = start_network(_spec(None, baps, bpps), home, progress=lambda m: st.update(m))
    try:
        console.print(_table(state))
        steps = ping(state)
        _print_trail(steps)
        console.print("[green]round trips complete[/green]")
    finally:
        stopped = stop_network(state)
        console.print(f"stopped {len(stopped)} node(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(network_app, name="network")
