"""The README's path, as a user runs it: `ies network up --detach`, `status`, `ping`, registry operator
commands, `down` — each a real `ies` process driving real node processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

IES = [sys.executable, "-m", "ies.cli.main"]


def run(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*IES, *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "IES_NODE_REGISTRY_CACHE_TTL_S": "0.2"},
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_up_status_ping_operator_down(tmp_path: Path) -> None:
    home = tmp_path / "net"
    up = run("network", "up", "--detach", "--json", "--bpps", "2", home=home)
    state = json.loads(up.stdout)
    assert [n["name"] for n in state["nodes"]] == [
        "registry",
        "cds",
        "buyer-app",
        "seller-app-1",
        "seller-app-2",
    ]
    saved = json.loads((home / "state.json").read_text())
    assert {n["pid"] for n in saved["nodes"]} == {n["pid"] for n in state["nodes"]}
    try:
        assert all(n["status"] in ("registry", "SUBSCRIBED") for n in state["nodes"])
        status = run("network", "status", "--json", home=home)
        assert all(n["status"] == "healthy" for n in json.loads(status.stdout)["nodes"])

        ping = json.loads(run("network", "ping", "--json", home=home).stdout)
        discover, select = ping
        catalogs = discover["callback"]["message"]["catalogs"]
        assert sorted(c["bppId"] for c in catalogs) == ["seller-app-1.ies.local", "seller-app-2.ies.local"]
        assert [(t["direction"], t["action"], t["outcome"]) for t in discover["trail"]] == [
            ("out", "discover", "ACK"),
            ("in", "on_discover", "ACK"),
        ]
        assert discover["trail"][1]["key_id"] == "cds.ies.local|cds-k1|ed25519"
        assert select["callback"]["message"]["contract"]["status"] == "DRAFT"

        listing = json.loads(run("registry", "list", "--json", home=home).stdout)
        assert {r["subscriber_id"] for r in listing} >= {"buyer-app.ies.local", "cds.ies.local"}

        # suspending the CDS makes discovery fail with the verifier's code; reinstating heals it
        run("registry", "suspend", "cds.ies.local", home=home)
        failed = run("network", "ping", "--timeout", "2", home=home, check=False)
        assert failed.returncode == 1
        out = " ".join((failed.stderr + failed.stdout).split())
        assert "NET_CALLBACK_TIMEOUT" in out
        assert "on_discover arrived but was refused with AUT_KEY_EXPIRED_OR_REVOKED" in out
        run("registry", "reinstate", "cds.ies.local", home=home)
        run("network", "ping", home=home)

        kpis = json.loads(run("network", "kpis", "--json", home=home).stdout)
        assert kpis["audit_pass_rate"] == 1.0 and kpis["nodes_audited"] == 5
        assert kpis["participants_by_role"] == {"BAP": 1, "BPP": 2, "CDS": 1, "REGISTRY": 1}
        # the refused on_discover during the suspension is the only unverified interaction
        assert kpis["nacks_by_code"].get("AUT_KEY_EXPIRED_OR_REVOKED", 0) >= 1
        assert kpis["signed_and_verified"] == kpis["inbound_messages"] - sum(
            n for code, n in kpis["nacks_by_code"].items() if code.startswith("AUT_")
        )
        assert 0 < kpis["share_signed_interfaces"] < 1 and kpis["share_ies_identifiers"] == 1.0

        again = run("network", "up", "--detach", home=home, check=False)
        assert again.returncode == 2 and "already running" in again.stderr
    finally:
        down = run("network", "down", home=home)
    assert "stopped 5 node(s)" in down.stdout
    assert not (home / "state.json").exists()
    for node in state["nodes"]:
        try:
            os.kill(node["pid"], 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"node {node['name']} still running")
    gone = run("network", "status", home=home, check=False)
    assert gone.returncode == 2


def test_attached_up_stops_every_node_on_ctrl_c(tmp_path: Path) -> None:
    import signal
    import time

    home = tmp_path / "net"
    proc = subprocess.Popen([*IES, "network", "up", "--home", str(home)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while True:  # until the launcher has saved the state with every node registered and approved
            if (home / "state.json").exists():
                state = json.loads((home / "state.json").read_text())
                if all(n["status"] in ("registry", "SUBSCRIBED") for n in state["nodes"]):
                    break
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.2)
        pids = [n["pid"] for n in state["nodes"]]
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "stopped 4 node(s)" in out
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
