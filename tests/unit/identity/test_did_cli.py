"""`ies did show` and `ies did resolve` through the real CLI app, with exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from ies.cli.main import app
from ies.identity.did import did_key_document, did_router, node_did_document
from ies.identity.keys import NodeKeys, SigningKeyPair, b64, save_node_keys

SEED0_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"  # CCG vector, seed of 32 zero bytes
SEED0_PUBLIC_B64 = b64(SigningKeyPair.from_seed(bytes(32)).public_key)
# BECKN-006 (beckn/protocol-specifications): 64-byte private key, seed first, and its public key.
BECKN006_PRIVATE = "lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbldhrAY+NErqL9WD+Vav7TE5tyVXGXBle9ONZi2W7o144eQ=="
BECKN006_PUBLIC = "awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk="


def ies(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def json_out(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- ies did show ------------------------------------------------------------------------------------


def test_show_public_key_prints_the_did_and_its_document() -> None:
    result = ies("did", "show", "--public-key", SEED0_PUBLIC_B64)
    assert result.exit_code == 0, result.output
    first, _, rest = result.stdout.partition("\n")
    assert first == SEED0_DID
    assert json.loads(rest) == did_key_document(SEED0_DID)


def test_show_key_file_never_prints_private_material(tmp_path: Path) -> None:
    keys = NodeKeys.generate("k1")
    save_node_keys(tmp_path / "keys.json", keys)
    result = ies("did", "show", "--key-file", str(tmp_path / "keys.json"), "--json")
    out = json_out(result)
    assert out["document"]["verificationMethod"][0]["publicKeyMultibase"] == out["did"].split(":")[2]
    assert out == {"did": out["did"], "document": did_key_document(out["did"])}
    for secret in (b64(keys.signing.seed), b64(keys.encryption.private_key)):
        assert secret not in result.output


@pytest.mark.parametrize(
    ("content", "expected_public_b64"),
    [
        (json.dumps({"type": "Ed25519", "seed_b64": b64(bytes(32)), "public_key_b64": SEED0_PUBLIC_B64}),
         SEED0_PUBLIC_B64),
        (json.dumps({"public_key_b64": SEED0_PUBLIC_B64}), SEED0_PUBLIC_B64),
        (BECKN006_PRIVATE + "\n", BECKN006_PUBLIC),
        (b64(bytes(32)), SEED0_PUBLIC_B64),
    ],
)  # fmt: skip
def test_show_reads_every_key_file_form(tmp_path: Path, content: str, expected_public_b64: str) -> None:
    path = tmp_path / "key"
    path.write_text(content)
    by_file = json_out(ies("did", "show", "--key-file", str(path), "--json"))
    by_key = json_out(ies("did", "show", "--public-key", expected_public_b64, "--json"))
    assert by_file == by_key


def test_show_node_config_prints_the_node_did_web_document(tmp_path: Path) -> None:
    from ies.node.config import init_node, load_config

    config = init_node(tmp_path / "bpp1", name="bpp1", roles=["BPP"], port=8311)
    out = json_out(ies("did", "show", "--node-config", str(config), "--json"))
    keys = load_config(config).keys()
    assert out["did"] == "did:web:bpp1.ies.local"
    beckn = {"id": "#beckn", "type": "BecknSubscriber", "serviceEndpoint": "http://127.0.0.1:8311/beckn"}
    assert out["document"] == node_did_document("did:web:bpp1.ies.local", keys, services=[beckn])
    jwk = json_out(ies("did", "show", "--node-config", str(config), "--json", "--format", "jwk"))
    assert jwk["document"]["verificationMethod"][0]["type"] == "JsonWebKey2020"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one of"),
        (("--public-key", SEED0_PUBLIC_B64, "--key-file", "x"), "exactly one of"),
        (("--public-key", SEED0_PUBLIC_B64, "--format", "pem"), "--format must be one of"),
        (("--public-key", "not base64!"), "not valid base64"),
        (("--public-key", b64(bytes(31))), "32 bytes"),
        (("--key-file", "/nonexistent/keys.json"), "does not exist"),
        (("--node-config", "/nonexistent/config.toml"), "does not exist"),
    ],
)
def test_show_unusable_input_exits_2_with_a_message(args: tuple[str, ...], message: str) -> None:
    result = ies("did", "show", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1]", "not a JSON object"),
        ("{}", "neither seed_b64 nor public_key_b64"),
        (json.dumps({"seed_b64": b64(bytes(32)), "public_key_b64": BECKN006_PUBLIC}), "does not match"),
    ],
)
def test_show_refuses_broken_key_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    result = ies("did", "show", "--key-file", str(path))
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


# -- ies did resolve ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_server() -> Iterator[tuple[str, NodeKeys]]:
    """A real HTTP server on 127.0.0.1 serving the document of did:web:bpp.example at its root."""
    keys = NodeKeys.generate("bpp-k1")
    document = node_did_document("did:web:bpp.example", keys)
    web = FastAPI()
    web.include_router(did_router(lambda segments: document if segments == () else None))
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", keys
    server.should_exit = True
    thread.join(timeout=10)


def test_resolve_did_key_offline_as_json() -> None:
    assert json_out(ies("did", "resolve", SEED0_DID, "--json")) == did_key_document(SEED0_DID)


def test_resolve_did_web_through_an_override(node_server: tuple[str, NodeKeys]) -> None:
    base_url, keys = node_server
    did = "did:web:bpp.example"
    doc = json_out(ies("did", "resolve", did, "--override", f"{did}={base_url}", "--json"))
    assert doc == node_did_document(did, keys)
    human = ies("did", "resolve", did, "--override", f"{did}={base_url}")
    assert human.exit_code == 0
    lines = human.stdout.splitlines()
    assert lines[0] == did
    assert lines[1].split() == [
        f"{did}#bpp-k1",
        "Ed25519",
        "(Multikey)",
        "assertionMethod,",
        "authentication",
        "[usable]",
    ]
    assert lines[2].split() == [f"{did}#bpp-k1-x25519", "X25519", "(Multikey)", "keyAgreement", "[usable]"]


def test_resolve_with_a_document_file_override(tmp_path: Path) -> None:
    doc = {"id": "did:example:abc", "verificationMethod": []}
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    out = json_out(
        ies(
            "did",
            "resolve",
            "did:example:abc",
            "--override",
            f"did:example:abc=@{tmp_path}/doc.json",
            "--json",
        )
    )
    assert out == doc


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:web:bpp.example:nobody", "DID_NOT_FOUND"),
        ("did:web:exa_mple.com", "DID_INVALID"),
        ("not-a-did", "DID_INVALID"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", "DID_INVALID"),
        ("did:example:123", "DID_METHOD_NOT_SUPPORTED"),
    ],
)
def test_resolve_refusals_exit_1_with_the_code(
    node_server: tuple[str, NodeKeys], did: str, code: str
) -> None:
    base_url, _ = node_server
    result = ies("did", "resolve", did, "--override", f"did:web:bpp.example={base_url}")
    assert result.exit_code == 1, result.output
    assert f"[{code}]" in result.stderr
    assert "Traceback" not in result.output


def test_resolve_unreachable_host_exits_1() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    result = ies(
        "did",
        "resolve",
        "did:web:gone.example",
        "--override",
        f"did:web:gone.example=http://127.0.0.1:{closed}",
    )
    assert result.exit_code == 1
    assert "[DID_RESOLUTION_FAILED]" in result.stderr


@pytest.mark.parametrize(
    "override",
    ["no-equals-sign", "did:web:a.example=", "=http://x", "not-a-did=http://127.0.0.1:1", "did:web:a.example=ftp://x",
     "did:web:a.example=@/nonexistent.json"],
)  # fmt: skip
def test_resolve_malformed_overrides_exit_2(override: str) -> None:
    result = ies("did", "resolve", "did:web:a.example", "--override", override)
    assert result.exit_code == 2, result.output
    assert "[USAGE]" in result.stderr
