"""Driving a running P2P network through its nodes' operator routes (what the demo and tests do).

Every call goes over HTTP to a separate node process with that node's operator token; an answer that is
not 2xx raises `DriverError` carrying the node's error object, so a caller sees the refusal's code.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx

from ies.errors import IESError, NotFoundError
from ies.sandbox.network import NetworkState, NodeState

__all__ = ["Driver", "DriverError"]


class DriverError(IESError):
    """A node refused an operator call; `code` is the node's error code."""

    code = "P2P_DRIVER"


class Driver:
    def __init__(self, state: NetworkState, timeout_s: float = 600.0):
        self.state = state
        self.http = httpx.Client(timeout=timeout_s)
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.http.close()

    def node(self, name: str) -> NodeState:
        return self.state.node(name)

    def _token(self, name: str) -> str:
        if name not in self._tokens:
            self._tokens[name] = (
                (Path(self.node(name).config).parent / "admin.token").read_text("utf-8").strip()
            )
        return self._tokens[name]

    def call(self, name: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        resp = self.http.request(
            method,
            f"{self.node(name).url}{path}",
            json=body,
            params=params or None,
            headers={"Authorization": f"Bearer {self._token(name)}"},
        )
        if resp.headers.get("content-type", "").startswith("text/"):
            if resp.status_code >= 400:
                raise DriverError(f"{name} {path}: HTTP {resp.status_code}")
            return resp.text
        data = resp.json()
        if resp.status_code >= 400:
            err = data.get("error", {}) if isinstance(data, dict) else {}
            raise DriverError(
                f"{name} {path}: {err.get('message', resp.status_code)}",
                code=str(err.get("code", "P2P_DRIVER")),
                details=err.get("details") or {},
            )
        return data

    # -- the steps -------------------------------------------------------------------------------------
    def register_connections(self, discom: str, connections: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The DISCOM-signed onboarding records of new connections."""
        return self.register(discom, connections)[0]

    def register(
        self, discom: str, connections: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Register connections: (signed onboarding records, ElectricityCredentials), in order."""
        answer = self.call(discom, "POST", "/p2p/discom/connections", {"connections": connections})
        return list(answer["records"]), list(answer["credentials"])

    def enrol(self, platform: str, prosumers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(self.call(platform, "POST", "/p2p/prosumers", {"prosumers": prosumers})["prosumers"])

    def offer(self, platform: str, offers: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(self.call(platform, "POST", "/p2p/offers", {"offers": offers}))

    def offer_blocks(self, platform: str) -> list[dict[str, Any]]:
        return list(self.call(platform, "GET", "/p2p/offers")["blocks"])

    def bid(self, platform: str, bids: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(self.call(platform, "POST", "/p2p/bids", {"bids": bids})["bids"])

    def agent(self, aggregator: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """Have an aggregator node enrol, offer, bid or list trades for its prosumers (signed to its
        platform); `action` is prosumers, offers, bids or trades."""
        return dict(self.call(aggregator, "POST", f"/p2p/aggregator/{action}", body))

    def trade(self, platform: str, concurrency: int = 8) -> dict[str, Any]:
        return dict(self.call(platform, "POST", "/p2p/trade", {"concurrency": concurrency}))

    def readings(self, discom: str, day: str, late_meters: list[str] = (), late_from_index: int = 96) -> Any:  # type: ignore[assignment]
        body = {"day": day, "late_meters": list(late_meters), "late_from_index": late_from_index}
        return self.call(discom, "POST", "/p2p/discom/readings", body)

    def meter_readings(self, discom: str, day: str) -> dict[str, dict[str, list[Any]]]:
        return dict(self.call(discom, "GET", "/p2p/discom/readings", day=day)["meters"])

    def correct(self, discom: str, meter_id: str, block: int, import_wh: int, export_wh: int) -> Any:
        body = {"meter_id": meter_id, "block": block, "import_wh": import_wh, "export_wh": export_wh}
        return self.call(discom, "POST", "/p2p/discom/readings/correct", body)

    def release(self, discom: str) -> Any:
        return self.call(discom, "POST", "/p2p/discom/readings/release", {})

    def suspend_recording(self, ledger: str, suspended: bool) -> Any:
        return self.call(ledger, "POST", "/p2p/ledger/recording", {"suspended": suspended})

    def refresh_grid(self, ledger: str) -> dict[str, Any]:
        return dict(self.call(ledger, "POST", "/p2p/ledger/grid/refresh", {}))

    def round(self, ledger: str, kind: str, day: str) -> dict[str, Any]:
        return dict(self.call(ledger, "POST", "/p2p/ledger/rounds", {"kind": kind, "day": day}))

    def trades(self, name: str, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        return list(self.call(name, "GET", "/p2p/trades", **params)["trades"])

    def events(self, name: str, kind: str = "refusal") -> dict[str, Any]:
        return dict(self.call(name, "GET", "/p2p/events", kind=kind))

    def audit(self, name: str) -> dict[str, Any]:
        return dict(self.call(name, "POST", "/p2p/audit/verify", {}))

    def statement(self, ledger: str, participant: str, fmt: str = "json") -> Any:
        return self.call(ledger, "GET", "/p2p/ledger/statements", participant=participant, format=fmt)

    def install_bundle(self, name: str, archive: Path) -> dict[str, Any]:
        """Install a new signed version of a P2P rule bundle on a running node."""
        body = {"archive_b64": base64.b64encode(archive.read_bytes()).decode("ascii")}
        return dict(self.call(name, "POST", "/p2p/policy/bundles", body))

    def bills(self, discom: str, month: str) -> list[dict[str, Any]]:
        """Every customer's bill of the month, as the DISCOM makes it."""
        return list(self.call(discom, "GET", "/p2p/discom/bills", month=month)["bills"])

    def bill(self, discom: str, month: str, meter: str) -> dict[str, Any]:
        return dict(self.call(discom, "GET", "/p2p/discom/bills", month=month, meter=meter))

    def evidence(self, name: str, contract_id: str) -> dict[str, Any]:
        return dict(self.call(name, "GET", f"/p2p/evidence/{contract_id}"))

    def gather_evidence(self, contract_id: str) -> dict[str, Any]:
        """A dispute bundle: every platform's and ledger's part, the signers' keys from the registry."""
        parts: list[dict[str, Any]] = []
        for node in self.state.nodes:
            if not {"BAP", "BPP", "LEDGER"} & set(node.roles):
                continue
            try:
                parts.append(self.evidence(node.name, contract_id))
            except DriverError as err:
                if err.code != "NOT_FOUND":
                    raise
        if not parts:
            raise NotFoundError(f"no node of this network holds trade {contract_id}")
        registry = next(n for n in self.state.nodes if "REGISTRY" in n.roles)
        keys: dict[str, dict[str, str]] = {}
        for signer in sorted({m["signer"] for p in parts for m in p["messages"]}):
            resp = self.http.post(f"{registry.url}/lookup", json={"subscriber_id": signer})
            rows = resp.json() if resp.status_code == 200 else []
            keys[signer] = {
                str(r["key_id"]): str(r["signing_public_key"]) for r in rows if isinstance(r, dict)
            }
        pinned = next((p["policy_bundle"] for p in parts if p.get("policy_bundle")), None)
        return {
            "contract_id": contract_id,
            "network": self.state.network_id,
            "parts": parts,
            "keys": keys,
            "policy_bundle": pinned,
        }
