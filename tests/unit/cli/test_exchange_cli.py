"""`ies exchange sign|verify` and `ies keys new` through the real CLI app."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from ies.cli.main import app

VECTOR = json.loads((Path(__file__).parents[2] / "vectors" / "beckn006_step1.json").read_text())
runner = CliRunner()


def _files(tmp_path: Path, private_b64: str) -> tuple[Path, Path]:
    body = tmp_path / "body.json"
    body.write_bytes(VECTOR["body"].encode())
    seed = tmp_path / "seed.b64"
    seed.write_text(private_b64 + "\n")
    return body, seed


def _sign(body: Path, seed: Path) -> str:
    result = runner.invoke(
        app,
        [
            "exchange",
            "sign",
            "--seed-file",
            str(seed),
            "--subscriber",
            VECTOR["subscriber_id"],
            "--key-id",
            VECTOR["key_id"],
            "--created",
            str(VECTOR["created"]),
            "--expires",
            str(VECTOR["expires"]),
            str(body),
        ],
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_sign_reproduces_the_beckn006_header_with_64_byte_and_seed_keys(tmp_path: Path) -> None:
    import base64

    body, seed = _files(tmp_path, VECTOR["private_key_b64"])
    assert _sign(body, seed) == VECTOR["authorization"]
    seed32 = base64.b64encode(base64.b64decode(VECTOR["private_key_b64"])[:32]).decode()
    body, seed = _files(tmp_path, seed32)
    assert _sign(body, seed) == VECTOR["authorization"]


def test_verify_exit_codes(tmp_path: Path) -> None:
    body, _ = _files(tmp_path, VECTOR["private_key_b64"])
    base = [
        "exchange",
        "verify",
        "--public-key",
        VECTOR["public_key_b64"],
        "--header",
        VECTOR["authorization"],
    ]
    ok = runner.invoke(app, [*base, "--at", str(VECTOR["created"] + 10), str(body)])
    assert ok.exit_code == 0 and "VALID" in ok.stdout
    late = runner.invoke(app, [*base, "--at", str(VECTOR["expires"] + 1), str(body)])
    assert late.exit_code == 1 and "expired" in late.stdout
    early = runner.invoke(app, [*base, "--at", str(VECTOR["created"] - 60), str(body)])
    assert early.exit_code == 1 and "future" in early.stdout
    tampered = tmp_path / "t.json"
    tampered.write_bytes(body.read_bytes().replace(b"Kochi", b"Kochj"))
    bad = runner.invoke(app, [*base, "--at", str(VECTOR["created"] + 10), str(tampered)])
    assert bad.exit_code == 1 and "AUT_SIGNATURE_INVALID" in bad.stdout
    unusable = runner.invoke(app, [*base[:3], "not-base64!", *base[4:], str(body)])
    assert unusable.exit_code == 2
    missing = runner.invoke(app, [*base, str(tmp_path / "nope.json")])
    assert missing.exit_code == 2


def test_sign_refuses_a_bad_key_file(tmp_path: Path) -> None:
    body, seed = _files(tmp_path, "c2hvcnQ=")
    result = runner.invoke(
        app, ["exchange", "sign", "--seed-file", str(seed), "--subscriber", "a", "--key-id", "k", str(body)]
    )
    assert result.exit_code == 2
    assert "32 or 64 bytes" in result.stderr


def test_keys_new_writes_a_0600_file_and_prints_no_private_key(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    result = runner.invoke(app, ["keys", "new", str(out), "--key-id", "k9"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    secret = json.loads(out.read_text())["seed_b64"]
    assert secret not in result.stdout
    assert json.loads(result.stdout)["key_id"] == "k9"
    again = runner.invoke(app, ["keys", "new", str(out)])
    assert again.exit_code == 2
