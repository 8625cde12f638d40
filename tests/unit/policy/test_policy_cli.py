"""`ies policy`: build, verify and evaluate signed bundles; exit 0 ok, 1 refused/invalid, 2 unusable input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ies.cli.main import app
from ies.identity.keys import NodeKeys, save_node_keys
from ies.policy.bundle import pack_bundle
from ies.policy.sources import DEFAULT_BUNDLE_DIR
from ies.policy.verify import read_archive


def run(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and stderr with rich's line wrapping undone."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


@pytest.fixture
def keyfile(tmp_path: Path) -> tuple[Path, NodeKeys]:
    keys = NodeKeys.generate("cerc-k1")
    path = tmp_path / "cerc.json"
    save_node_keys(path, keys)
    return path, keys


@pytest.fixture
def built(tmp_path: Path, keyfile: tuple[Path, NodeKeys]) -> tuple[Path, str]:
    out = tmp_path / "b.tar.gz"
    code, stdout, _ = run(
        "policy",
        "bundle",
        "build",
        str(DEFAULT_BUNDLE_DIR),
        "--key-file",
        str(keyfile[0]),
        "--out",
        str(out),
        "--publisher",
        "cerc.example",
    )
    assert code == 0, stdout
    summary = json.loads(stdout)
    assert summary["publisher"] == {"subscriber_id": "cerc.example", "key_id": "cerc-k1"}
    assert summary["version"] == "1.0.0" and len(summary["hash"]) == 64
    return out, keyfile[1].signing.public_key_b64


def test_verify_trusted_untrusted_tampered(built: tuple[Path, str], tmp_path: Path) -> None:
    bundle, key = built
    code, stdout, _ = run("policy", "bundle", "verify", str(bundle), "--trusted-key", key)
    assert code == 0 and json.loads(stdout)["verified"] is True
    other = NodeKeys.generate("x").signing.public_key_b64
    code, _, stderr = run("policy", "bundle", "verify", str(bundle), "--trusted-key", other)
    assert code == 1 and "POL_BUNDLE_UNTRUSTED_KEY" in stderr
    members = read_archive(bundle.read_bytes())
    members["access.rego"] += b"\n# edited\n"
    tampered = tmp_path / "t.tar.gz"
    tampered.write_bytes(pack_bundle(members))
    code, _, stderr = run("policy", "bundle", "verify", str(tampered), "--trusted-key", key)
    assert code == 1 and "POL_BUNDLE_HASH_MISMATCH" in stderr
    (tmp_path / "junk.tar.gz").write_text("junk")
    code, _, stderr = run("policy", "bundle", "verify", str(tmp_path / "junk.tar.gz"), "--trusted-key", key)
    assert code == 2 and "POL_BUNDLE_MALFORMED" in stderr
    code, _, stderr = run("policy", "bundle", "verify", str(tmp_path / "none.tar.gz"), "--trusted-key", key)
    assert code == 2 and "does not exist" in stderr
    code, _, stderr = run("policy", "bundle", "verify", str(bundle), "--trusted-key", "not base64!")
    assert code == 2


def test_eval_a_decision(built: tuple[Path, str], tmp_path: Path) -> None:
    bundle, key = built
    facts: dict[str, Any] = {
        "roles": ["RESEARCHER"],
        "dataset": {"id": "m", "taxonomy": "Consumer", "criticality": "C2", "personal": True},
        "purpose": "research",
        "granularity": "record",
        "endpoint": "informational",
        "certified": False,
        "custodian": False,
    }
    (tmp_path / "in.json").write_text(json.dumps(facts))
    code, stdout, _ = run(
        "policy",
        "eval",
        str(bundle),
        "--query",
        "data.ies.access.decision",
        "--input",
        str(tmp_path / "in.json"),
        "--trusted-key",
        key,
    )
    assert code == 0
    out = json.loads(stdout)
    assert out["bundle"]["trusted"] is True
    assert (out["result"]["code"], out["result"]["rule"]) == ("POL_AGGREGATED_ONLY", "researcher-aggregated")
    code, stdout, stderr = run("policy", "eval", str(bundle), "--query", "data.ies.policy.min_k")
    assert code == 0 and json.loads(stdout)["result"] == 10 and "NOT checked" in stderr
    assert json.loads(stdout)["bundle"]["trusted"] is False
    code, _, stderr = run("policy", "eval", str(bundle), "--query", "x := ", "--trusted-key", key)
    assert code == 1 and "POL_EVALUATION_FAILED" in stderr
    (tmp_path / "bad.json").write_text("[1]")
    code, _, stderr = run(
        "policy", "eval", str(bundle), "--query", "data.x", "--input", str(tmp_path / "bad.json")
    )
    assert code == 2


def test_build_refuses_broken_sources(tmp_path: Path, keyfile: tuple[Path, NodeKeys]) -> None:
    src = tmp_path / "src"
    shutil.copytree(DEFAULT_BUNDLE_DIR, src)
    (src / "access.rego").write_text("package ies.access\n\ndecision := {\n")
    code, _, stderr = run(
        "policy", "bundle", "build", str(src), "--key-file", str(keyfile[0]), "--out", str(tmp_path / "o.tgz")
    )
    assert code == 1 and "POL_BUNDLE_COMPILE_FAILED" in stderr and "access.rego" in stderr
    assert not (tmp_path / "o.tgz").exists()
    code, _, stderr = run(
        "policy", "bundle", "build", str(src), "--key-file", str(tmp_path / "nokey.json"), "--out", "x"
    )
    assert code == 2


def test_catalogue_command() -> None:
    code, stdout, _ = run("policy", "catalogue", "--custodian", "d.example")
    assert code == 0
    ids = [d["id"] for d in json.loads(stdout)["datasets"]]
    assert "meter-data-interval" in ids and "scada-telemetry" in ids
    code, stdout, _ = run("policy", "catalogue", "--beckn")
    assert code == 0 and json.loads(stdout)["resources"][0]["resourceAttributes"]["@type"] == "DatasetItem"
