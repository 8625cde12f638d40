"""`ies vc`: issue offline or as a node, verify with the exit code and reason, present, revoke, status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner
from vc_service_helpers import Holder, IssuerEnv, example, unsigned

from ies.cli.main import app
from ies.identity.did_key import did_key_from_ed25519
from ies.identity.keys import NodeKeys, load_node_keys, save_node_keys

runner = CliRunner()


def _ies(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _reason(result: Any) -> str:
    return str(result.output)


@pytest.fixture
def files(tmp_path: Path, holder: Holder) -> dict[str, Path]:
    issuer_keys = tmp_path / "issuer-keys.json"
    save_node_keys(issuer_keys, NodeKeys.generate("k1"))
    holder_keys = tmp_path / "holder-keys.json"
    save_node_keys(
        holder_keys, NodeKeys(key_id="h", signing=holder.pair, encryption=NodeKeys.generate("x").encryption)
    )
    subject = unsigned(example("MeterDataCredential", "0.6", "example-customer-profile.json"))[
        "credentialSubject"
    ]
    subject["id"] = holder.did
    subject_file = tmp_path / "subject.json"
    subject_file.write_text(json.dumps(subject))
    passport = unsigned(example("ElectricityCredential", "1.2", "example.json"))["credentialSubject"]
    passport["id"] = holder.did
    passport_file = tmp_path / "passport.json"
    passport_file.write_text(json.dumps(passport))
    return {"issuer": issuer_keys, "holder": holder_keys, "subject": subject_file, "passport": passport_file}


def _did_of(key_file: Path) -> str:
    return did_key_from_ed25519(load_node_keys(key_file).signing.public_key)


def test_issue_with_a_key_file_then_verify_and_tamper(tmp_path: Path, files: dict[str, Path]) -> None:
    did, out = _did_of(files["issuer"]), tmp_path / "vc.json"
    base = ["vc", "issue", "--type", "MeterDataCredential", "--subject", str(files["subject"])]
    result = _ies(*base, "--key-file", str(files["issuer"]), "--did", did, "--out", str(out))
    assert result.exit_code == 0, result.output
    ok = _ies("vc", "verify", str(out))
    assert ok.exit_code == 0 and "valid eddsa-jcs-2022" in ok.output
    vc = json.loads(out.read_text())
    vc["credentialSubject"]["meterData"]["customer"]["sanctionedLoadKw"] = 99.0
    out.write_text(json.dumps(vc))
    bad = _ies("vc", "verify", str(out))
    assert bad.exit_code == 1 and "VC_SIGNATURE_INVALID" in _reason(bad)


def test_verify_reports_the_validity_window(tmp_path: Path, files: dict[str, Path]) -> None:
    did, out = _did_of(files["issuer"]), tmp_path / "vc.jwt"
    result = _ies(
        "vc", "issue", "--type", "MeterDataCredential", "--subject", str(files["subject"]),
        "--key-file", str(files["issuer"]), "--did", did, "--format", "vc-jose-eddsa", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    late = _ies("vc", "verify", str(out), "--at", "2099-01-01T00:00:00Z")
    assert late.exit_code == 1 and "VC_EXPIRED" in _reason(late)
    early = _ies("vc", "verify", str(out), "--at", "2001-01-01T00:00:00+05:30")
    assert early.exit_code == 1 and "VC_NOT_YET_VALID" in _reason(early)


def test_unusable_input_exits_2(tmp_path: Path, files: dict[str, Path]) -> None:
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "plain.json").write_text(json.dumps({"hello": "world"}))
    assert _ies("vc", "verify", str(tmp_path / "missing.json")).exit_code == 2
    assert _ies("vc", "verify", str(tmp_path / "junk.json")).exit_code == 2
    assert _ies("vc", "verify", str(tmp_path / "plain.json")).exit_code == 2
    assert _ies("vc", "verify", str(files["subject"]), "--at", "yesterday").exit_code == 2
    wrong_did = _ies(
        "vc", "issue", "--type", "MeterDataCredential", "--subject", str(files["subject"]),
        "--key-file", str(files["issuer"]), "--did", _did_of(files["holder"]),
    )  # fmt: skip
    assert wrong_did.exit_code == 2
    no_type = _ies("vc", "issue", "--type", "Passport", "--subject", str(files["subject"]), "--key-file", "x")
    assert no_type.exit_code == 2


def test_generic_vc2_credential_with_a_key_file_is_signed_rdfc(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    did, out = _did_of(files["issuer"]), tmp_path / "generic.json"
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"id": "did:example:holder-1", "name": "ExampleClaim"}))
    base = ["vc", "issue", "--type", "VerifiableCredential", "--key-file", str(files["issuer"]), "--did", did]
    result = _ies(*base, "--subject", str(claims), "--out", str(out))
    assert result.exit_code == 0, result.output
    vc = json.loads(out.read_text())
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"] and vc["type"] == [
        "VerifiableCredential"
    ]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    ok = _ies("vc", "verify", str(out))
    assert ok.exit_code == 0 and "valid eddsa-rdfc-2022" in ok.output
    # a whole credential file must be of the type asked for
    digest = tmp_path / "digest-credential.json"
    digest.write_text(
        json.dumps({"type": ["VerifiableCredential", "MeterDataCredential"], "credentialSubject": {}})
    )
    wrong = _ies(
        "vc", "issue", "--type", "ElectricityCredential", "--subject", str(digest), "--key-file", "k"
    )
    assert wrong.exit_code == 2 and "not ElectricityCredential" in " ".join(wrong.output.split())


def test_schema_invalid_subject_is_refused(tmp_path: Path, files: dict[str, Path]) -> None:
    subject = json.loads(files["subject"].read_text())
    del subject["meterData"]["profileType"]
    files["subject"].write_text(json.dumps(subject))
    result = _ies(
        "vc", "issue", "--type", "MeterDataCredential", "--subject", str(files["subject"]),
        "--key-file", str(files["issuer"]), "--did", _did_of(files["issuer"]),
    )  # fmt: skip
    assert result.exit_code == 1 and "VC_SCHEMA_INVALID" in _reason(result)


def test_issue_as_the_node_then_revoke_and_suspend(
    issuer_env: IssuerEnv, tmp_path: Path, files: dict[str, Path]
) -> None:
    config, out = str(issuer_env.home / "config.toml"), tmp_path / "digest.json"
    result = _ies(
        "vc", "issue", "--type", "MeterDataCredential", "--subject", str(files["subject"]),
        "--issuer-node-config", config, "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    vc = json.loads(out.read_text())
    assert vc["issuer"]["id"] == issuer_env.state.did and len(vc["credentialStatus"]) == 2
    override = f"{issuer_env.state.did}={issuer_env.url}"
    assert _ies("vc", "verify", str(out), "--override", override).exit_code == 0
    shown = _ies("vc", "status", vc["id"], "-c", config)
    assert shown.exit_code == 0 and json.loads(shown.output)["status"] == "active"
    suspended = _ies("vc", "status", vc["id"], "-c", config, "--suspend", "--reason", "dispute")
    assert suspended.exit_code == 0 and json.loads(suspended.output)["status"] == "suspended"
    refused = _ies("vc", "verify", str(out), "--override", override)
    assert refused.exit_code == 1 and "VC_SUSPENDED" in _reason(refused)
    assert _ies("vc", "status", vc["id"], "-c", config, "--unsuspend").exit_code == 0
    assert _ies("vc", "verify", str(out), "--override", override).exit_code == 0
    assert _ies("vc", "revoke", vc["id"], "-c", config, "--reason", "moved out").exit_code == 0
    revoked = _ies("vc", "verify", str(out), "--override", override)
    assert revoked.exit_code == 1 and "VC_REVOKED" in _reason(revoked)
    again = _ies("vc", "revoke", vc["id"], "-c", config)
    assert again.exit_code == 1 and "CONFLICT" in _reason(again)
    unknown = _ies("vc", "status", "urn:uuid:00000000-0000-4000-8000-000000000000", "-c", config)
    assert unknown.exit_code == 1


def test_present_a_credential_and_an_sd_jwt(
    issuer_env: IssuerEnv, holder: Holder, tmp_path: Path, files: dict[str, Path]
) -> None:
    vc, _ = issuer_env.issued(issuer_env.passport(holder), holder)
    (tmp_path / "vc.json").write_text(json.dumps(vc))
    vp_file = tmp_path / "vp.json"
    result = _ies(
        "vc", "present", str(tmp_path / "vc.json"), "--holder-key", str(files["holder"]),
        "--challenge", "n-123", "--domain", "bank.example", "--out", str(vp_file),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = {
        "verifiablePresentation": json.loads(vp_file.read_text()),
        "options": {"challenge": "n-123", "domain": "bank.example"},
    }
    report = httpx.post(f"{issuer_env.verifier_url}/presentations/verify", json=body, timeout=30).json()
    assert report["verified"] is True and report["holder"] == holder.did
    body["options"]["challenge"] = "replayed"
    report = httpx.post(f"{issuer_env.verifier_url}/presentations/verify", json=body, timeout=30).json()
    assert report["verified"] is False and report["errors"][0]["code"] == "VP_CHALLENGE_MISMATCH"

    sd, _ = issuer_env.issued(issuer_env.passport(holder), holder, format="sd-jwt-vc")
    (tmp_path / "sd.txt").write_text(sd)
    shown = tmp_path / "shown.txt"
    reveal = "credentialSubject.customerProfile.consumptionProfiles"
    result = _ies(
        "vc", "present", str(tmp_path / "sd.txt"), "--holder-key", str(files["holder"]),
        "--challenge", "n-9", "--domain", "bank.example", "--reveal", reveal, "--out", str(shown),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = {
        "verifiablePresentation": shown.read_text().strip(),
        "options": {"challenge": "n-9", "domain": "bank.example"},
    }
    report = httpx.post(f"{issuer_env.verifier_url}/presentations/verify", json=body, timeout=30).json()
    assert report["verified"] is True, report
    subject = report["credentials"][0]["credentialSubject"]
    assert subject["customerProfile"]["consumptionProfiles"][0]["tariffCategoryCode"] == "RES-01"
    assert subject.get("customerDetails", {}) == {}  # no name, address or connection date
    assert "idRef" not in subject["customerProfile"] and "customerNumber" not in subject["customerProfile"]
