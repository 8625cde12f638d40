"""Issue → verify → revoke → verify-fails over real HTTP between separate processes, for every proof format.

Processes: a registry and two issuer nodes started by `ies.sandbox.launcher.start_network` — ordinary
`python -m ies.node` processes whose ISSUER role installs the issuer — and one verifier
(`python -m ies.credentials.service verifier`), which knows the issuers only by their did:web and
resolves them, and reads their status lists, over HTTP. Issuer A signs its status lists eddsa-rdfc-2022,
issuer B Ed25519Signature2020 (`[node.settings.credentials]`), so both RDFC suites cross the wire as
credentials and as status lists.

Every format — eddsa-rdfc-2022, eddsa-jcs-2022, Ed25519Signature2020, vc-jose-es256, vc-jose-eddsa,
sd-jwt-vc — signs a generic W3C VC 2.0 credential (bundled contexts, so RDFC applies); IES credentials
(passport through the DeDi registry, meter digest through status lists) go in the formats that can carry
them. Status caches are bounded at 1 s and the verifier tolerates 1 s of clock skew, so revocations reach
it within a few seconds and a credential valid for four seconds expires during the test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ies.credentials import IssuerKey, ProofFormat, issue, sd_present
from ies.credentials.jose import TYP_KB_JWT, sign_compact
from ies.credentials.service import holder_proof_jwt
from ies.credentials.service.digilocker import hmac_header
from ies.identity.did_key import did_key_from_ed25519
from ies.identity.keys import SigningKeyPair
from ies.sandbox.launcher import start_network, stop_network
from ies.sandbox.network import NetworkSpec, NetworkState, NodeSpec, NodeState, free_port
from ies.schemas import DATA_ROOT

STATUS_TTL_S = 1
SKEW_S = 1
DIGILOCKER_KEY = b"integration-digilocker-key-42"
FORMATS = [f.value for f in ProofFormat]
IES_FORMATS = ["auto", "eddsa-jcs-2022", "vc-jose-es256", "vc-jose-eddsa", "sd-jwt-vc"]
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def _vc_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Issuer:
    node: NodeState
    token: str

    @property
    def url(self) -> str:
        return self.node.url

    @property
    def did(self) -> str:
        return f"did:web:{self.node.subscriber_id}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def issued_count(self) -> int:
        with sqlite3.connect(Path(self.node.config).parent / "node.db") as db:
            return int(db.execute("SELECT count(*) FROM vc_issued_credentials").fetchone()[0])

    def issue(self, credential: dict[str, Any], **options: Any) -> tuple[Any, str]:
        resp = httpx.post(
            f"{self.url}/credentials/issue",
            json={"credential": credential, "options": options},
            headers=self.headers,
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        return resp.json()["verifiableCredential"], resp.json()["id"]

    def operator(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=self.headers, timeout=30)

    def generic(self, **members: Any) -> dict[str, Any]:
        """The W3C vc-di-eddsa-test-suite's `validVc`, as its createInitialVc posts it to an issuer."""
        return {
            "@context": [VC_V2],
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential"],
            "issuer": self.did,
            "credentialSubject": {"id": "did:example:holder-1", "name": "ExampleClaim"},
            **members,
        }


@dataclass
class Net:
    state: NetworkState
    a: Issuer
    b: Issuer
    verifier: str

    def verify(self, vc: Any) -> dict[str, Any]:
        resp = httpx.post(
            f"{self.verifier}/credentials/verify", json={"verifiableCredential": vc}, timeout=30
        )
        body: dict[str, Any] = resp.json()
        assert resp.status_code == (200 if body.get("verified") else 400), body
        return body

    def refusal(self, vc: Any) -> str:
        report = self.verify(vc)
        assert report["verified"] is False, report
        return str(report["errors"][0]["code"])


def _start_verifier(root: Path, overrides: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port(random.randint(21000, 29000), set())
    log = (root / "verifier.log").open("wb")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "ies.credentials.service", "verifier", "--port", str(port)),
            *("--status-ttl", str(STATUS_TTL_S), "--skew", str(SKEW_S), *overrides),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"verifier exited: {(root / 'verifier.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("verifier did not become healthy")
        time.sleep(0.1)


