"""Who is calling (operator, participant, principal) and the offline CLI commands."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from consent_helpers import PRINCIPAL_DID, PRINCIPAL_KEY, example_documents, key
from typer.testing import CliRunner

from ies.cli.main import app
from ies.consent.auth import Caller, get_signing_bytes, identify_caller, principal_authorization
from ies.errors import SignatureInvalid, UnauthorizedAction
from ies.exchange.signing import build_authorization

runner = CliRunner()


async def _no_registry(header: str | None, body: bytes) -> Any:
    raise AssertionError("a principal or operator is never looked up in the registry")


def _identify(header: str | None, signed: bytes = b"GET /x") -> Caller:
    return asyncio.run(identify_caller(header, signed, admin_token="s3cret", authenticate=_no_registry))


def test_operator_principal_and_anonymous() -> None:
    assert _identify("Bearer s3cret").kind == "operator"
    with pytest.raises(UnauthorizedAction):
        _identify("Bearer guess")
    assert _identify(None) == Caller("anonymous")
    signed = get_signing_bytes("/consent/v1/consents?state=ACTIVE")
    caller = _identify(principal_authorization(PRINCIPAL_KEY, signed), signed)
    assert caller.kind == "principal" and caller.id == PRINCIPAL_DID
    caller.require("principal", "operator")
    with pytest.raises(UnauthorizedAction):
        caller.require("participant")


def test_a_principal_signature_must_be_fresh_short_lived_and_for_this_request() -> None:
    signed = get_signing_bytes("/consent/v1/consents/a")
    with pytest.raises(SignatureInvalid):
        _identify(principal_authorization(PRINCIPAL_KEY, signed), get_signing_bytes("/consent/v1/consents/b"))
    did = PRINCIPAL_DID
    now = int(time.time())
    for created, expires in ((now - 600, now - 300), (now, now + 3600), (now + 600, now + 700)):
        header = build_authorization(
            signed,
            subscriber_id=did,
            key_id=did.removeprefix("did:key:"),
            key=PRINCIPAL_KEY,
            created=created,
            expires=expires,
        )
        with pytest.raises(SignatureInvalid):
            _identify(header, signed)
    impostor = build_authorization(
        signed, subscriber_id=did, key_id=did.removeprefix("did:key:"), key=key("impostor"), created=now
    )
    with pytest.raises(SignatureInvalid):
        _identify(impostor, signed)


def test_participants_are_authenticated_by_the_exchange_verifier() -> None:
    seen: list[bytes] = []

    class Record:
        subscriber_id = "advisor.example"

    async def verifier(header: str | None, body: bytes) -> Any:
        seen.append(body)
        return object(), Record()

    header = build_authorization(
        b"{}", subscriber_id="advisor.example", key_id="k1", key=key("advisor"), created=int(time.time())
    )
    caller = asyncio.run(identify_caller(header, b"{}", admin_token="t", authenticate=verifier))
    assert caller == Caller("participant", "advisor.example", header) and seen == [b"{}"]


def test_cli_check_and_purposes(tmp_path: Path) -> None:
    good = tmp_path / "signed.json"
    good.write_text(json.dumps(example_documents()["consent-artefact-principal-signed.json"]))
    result = runner.invoke(app, ["consent", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["principalSignatures"] == [PRINCIPAL_DID]
    tampered = json.loads(good.read_text())
    tampered["retention"] = "P60D"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    result = runner.invoke(app, ["consent", "check", str(bad)])
    assert result.exit_code == 1 and "POL_CONSENT_SIGNATURE_INVALID" in result.output
    invalid = tmp_path / "invalid.json"
    invalid.write_text(
        json.dumps({**tampered, "purpose": {"code": "astrology", "catalogue": "ies-consent-purposes/1.0"}})
    )
    result = runner.invoke(app, ["consent", "check", str(invalid)])
    assert result.exit_code == 1 and "CON_ARTEFACT_INVALID" in result.output
    not_json = tmp_path / "x.json"
    not_json.write_text("{nope")
    assert runner.invoke(app, ["consent", "check", str(not_json)]).exit_code == 2
    assert runner.invoke(app, ["consent", "check", str(tmp_path / "missing.json")]).exit_code == 2
    purposes = runner.invoke(app, ["consent", "purposes"])
    assert purposes.exit_code == 0 and "energy-advisory" in purposes.output


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["consent", "show", "urn:uuid:x"])
    assert result.exit_code == 2 and "--manager" in result.output
    keyfile = tmp_path / "k"
    keyfile.write_text("not base64!")
    result = runner.invoke(
        app, ["consent", "show", "urn:uuid:x", "--manager", "http://127.0.0.1:9", "--key", str(keyfile)]
    )
    assert result.exit_code == 2
    result = runner.invoke(app, ["consent", "list", "--manager", "http://127.0.0.1:9", "--operator"])
    assert result.exit_code == 2
    unreachable = runner.invoke(app, ["consent", "purposes", "--manager", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 1 and "NET_PEER_UNREACHABLE" in unreachable.output
