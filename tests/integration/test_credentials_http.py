"""Issue → verify → revoke → verify-fails over real HTTP between separate OS processes, for each proof format.

Processes: two issuer nodes (`python -m ies.credentials.service issuer --config …`: the ordinary node app
with the issuer routes installed) and one verifier (`… verifier`), which knows the issuers only by their
did:web and resolves them over HTTP. Issuer A signs its status lists with eddsa-rdfc-2022, issuer B with
Ed25519Signature2020, so both RDFC suites cross the wire too (the IES credential contexts cannot be
canonicalised offline, so IES credentials themselves are refused in those two formats — also tested).
Status caches are bounded at 1 s here, so every revocation must reach the verifier within a few seconds.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ies.credentials.service import holder_proof_jwt
from ies.credentials.service.digilocker import hmac_header
from ies.identity.did_key import did_key_from_ed25519
from ies.identity.keys import SigningKeyPair
from ies.node.config import init_node
from ies.schemas import DATA_ROOT

STATUS_TTL_S = 1
DIGILOCKER_KEY = b"integration-digilocker-key-42"
FORMATS = ["auto", "eddsa-jcs-2022", "vc-jose-es256", "vc-jose-eddsa", "sd-jwt-vc"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy: {log.read_text()[-2000:]}")


@dataclass
class IssuerProc:
    url: str
    did: str
    home: Path
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def issued_count(self) -> int:
        with sqlite3.connect(self.home / "node.db") as db:
            return int(db.execute("SELECT count(*) FROM vc_issued_credentials").fetchone()[0])


@dataclass
class Net:
    a: IssuerProc
    b: IssuerProc
    verifier: str

    def verify(self, vc: Any) -> dict[str, Any]:
        resp = httpx.post(
            f"{self.verifier}/credentials/verify", json={"verifiableCredential": vc}, timeout=30
        )
        body: dict[str, Any] = resp.json()
        assert resp.status_code == (200 if body.get("verified") else 400)
        return body


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    root = tmp_path_factory.mktemp("credentials-net")
    procs: list[subprocess.Popen[bytes]] = []
    issuers: list[IssuerProc] = []
    try:
        for name, list_format in (("issuer-a", "eddsa-rdfc-2022"), ("issuer-b", "Ed25519Signature2020")):
            port = _free_port()
            home = root / name
            config = init_node(
                home, name=name, roles=["ISSUER"], port=port, registry_url="http://127.0.0.1:9"
            )
            (home / "digilocker.key").write_bytes(DIGILOCKER_KEY)
            env = {
                **os.environ,
                "IES_VC_STATUS_TTL_S": str(STATUS_TTL_S),
                "IES_VC_STATUS_LIST_FORMAT": list_format,
            }
            log = home / "node.log"
            with log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "ies.credentials.service", "issuer", "--config", str(config)],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=env,
                    )
                )
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, procs[-1], log)
            token = (home / "admin.token").read_text().strip()
            issuers.append(IssuerProc(url, f"did:web:{name}.ies.local", home, token))
        vport = _free_port()
        vlog = root / "verifier.log"
        overrides = [arg for i in issuers for arg in ("--override", f"{i.did}={i.url}")]
        with vlog.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "ies.credentials.service", "verifier"),
                        *("--port", str(vport), "--status-ttl", str(STATUS_TTL_S)),
                        *overrides,
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        verifier = f"http://127.0.0.1:{vport}"
        _wait_healthy(verifier, procs[-1], vlog)
        yield Net(issuers[0], issuers[1], verifier)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _example(family: str, version: str, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (DATA_ROOT / "schemas" / family / f"v{version}" / "examples" / name).read_text()
    )
    for member in ("proof", "credentialStatus", "issuer", "validFrom", "validUntil", "id"):
        doc.pop(member, None)
    return doc


def _issue(issuer: IssuerProc, family: str, fmt: str) -> tuple[Any, str]:
    holder = SigningKeyPair.generate()
    did = did_key_from_ed25519(holder.public_key)
    credential = (
        _example("ElectricityCredential", "1.2", "example.json")
        if family == "ElectricityCredential"
        else _example("MeterDataCredential", "0.6", "example-customer-profile.json")
    )
    credential["credentialSubject"]["id"] = did
    nonce = httpx.post(f"{issuer.url}/credentials/nonce", timeout=10).json()
    proof = holder_proof_jwt(holder, f"{did}#{did[8:]}", audience=nonce["audience"], nonce=nonce["nonce"])
    options: dict[str, Any] = {"holderBinding": {"method": "did", "proof": proof}}
    if fmt != "auto":
        options["format"] = fmt
    resp = httpx.post(
        f"{issuer.url}/credentials/issue",
        json={"credential": credential, "options": options},
        headers=issuer.headers,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["verifiableCredential"], resp.json()["id"]


def _until_refused(net: Net, vcs: dict[str, Any], code: str) -> None:
    """Each credential is refused with `code` within a few status TTLs."""
    deadline = time.monotonic() + 6 * STATUS_TTL_S + 10
    pending = dict(vcs)
    while pending:
        for name, vc in list(pending.items()):
            report = net.verify(vc)
            if not report["verified"] and report["errors"][0]["code"] == code:
                del pending[name]
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"not refused with {code}: {sorted(pending)} — last {report}")
        time.sleep(0.2)


def test_round_trip_for_each_proof_format(net: Net) -> None:
    issued: dict[str, tuple[Any, str]] = {}
    for fmt in FORMATS:
        for family in ("ElectricityCredential", "MeterDataCredential"):
            issued[f"{family}/{fmt}"] = _issue(net.a, family, fmt)
    issued["MeterDataCredential/Ed25519Signature2020-list"] = _issue(net.b, "MeterDataCredential", "auto")
    for name, (vc, _) in issued.items():
        report = net.verify(vc)
        assert report["verified"] is True, (name, report)
        assert report["credential"]["issuer"] in (net.a.did, net.b.did)
    assert isinstance(issued["ElectricityCredential/vc-jose-es256"][0], str)
    assert issued["MeterDataCredential/auto"][0]["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    for name, (_, cid) in issued.items():
        issuer = net.b if "Ed25519Signature2020" in name else net.a
        resp = httpx.post(
            f"{issuer.url}/credentials/revoke", json={"credentialId": cid}, headers=issuer.headers
        )
        assert resp.status_code == 200, resp.text
    _until_refused(net, {name: vc for name, (vc, _) in issued.items()}, "VC_REVOKED")


def test_rdfc_suites_cross_the_wire_on_status_lists(net: Net) -> None:
    vc, _ = _issue(net.a, "MeterDataCredential", "auto")
    list_a = httpx.get(vc["credentialStatus"][0]["statusListCredential"]).json()
    assert list_a["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    vc, _ = _issue(net.b, "MeterDataCredential", "auto")
    list_b = httpx.get(vc["credentialStatus"][0]["statusListCredential"]).json()
    assert list_b["proof"]["type"] == "Ed25519Signature2020"
    for fmt in ("eddsa-rdfc-2022", "Ed25519Signature2020"):  # IES contexts are not bundled: refused, clearly
        holder = SigningKeyPair.generate()
        credential = _example("MeterDataCredential", "0.6", "example-customer-profile.json")
        credential["credentialSubject"]["id"] = did_key_from_ed25519(holder.public_key)
        nonce = httpx.post(f"{net.a.url}/credentials/nonce").json()
        did = credential["credentialSubject"]["id"]
        proof = holder_proof_jwt(holder, f"{did}#{did[8:]}", audience=nonce["audience"], nonce=nonce["nonce"])
        options = {"format": fmt, "holderBinding": {"method": "did", "proof": proof}}
        body = {"credential": credential, "options": options}
        resp = httpx.post(f"{net.a.url}/credentials/issue", json=body, headers=net.a.headers, timeout=30)
        assert resp.status_code == 400 and "not bundled" in resp.json()["error"]["message"]


def test_suspension_reaches_the_verifier_and_is_lifted(net: Net) -> None:
    vc, cid = _issue(net.a, "MeterDataCredential", "vc-jose-eddsa")
    assert net.verify(vc)["verified"] is True
    body = {"credentialId": cid, "status": "suspended"}
    assert httpx.post(f"{net.a.url}/credentials/status", json=body, headers=net.a.headers).status_code == 200
    _until_refused(net, {"digest": vc}, "VC_SUSPENDED")
    body["status"] = "active"
    assert httpx.post(f"{net.a.url}/credentials/status", json=body, headers=net.a.headers).status_code == 200
    deadline = time.monotonic() + 6 * STATUS_TTL_S + 10
    while not net.verify(vc)["verified"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_refusals_with_their_reasons(net: Net) -> None:
    vc, _ = _issue(net.a, "ElectricityCredential", "auto")
    tampered = json.loads(json.dumps(vc))
    tampered["credentialSubject"]["customerProfile"]["consumptionProfiles"][0]["tariffCategoryCode"] = (
        "IND-01"
    )
    assert net.verify(tampered)["errors"][0]["code"] == "VC_SIGNATURE_INVALID"
    foreign = dict(vc, issuer={"id": "did:web:127.0.0.1%3A9", "name": "gone"})
    assert net.verify(foreign)["errors"][0]["code"] in ("VC_ISSUER_UNRESOLVABLE", "VC_UNKNOWN_KEY")
    swapped = json.loads(json.dumps(vc))
    swapped["issuer"]["id"] = net.b.did  # b's DID, a's signature: the key named is not b's
    assert net.verify(swapped)["errors"][0]["code"] == "VC_UNKNOWN_KEY"


def test_digilocker_wrong_hmac_is_401_and_issues_nothing(net: Net) -> None:
    subject = _example("ElectricityCredential", "1.2", "example.json")["credentialSubject"]
    subject.pop("id")
    record = {"docType": "NYCER", "consumerNo": "C-77", "mobile": "9876543210", "credentialSubject": subject}
    resp = httpx.put(f"{net.a.url}/credentials/subjects", json=record, headers=net.a.headers)
    assert resp.status_code == 200
    raw = (
        b'<PullURIRequest ver="3.0" ts="2026-11-26T10:00:00+05:30" txn="t-1" orgId="o"><DocDetails>'
        b"<DocType>NYCER</DocType><DigiLockerId>DL-1</DigiLockerId><UDF1>C-77</UDF1><UDF2>9876543210</UDF2>"
        b"</DocDetails></PullURIRequest>"
    )
    before = net.a.issued_count()
    bad = httpx.post(
        f"{net.a.url}/digilocker/pulluri",
        content=raw,
        headers={"x-digilocker-hmac": hmac_header(b"wrong", raw)},
    )
    assert bad.status_code == 401
    assert net.a.issued_count() == before
    good = httpx.post(
        f"{net.a.url}/digilocker/pulluri",
        content=raw,
        headers={"x-digilocker-hmac": hmac_header(DIGILOCKER_KEY, raw)},
    )
    assert good.status_code == 200 and b'Status="1"' in good.content
    assert net.a.issued_count() == before + 1