def _issuer_spec(name: str, list_format: str) -> NodeSpec:
    settings = {"credentials": {"status_list_format": list_format, "status_ttl_s": STATUS_TTL_S}}
    return NodeSpec(name, ("ISSUER",), settings=settings)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    root = tmp_path_factory.mktemp("credentials-net")
    key_file = root / "digilocker.key"
    key_file.write_bytes(DIGILOCKER_KEY)
    spec = NetworkSpec(
        nodes=(
            NodeSpec("registry", ("REGISTRY",)),
            _issuer_spec("issuer-a", "eddsa-rdfc-2022"),
            _issuer_spec("issuer-b", "Ed25519Signature2020"),
        ),
        base_port=random.randint(21000, 29000),
    )
    os.environ["IES_DIGILOCKER_API_KEY_FILE"] = str(key_file)  # read by the node processes at start-up
    try:
        state = start_network(spec, root / "network")
    finally:
        os.environ.pop("IES_DIGILOCKER_API_KEY_FILE", None)
    proc = None
    try:
        a, b = (Issuer(state.node(n), state.admin_token(state.node(n))) for n in ("issuer-a", "issuer-b"))
        overrides = [arg for i in (a, b) for arg in ("--override", f"{i.did}={i.url}")]
        proc, verifier = _start_verifier(root, overrides)
        yield Net(state, a, b, verifier)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stop_network(state)


# -- IES credentials ---------------------------------------------------------------------------------------


def _example(family: str, version: str, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (DATA_ROOT / "schemas" / family / f"v{version}" / "examples" / name).read_text()
    )
    for member in ("proof", "credentialStatus", "issuer", "validFrom", "validUntil", "id"):
        doc.pop(member, None)
    return doc


def _issue_ies(
    issuer: Issuer, family: str, fmt: str, holder: SigningKeyPair | None = None
) -> tuple[Any, str]:
    """An IES credential with the holder binding the IES guide requires (a did:key proof of possession)."""
    holder = holder or SigningKeyPair.generate()
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
    return issuer.issue(credential, **options)


# -- tampering helpers -------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _changed(vc: Any, change: Callable[[dict[str, Any]], None]) -> Any:
    """`vc` with `change` applied to what its signature covers, the signature itself left as it was:
    the document of a Data Integrity credential, the payload of a JWS or of an SD-JWT's issuer JWT."""
    if isinstance(vc, dict):
        doc = json.loads(json.dumps(vc))
        change(doc)
        return doc
    jwt, sep, disclosures = vc.partition("~")
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}{sep}{disclosures}"


def _revoke_all(net: Net, issued: dict[str, tuple[Issuer, Any, str]]) -> None:
    for name, (issuer, _, cid) in issued.items():
        resp = issuer.operator("/credentials/revoke", {"credentialId": cid, "reason": "test"})
        assert resp.status_code == 200, (name, resp.text)
        assert resp.json()["status"] == "revoked"


def _until(net: Net, vcs: dict[str, Any], expected: Callable[[dict[str, Any]], bool], what: str) -> None:
    """Each credential gets a report satisfying `expected` within a few status TTLs."""
    deadline = time.monotonic() + 6 * STATUS_TTL_S + 10
    pending = dict(vcs)
    last: dict[str, Any] = {}
    while pending:
        for name, vc in list(pending.items()):
            last = net.verify(vc)
            if expected(last):
                del pending[name]
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"not {what}: {sorted(pending)} — last {last}")
        time.sleep(0.2)


def _refused_with(code: str) -> Callable[[dict[str, Any]], bool]:
    return lambda report: not report["verified"] and report["errors"][0]["code"] == code


# -- the round trips ---------------------------------------------------------------------------------------


