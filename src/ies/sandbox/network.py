"""Describing a local network and its running state.

A network spec (TOML, or the built-in default) lists nodes and their roles; `ies network up` turns it
into node folders, processes and a machine-readable state file that `status`, `ping` and `down` read.
"""

from __future__ import annotations

import json
import os
import socket
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ies.errors import UsageError
from ies.registry.records import Role

__all__ = ["NetworkSpec", "NetworkState", "NodeSpec", "NodeState", "default_spec", "free_port", "load_spec"]

STATE_FILE = "state.json"


@dataclass(frozen=True)
class NodeSpec:
    name: str
    roles: tuple[str, ...]
    catalog_file: str | None = None
    usecases: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkSpec:
    name: str = "local"
    network_id: str = "indiaenergystack.in/sandbox-ies-network"
    base_port: int = 8100
    nodes: tuple[NodeSpec, ...] = ()

    @property
    def registry(self) -> NodeSpec:
        return next(n for n in self.nodes if Role.REGISTRY.value in n.roles)

    def by_role(self, role: Role) -> list[NodeSpec]:
        return [n for n in self.nodes if role.value in n.roles]


def default_spec(baps: int = 1, bpps: int = 1) -> NetworkSpec:
    """Registry, CDS, `baps` buyer apps and `bpps` seller apps."""
    if baps < 1 or bpps < 1 or baps + bpps > 50:
        raise UsageError("give between 1 and 49 BAPs and BPPs")
    nodes = [NodeSpec("registry", ("REGISTRY",)), NodeSpec("cds", ("CDS",))]
    nodes += [NodeSpec(f"buyer-app-{i + 1}" if baps > 1 else "buyer-app", ("BAP",)) for i in range(baps)]
    nodes += [NodeSpec(f"seller-app-{i + 1}" if bpps > 1 else "seller-app", ("BPP",)) for i in range(bpps)]
    return NetworkSpec(nodes=tuple(nodes))


def load_spec(path: Path) -> NetworkSpec:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"network config {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"network config {path}: {exc}") from None
    net = data.get("network", {})
    nodes = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("nodes", [])):
        try:
            name = str(raw["name"])
            given = raw["roles"] if isinstance(raw["roles"], list) else [raw["roles"]]
            roles = tuple(Role(str(r).upper()).value for r in given)
        except (KeyError, ValueError, TypeError) as exc:
            raise UsageError(
                f"network config {path}: nodes[{i}] needs a name and valid roles ({exc})"
            ) from None
        if name in seen:
            raise UsageError(f"network config {path}: node name {name!r} appears twice")
        seen.add(name)
        usecases = raw.get("usecases", [])
        if not isinstance(usecases, list) or not all(isinstance(u, str) for u in usecases):
            raise UsageError(f"network config {path}: nodes[{i}].usecases must be a list of names")
        settings = raw.get("settings", {})
        if not isinstance(settings, dict):
            raise UsageError(f"network config {path}: nodes[{i}].settings must be a table")
        nodes.append(NodeSpec(name, roles, raw.get("catalog_file"), tuple(usecases), settings))
    spec = NetworkSpec(
        name=str(net.get("name", "local")),
        network_id=str(net.get("network_id", NetworkSpec.network_id)),
        base_port=int(net.get("base_port", 8100)),
        nodes=tuple(nodes),
    )
    registries = spec.by_role(Role.REGISTRY)
    if len(registries) != 1:
        raise UsageError(
            f"network config {path}: exactly one REGISTRY node is needed, found {len(registries)}"
        )
    return spec


def free_port(start: int, taken: set[int]) -> int:
    """The first port ≥ start that nobody listens on (and that we have not handed out already)."""
    port = start
    while port < 65535:
        if port not in taken:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    port += 1
                    continue
            return port
        port += 1
    raise UsageError("no free port found")


@dataclass
class NodeState:
    name: str
    roles: list[str]
    url: str
    beckn_url: str
    subscriber_id: str
    key_id: str
    pid: int
    config: str
    log: str
    status: str = "starting"


@dataclass
class NetworkState:
    name: str
    network_id: str
    home: str
    launcher_pid: int
    nodes: list[NodeState] = field(default_factory=list)

    def save(self) -> Path:
        path = Path(self.home) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", "utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, home: Path) -> NetworkState:
        path = home / STATE_FILE
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise UsageError(
                f"no running network: {path} does not exist (start one with `ies network up`)"
            ) from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"network state {path} is unreadable: {exc}") from None
        nodes = [NodeState(**n) for n in data.pop("nodes", [])]
        return cls(**data, nodes=nodes)

    def node(self, name: str) -> NodeState:
        for n in self.nodes:
            if n.name == name:
                return n
        raise UsageError(f"no node named {name!r} in this network")

    def with_role(self, role: Role) -> list[NodeState]:
        return [n for n in self.nodes if role.value in n.roles]

    def admin_token(self, node: NodeState) -> str:
        return (Path(node.config).parent / "admin.token").read_text("utf-8").strip()
