"""Helpers of the credential service tests: a threaded uvicorn server, holders, the issuer handle."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from ies.credentials.service import IssuerState, holder_proof_jwt
from ies.identity.did_key import did_key_from_ed25519
from ies.identity.keys import SigningKeyPair
from ies.schemas import DATA_ROOT

DIGILOCKER_KEY = b"digilocker-test-api-key-0123456789"
STATUS_TTL_S = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadServer:
    """uvicorn serving an app from a daemon thread, stopped at teardown."""

    def __init__(self, app: FastAPI, port: int):
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def example(family: str, version: str, name: str) -> dict[str, Any]:
    path = DATA_ROOT / "schemas" / family / f"v{version}" / "examples" / name
    return json.loads(Path(path).read_text("utf-8"))


def unsigned(doc: dict[str, Any]) -> dict[str, Any]:
    """An upstream example as a request body: claims only, the issuer fills in the envelope."""
    out = copy.deepcopy(doc)
    for member in ("proof", "credentialStatus", "issuer", "validFrom", "validUntil", "id"):
        out.pop(member, None)
    return out


@dataclass
class Holder:
    pair: SigningKeyPair

    @property
    def did(self) -> str:
        return did_key_from_ed25519(self.pair.public_key)

    @property
    def kid(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"


@dataclass
class IssuerEnv:
    url: str
    verifier_url: str
    token: str
    state: IssuerState
    home: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def binding(self, holder: Holder) -> dict[str, Any]:
        nonce = httpx.post(f"{self.url}/credentials/nonce", timeout=10).json()
        proof = holder_proof_jwt(holder.pair, holder.kid, audience=nonce["audience"], nonce=nonce["nonce"])
        return {"method": "did", "proof": proof}

    def passport(self, holder: Holder) -> dict[str, Any]:
        doc = unsigned(example("ElectricityCredential", "1.2", "example.json"))
        doc["credentialSubject"]["id"] = holder.did
        return doc

    def digest(self, holder: Holder) -> dict[str, Any]:
        doc = unsigned(example("MeterDataCredential", "0.6", "example-customer-profile.json"))
        doc["credentialSubject"]["id"] = holder.did
        return doc

    def issue(self, credential: dict[str, Any], holder: Holder, **options: Any) -> httpx.Response:
        body = {"credential": credential, "options": {"holderBinding": self.binding(holder), **options}}
        return httpx.post(f"{self.url}/credentials/issue", json=body, headers=self.headers, timeout=30)

    def issued(self, credential: dict[str, Any], holder: Holder, **options: Any) -> tuple[Any, str]:
        resp = self.issue(credential, holder, **options)
        assert resp.status_code == 201, resp.text
        return resp.json()["verifiableCredential"], resp.json()["id"]

    def verify(self, vc: Any) -> httpx.Response:
        return httpx.post(
            f"{self.verifier_url}/credentials/verify", json={"verifiableCredential": vc}, timeout=30
        )

    def operator(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=self.headers, timeout=30)
