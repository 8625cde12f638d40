"""Starting, checking and stopping a local network of node processes.

Each node is its own OS process (`python -m ies.node CONFIG`) in its own session, so a Ctrl-C in the
launcher's terminal reaches only the launcher, which then stops the nodes in order (SIGTERM, then SIGKILL
after a grace period). Start-up is all-or-nothing: if any step fails, every process started so far is
stopped before the error is reported.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ies.errors import NetworkError, PeerUnreachable, UsageError
from ies.node.config import init_node, load_config
from ies.registry.records import Role
from ies.sandbox.network import NetworkSpec, NetworkState, NodeState, free_port

__all__ = ["is_alive", "start_network", "stop_network", "wait_healthy"]

Progress = Callable[[str], None]


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as dead
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def wait_healthy(node: NodeState, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if not is_alive(node.pid):
            raise NetworkError(
                f"node {node.name} exited during start-up; see {node.log}", code="NET_NODE_DIED"
            )
        try:
            resp = httpx.get(f"{node.url}/health", timeout=2)
            if resp.status_code == 200:
                health = resp.json() if "json" in resp.headers.get("content-type", "") else {}
                if isinstance(health, dict) and health.get("subscriber_id") == node.subscriber_id:
                    return health
                # Someone else answers on our port (it was taken between choosing it and binding it).
                raise NetworkError(
                    f"port of {node.name} ({node.url}) is answered by another service", code="NET_PORT_TAKEN"
                )
            last = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            last = exc.__class__.__name__
        time.sleep(0.1)
    raise PeerUnreachable(f"node {node.name} not healthy after {timeout_s} s ({last}); see {node.log}")


def _admin(state: NetworkState, node: NodeState, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {state.admin_token(node)}"}
    try:
        return httpx.request(method, f"{node.url}{path}", headers=headers, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise PeerUnreachable(f"{node.name}: {exc.__class__.__name__} on {path}") from None


def _check(resp: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        body = {"raw": resp.text[:200]}
    if resp.status_code != 200:
        raise NetworkError(f"{what} failed: HTTP {resp.status_code} {body}", code="NET_SETUP_FAILED")
    return body if isinstance(body, dict) else {"items": body}


def _spawn(config: Path, log_path: Path) -> int:
    log = open(log_path, "ab")  # noqa: SIM115  (the child owns it)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ies.node", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=config.parent,
    )
    log.close()
    return proc.pid


def start_network(spec: NetworkSpec, home: Path, progress: Progress = lambda _m: None) -> NetworkState:
    """Create fresh node folders under `home`, start every node, subscribe and approve them."""
    home = home.resolve()
    if (home / "state.json").exists():
        try:
            old = NetworkState.load(home)
        except UsageError:
            old = None
        if old is not None and any(is_alive(n.pid) for n in old.nodes):
            raise UsageError(f"a network is already running from {home} (stop it with `ies network down`)")
    nodes_dir = home / "nodes"
    if nodes_dir.exists():
        shutil.rmtree(nodes_dir)
    nodes_dir.mkdir(parents=True)
    taken: set[int] = set()
    ports: dict[str, int] = {}
    for node in spec.nodes:
        ports[node.name] = free_port(spec.base_port if not taken else max(taken) + 1, taken)
        taken.add(ports[node.name])
    registry_url = f"http://127.0.0.1:{ports[spec.registry.name]}"
    cds = spec.by_role(Role.CDS)
    cds_url = f"http://127.0.0.1:{ports[cds[0].name]}/beckn" if cds else None
    state = NetworkState(name=spec.name, network_id=spec.network_id, home=str(home), launcher_pid=os.getpid())
    try:
        for node in spec.nodes:
            is_registry = Role.REGISTRY.value in node.roles
            cfg_path = init_node(
                nodes_dir / node.name,
                name=node.name,
                roles=list(node.roles),
                port=ports[node.name],
                registry_url=None if is_registry else registry_url,
                cds_url=None if is_registry else cds_url,
                network_id=spec.network_id,
                usecases=list(node.usecases),
                catalog_file=node.catalog_file,
                settings=node.settings,
            )
            cfg = load_config(cfg_path)
            log_path = nodes_dir / node.name / "node.log"
            pid = _spawn(cfg_path, log_path)
            state.nodes.append(
                NodeState(
                    name=node.name,
                    roles=list(node.roles),
                    url=cfg.public_url,
                    beckn_url=cfg.beckn_url,
                    subscriber_id=cfg.subscriber_id,
                    key_id=cfg.keys().key_id,
                    pid=pid,
                    config=str(cfg_path),
                    log=str(log_path),
                )
            )
            progress(f"started {node.name} (pid {pid}) on port {ports[node.name]}")
        state.save()
        for n in state.nodes:
            wait_healthy(n)
            n.status = "healthy"
        progress("all nodes healthy")
        registry = state.with_role(Role.REGISTRY)[0]
        for n in state.nodes:
            if n is registry:
                n.status = "registry"
                continue
            _check(_admin(state, n, "POST", "/admin/subscribe"), f"subscribing {n.name}")
            body = _check(
                _admin(state, registry, "POST", f"/admin/subscribers/{n.subscriber_id}/approve"),
                f"approving {n.name}",
            )
            n.status = str(body.get("status", "SUBSCRIBED"))
            progress(f"{n.name} subscribed and approved")
        for n in state.with_role(Role.BPP):
            if cds_url:
                _check(
                    _admin(state, n, "POST", "/admin/catalog/publish"), f"{n.name} publishing its catalogue"
                )
                progress(f"{n.name} published its catalogue")
        state.save()
        return state
    except OSError as exc:
        stop_network(state)
        raise UsageError(f"could not start the network: {exc}") from exc
    except BaseException:  # IESError, and Ctrl-C in the middle of start-up: leave no orphan behind
        stop_network(state)
        raise


def stop_network(state: NetworkState, grace_s: float = 5.0) -> list[str]:
    """Stop every node (SIGTERM, then SIGKILL after the grace period); remove the state file."""
    stopped = []
    for n in reversed(state.nodes):
        if is_alive(n.pid):
            try:
                os.killpg(n.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                continue
            stopped.append(n.name)
    deadline = time.monotonic() + grace_s
    for n in state.nodes:
        while is_alive(n.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if is_alive(n.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(n.pid, signal.SIGKILL)
    state_file = Path(state.home) / "state.json"
    if state_file.exists():
        state_file.unlink()
    return stopped