def test_round_trip_for_each_proof_format(net: Net) -> None:
    """issue → verify → revoke → verify fails (VC_REVOKED), for all six formats at both issuers."""
    issued: dict[str, tuple[Issuer, Any, str]] = {}
    for issuer in (net.a, net.b):
        for fmt in [*FORMATS, "auto"]:
            options = {} if fmt == "auto" else {"format": fmt}
            vc, cid = issuer.issue(issuer.generic(), **options)
            issued[f"{issuer.node.name}/generic/{fmt}"] = (issuer, vc, cid)
    for family in ("ElectricityCredential", "MeterDataCredential"):
        for fmt in IES_FORMATS:
            issued[f"issuer-a/{family}/{fmt}"] = (net.a, *_issue_ies(net.a, family, fmt))
    issued["issuer-b/MeterDataCredential/auto"] = (net.b, *_issue_ies(net.b, "MeterDataCredential", "auto"))

    assert issued["issuer-a/generic/auto"][1]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"  # the default
    assert issued["issuer-a/MeterDataCredential/auto"][1]["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    for name, (issuer, vc, cid) in issued.items():
        report = net.verify(vc)
        assert report["verified"] is True, (name, report)
        assert report["credential"]["issuer"] == issuer.did and report["credential"]["id"] == cid
        fmt = name.rsplit("/", 1)[1]
        if fmt != "auto":
            assert report["credential"]["format"] == fmt, name
    _revoke_all(net, issued)
    _until(net, {n: vc for n, (_, vc, _) in issued.items()}, _refused_with("VC_REVOKED"), "revoked")


def test_status_lists_are_signed_in_both_rdfc_suites(net: Net) -> None:
    for issuer, suite in ((net.a, "eddsa-rdfc-2022"), (net.b, "Ed25519Signature2020")):
        vc, _ = issuer.issue(issuer.generic())
        url = vc["credentialStatus"][0]["statusListCredential"]
        status_list = httpx.get(url, timeout=10).json()
        proof = status_list["proof"]
        assert (proof.get("cryptosuite") or proof["type"]) == suite
        assert "BitstringStatusListCredential" in status_list["type"]


def test_suspension_reaches_the_verifier_and_is_lifted_for_each_proof_format(net: Net) -> None:
    issued = {fmt: net.a.issue(net.a.generic(), format=fmt) for fmt in FORMATS}
    for fmt, (vc, _) in issued.items():
        assert net.verify(vc)["verified"] is True, fmt
    for _, cid in issued.values():
        resp = net.a.operator("/credentials/status", {"credentialId": cid, "status": "suspended"})
        assert resp.status_code == 200 and resp.json()["status"] == "suspended"
    vcs = {fmt: vc for fmt, (vc, _) in issued.items()}
    _until(net, vcs, _refused_with("VC_SUSPENDED"), "suspended")
    for _, cid in issued.values():
        resp = net.a.operator("/credentials/status", {"credentialId": cid, "status": "active"})
        assert resp.status_code == 200 and resp.json()["status"] == "active"
    _until(net, vcs, lambda report: report["verified"] is True, "reinstated")


# -- refusals ----------------------------------------------------------------------------------------------


def _rogue_key(net: Net, fmt: str) -> IssuerKey:
    """A key issuer A never published, named as if it were one of A's."""
    if fmt == "vc-jose-es256":
        return IssuerKey(f"{net.a.did}#rogue-es256", ec.generate_private_key(ec.SECP256R1()))
    return IssuerKey(f"{net.a.did}#rogue-1", SigningKeyPair.generate())


def test_refusals_for_each_proof_format(net: Net) -> None:
    """Tampered, signed by an unknown key, another issuer's, not yet valid, expired: each with its code."""
    now = datetime.now(UTC)
    short_lived: dict[str, Any] = {}
    for fmt in FORMATS:
        valid_until = datetime.now(UTC) + timedelta(seconds=4)
        short_lived[fmt], _ = net.a.issue(net.a.generic(validUntil=_vc_time(valid_until)), format=fmt)
        assert net.verify(short_lived[fmt])["verified"] is True, fmt  # valid now: the refusal is the clock's
    for fmt in FORMATS:
        vc, _ = net.a.issue(net.a.generic(), format=fmt)

        def later(doc: dict[str, Any]) -> None:
            doc["validUntil"] = "2099-01-01T00:00:00Z"

        def other_subject(doc: dict[str, Any]) -> None:
            doc["credentialSubject"]["id"] = "did:example:mallory"

        def other_issuer(doc: dict[str, Any]) -> None:
            doc["issuer"] = {"id": net.b.did, "name": "issuer-b"}

        assert net.refusal(_changed(vc, later)) == "VC_SIGNATURE_INVALID", fmt
        assert net.refusal(_changed(vc, other_subject)) == "VC_SIGNATURE_INVALID", fmt
        assert net.refusal(_changed(vc, other_issuer)) == "VC_UNKNOWN_KEY", fmt  # A's key is not B's

        unsigned = net.a.generic(
            issuer={"id": net.a.did, "name": "issuer-a"},
            validFrom=_vc_time(now),
            validUntil=_vc_time(now + timedelta(days=1)),
        )
        rogue = issue(unsigned, key=_rogue_key(net, fmt), format=fmt)
        assert net.refusal(rogue) == "VC_UNKNOWN_KEY", fmt

        future, _ = net.a.issue(net.a.generic(validFrom=_vc_time(now + timedelta(days=1))), format=fmt)
        assert net.refusal(future) == "VC_NOT_YET_VALID", fmt
    expired_at = valid_until + timedelta(seconds=SKEW_S + 1)
    time.sleep(max(0.0, (expired_at - datetime.now(UTC)).total_seconds()))
    for fmt, vc in short_lived.items():
        assert net.refusal(vc) == "VC_EXPIRED", fmt


def test_ies_refusals_tampered_passport_and_unreachable_issuer(net: Net) -> None:
    vc, _ = _issue_ies(net.a, "ElectricityCredential", "auto")

    def tariff(doc: dict[str, Any]) -> None:
        doc["credentialSubject"]["customerProfile"]["consumptionProfiles"][0]["tariffCategoryCode"] = "IND-01"

    assert net.refusal(_changed(vc, tariff)) == "VC_SIGNATURE_INVALID"
    foreign = dict(vc, issuer={"id": "did:web:127.0.0.1%3A9", "name": "gone"})
    assert net.refusal(foreign) in ("VC_ISSUER_UNRESOLVABLE", "VC_UNKNOWN_KEY")


def test_ies_types_are_refused_in_rdfc_suites_with_the_reason(net: Net) -> None:
    """The IES contexts import contexts that are not bundled: RDFC cannot sign them offline."""
    for fmt in ("eddsa-rdfc-2022", "Ed25519Signature2020"):
        before = net.a.issued_count()
        holder = SigningKeyPair.generate()
        did = did_key_from_ed25519(holder.public_key)
        credential = _example("MeterDataCredential", "0.6", "example-customer-profile.json")
        credential["credentialSubject"]["id"] = did
        nonce = httpx.post(f"{net.a.url}/credentials/nonce", timeout=10).json()
        proof = holder_proof_jwt(holder, f"{did}#{did[8:]}", audience=nonce["audience"], nonce=nonce["nonce"])
        body = {
            "credential": credential,
            "options": {"format": fmt, "holderBinding": {"method": "did", "proof": proof}},
        }
        resp = httpx.post(f"{net.a.url}/credentials/issue", json=body, headers=net.a.headers, timeout=30)
        assert resp.status_code == 400 and "not bundled" in resp.json()["error"]["message"]
        assert net.a.issued_count() == before


def test_selective_disclosure_through_the_verifier_process(net: Net) -> None:
    """A passport holder shows sanctioned load and tariff to a bank without name, address or id reference;
    a claim the issuer never signed, slipped in and re-bound by the holder, is refused."""
    pair = SigningKeyPair.generate()
    holder = IssuerKey.did_key(pair)
    sd, _ = _issue_ies(net.a, "ElectricityCredential", "sd-jwt-vc", holder=pair)
    reveal = ["credentialSubject.customerProfile.consumptionProfiles"]
    shown = sd_present(sd, reveal=reveal, holder_key=holder, nonce="n-42", aud="bank.example")

    def verify_vp(presentation: str) -> dict[str, Any]:
        body = {
            "verifiablePresentation": presentation,
            "options": {"challenge": "n-42", "domain": "bank.example"},
        }
        report: dict[str, Any] = httpx.post(
            f"{net.verifier}/presentations/verify", json=body, timeout=30
        ).json()
        return report

    report = verify_vp(shown)
    assert report["verified"] is True, report
    (credential,) = report["credentials"]
    subject = credential["credentialSubject"]
    assert subject["customerProfile"]["consumptionProfiles"][0]["sanctionedLoad"]
    assert "idRef" not in subject["customerProfile"] and "fullName" not in subject.get("customerDetails", {})
    assert credential["disclosed"] == reveal

    issuer_jwt, *disclosures, _ = shown.split("~")
    forged = _b64(json.dumps(["c2FsdA", "fullName", "Someone Rich"]).encode())
    tampered = "~".join([issuer_jwt, *disclosures, forged, ""])
    claims = {
        "iat": int(time.time()),
        "aud": "bank.example",
        "nonce": "n-42",
        "sd_hash": _b64(hashlib.sha256(tampered.encode()).digest()),
    }
    rebound = tampered + sign_compact(claims, holder, typ=TYP_KB_JWT, kid=False)
    refused = verify_vp(rebound)
    assert refused["verified"] is False and refused["errors"][0]["code"] == "VC_DISCLOSURE_INVALID"


def test_digilocker_wrong_hmac_is_401_and_issues_nothing(net: Net) -> None:
    subject = _example("ElectricityCredential", "1.2", "example.json")["credentialSubject"]
    subject.pop("id")
    record = {"docType": "NYCER", "consumerNo": "C-77", "mobile": "9876543210", "credentialSubject": subject}
    resp = httpx.put(f"{net.a.url}/credentials/subjects", json=record, headers=net.a.headers, timeout=30)
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
        timeout=30,
    )
    assert bad.status_code == 401
    assert net.a.issued_count() == before
    good = httpx.post(
        f"{net.a.url}/digilocker/pulluri",
        content=raw,
        headers={"x-digilocker-hmac": hmac_header(DIGILOCKER_KEY, raw)},
        timeout=30,
    )
    assert good.status_code == 200 and b'Status="1"' in good.content
    assert net.a.issued_count() == before + 1
