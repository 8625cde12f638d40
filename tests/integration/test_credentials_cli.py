"""`ies vc` end to end: the CLI, run as its own process, against an issuer node started by `start_network`.

Exit codes as issue 5 asks: 0 valid / done, 1 invalid or refused with the reason's code, 2 unusable input.
`ies vc issue --remote` asks the running node over HTTP (`POST /credentials/issue`, the holder proving its
did:key with `--holder-key`); without `--remote` the CLI runs the node's pipeline against the node's store
while the node keeps serving the status lists. `ies vc verify` resolves the issuer's did:web and reads the
status over HTTP from the node (`--override DID=URL`), so each run sees a revocation at once.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ies.identity.did_key import did_key_from_ed25519
from ies.identity.keys import NodeKeys, load_node_keys, save_node_keys
from ies.sandbox.launcher import start_network, stop_network
from ies.sandbox.network import NetworkSpec, NodeSpec, NodeState
from ies.schemas import DATA_ROOT

IES = [sys.executable, "-m", "ies.cli.main", "vc"]
ROTATION_GRACE_S = 3


@dataclass
class Node:
    state: NodeState
    token: str
    work: Path

    @property
    def config(self) -> str:
        return self.state.config

    @property
    def did(self) -> str:
        return f"did:web:{self.state.subscriber_id}"

    def ies(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*IES, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.work,
            stdin=subprocess.DEVNULL,
        )

    def verify(self, path: Path) -> subprocess.CompletedProcess[str]:
        return self.ies("verify", str(path), "--override", f"{self.did}={self.state.url}")

    def write(self, name: str, value: Any) -> Path:
        path = self.work / name
        path.write_text(value if isinstance(value, str) else json.dumps(value), "utf-8")
        return path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    root = tmp_path_factory.mktemp("credentials-cli")
    spec = NetworkSpec(
        nodes=(
            NodeSpec("registry", ("REGISTRY",)),
            NodeSpec("issuer", ("ISSUER",), settings={"credentials": {"status_ttl_s": 1}}),
        ),
        base_port=random.randint(21000, 29000),
    )
    state = start_network(spec, root / "network")
    try:
        issuer = state.node("issuer")
        (root / "work").mkdir()
        yield Node(issuer, state.admin_token(issuer), root / "work")
    finally:
        stop_network(state)


def _example_subject(family: str, version: str, name: str) -> dict[str, Any]:
    doc = json.loads((DATA_ROOT / "schemas" / family / f"v{version}" / "examples" / name).read_text())
    subject: dict[str, Any] = doc["credentialSubject"]
    return subject


def _holder_file(node: Node) -> tuple[Path, str]:
    keys = NodeKeys.generate("holder")
    path = node.work / f"holder-{uuid.uuid4().hex[:8]}.json"
    save_node_keys(path, keys)
    return path, did_key_from_ed25519(keys.signing.public_key)


def _refused(result: subprocess.CompletedProcess[str], code: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert code in result.stdout + result.stderr, (result.stdout, result.stderr)


def test_generic_credential_issue_verify_revoke_verify_fails(node: Node) -> None:
    subject = node.write("generic.json", {"id": "did:example:holder-9", "name": "ExampleClaim"})
    out = node.work / "generic-vc.json"
    issued = node.ies(
        "issue", "--type", "VerifiableCredential", "--subject", str(subject),
        "--issuer-node-config", node.config, "--remote", "--out", str(out),
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    vc = json.loads(out.read_text())
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022" and vc["issuer"]["id"] == node.did
    valid = node.verify(out)
    assert valid.returncode == 0, valid.stderr
    assert f"valid eddsa-rdfc-2022 credential {vc['id']} issued by {node.did}" in valid.stdout
    revoked = node.ies("revoke", vc["id"], "--issuer-node-config", node.config, "--reason", "test")
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["status"] == "revoked"
    _refused(node.verify(out), "VC_REVOKED")


def test_passport_with_holder_proof_then_tampered(node: Node) -> None:
    holder_file, holder = _holder_file(node)
    subject = _example_subject("ElectricityCredential", "1.2", "example.json")
    subject.pop("id", None)  # the CLI fills in the holder's did:key
    subject_file = node.write("passport.json", subject)
    base = ["issue", "--type", "ElectricityCredential", "--subject", str(subject_file)]
    remote = [*base, "--issuer-node-config", node.config, "--remote", "--format", "vc-jose-es256"]
    unbound = node.ies(*remote)
    _refused(unbound, "VC_HOLDER_BINDING_FAILED")  # an IES credential needs the holder's proof
    out = node.work / "passport.jwt"
    issued = node.ies(*remote, "--holder-key", str(holder_file), "--out", str(out))
    assert issued.returncode == 0, issued.stderr
    header, payload, signature = out.read_text().strip().split(".")
    valid = node.verify(out)
    assert valid.returncode == 0 and "valid vc-jose-es256" in valid.stdout, valid.stderr
    claims = json.loads(_b64decode(payload))
    assert claims["credentialSubject"]["id"] == holder
    claims["credentialSubject"]["customerProfile"]["consumptionProfiles"][0]["tariffCategoryCode"] = "IND-01"
    forged = node.write("forged.jwt", f"{header}.{_b64encode(json.dumps(claims).encode())}.{signature}")
    _refused(node.verify(forged), "VC_SIGNATURE_INVALID")


def test_issue_against_the_store_of_the_running_node_then_suspend(node: Node) -> None:
    subject = _example_subject("MeterDataCredential", "0.6", "example-customer-profile.json")
    out = node.work / "digest.json"
    subject_file = node.write("digest-subject.json", subject)
    issued = node.ies(
        "issue", "--type", "MeterDataCredential", "--subject", str(subject_file),
        "--issuer-node-config", node.config, "--out", str(out),
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    vc = json.loads(out.read_text())
    assert [e["statusPurpose"] for e in vc["credentialStatus"]] == ["revocation", "suspension"]
    suspended = node.ies("status", vc["id"], "--issuer-node-config", node.config, "--suspend")
    assert suspended.returncode == 0 and json.loads(suspended.stdout)["status"] == "suspended"
    _refused(node.verify(out), "VC_SUSPENDED")  # status is step 6: signature, key and window passed


def test_unusable_input_exits_2(node: Node) -> None:
    garbage = node.verify(node.write("garbage.json", '{"hello": "world"}'))
    assert garbage.returncode == 2 and "not a credential" in garbage.stderr + garbage.stdout


def test_a_credential_signed_with_a_rotated_key_stops_verifying_after_the_grace(node: Node) -> None:
    """The node's Ed25519 key signs its Data Integrity credentials: after a rotation they verify until the
    old key's grace ends (the node publishes it with `expires` until then), and not after."""
    body = {
        "credential": {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:holder-7", "name": "ExampleClaim"},
        },
        "options": {"format": "eddsa-jcs-2022", "credentialStatus": "none"},
    }
    headers = {"Authorization": f"Bearer {node.token}"}
    resp = httpx.post(f"{node.state.url}/credentials/issue", json=body, headers=headers, timeout=30)
    assert resp.status_code == 201, resp.text
    old = node.write("old-key.json", resp.json()["verifiableCredential"])
    old_key = load_node_keys(Path(node.config).parent / "keys.json").key_id
    rotated = httpx.post(
        f"{node.state.url}/admin/rotate", json={"grace_s": ROTATION_GRACE_S}, headers=headers, timeout=30
    )
    assert rotated.status_code == 200, rotated.text
    grace_ends = time.monotonic() + ROTATION_GRACE_S
    within = node.verify(old)
    assert within.returncode == 0 and f"#{old_key}" in within.stdout, within.stderr
    time.sleep(max(0.0, grace_ends - time.monotonic() + 1))
    _refused(node.verify(old), "VC_UNKNOWN_KEY")


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
