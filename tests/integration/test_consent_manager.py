"""The consent manager over real processes: who may do what, signed answers, notifications, the CLI, audit.

Same network shape as the enforcement tests (registry, consent manager, DISCOM provider, two BAPs), on its
own ports. Every change a consent goes through must reach the data consumer (and the provider) as a signed
Beckn `on_update`, and every transition must be in the manager's audit log, which must still verify.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from consent_net import ASHA, METER_A1, RAVI, ConsentNet, nack_code, network_spec, page_of
from typer.testing import CliRunner

from ies.audit import AuditLog, verify_log
from ies.cli.main import app
from ies.consent.artefact import ConsentArtefact
from ies.consent.signatures import b64url, principal_did_of
from ies.consent.source import RESPONSE_SIGNATURE_HEADER
from ies.exchange.signing import parse_authorization, verify_parsed
from ies.sandbox.launcher import start_network, stop_network
from ies.store import open_engine, sqlite_url_for

runner = CliRunner()


@pytest.fixture(scope="module")
def cnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsentNet]:
    os.environ["IES_NODE_REGISTRY_CACHE_TTL_S"] = "0.2"
    state = start_network(network_spec(18760), tmp_path_factory.mktemp("consent-manager"))
    try:
        yield ConsentNet(state)
    finally:
        stop_network(state)
        os.environ.pop("IES_NODE_REGISTRY_CACHE_TTL_S", None)


def _notifications(cnet: ConsentNet, node: str, consent_id: str) -> list[dict[str, Any]]:
    """The consent notifications `node` accepted for one consent (read from its message log), in order."""
    db = Path(cnet.state.node(node).config).parent / "node.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT body FROM exchange_messages WHERE action = 'on_update' AND direction = 'in' "
            "AND outcome = 'ACK' AND transaction_id = ?",
            (consent_id.removeprefix("urn:uuid:"),),
        ).fetchall()
    notices = [json.loads(body)["message"]["consentNotification"] for (body,) in rows]
    return sorted(notices, key=lambda n: n["seq"])


def _wait_for(predicate: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)


def _cli(*args: str) -> Any:
    return runner.invoke(app, ["consent", *args])


def _key_file(tmp_path: Path, key: Any) -> Path:
    path = tmp_path / "principal.key"
    from ies.identity.keys import b64

    path.write_text(b64(key.seed))
    return path


def test_every_change_is_notified_to_the_consumer_and_the_provider(cnet: ConsentNet) -> None:
    consent = cnet.active_consent()
    assert cnet.act(consent, "pause").status_code == 200
    assert cnet.act(consent, "resume").status_code == 200
    revoked = cnet.act(consent, "revoke", reason="moving house")
    assert [n["status"] for n in revoked.json()["notified"]] == ["ACK", "ACK"]
    expected = [
        ("REQUEST", "REQUESTED"),
        ("APPROVE", "ACTIVE"),
        ("PAUSE", "PAUSED"),
        ("RESUME", "ACTIVE"),
        ("REVOKE", "REVOKED"),
    ]
    for node in ("advisor", "discom"):
        _wait_for(lambda node=node: len(_notifications(cnet, node, consent)) == len(expected))
        notices = _notifications(cnet, node, consent)
        assert [(n["action"], n["state"]) for n in notices] == expected, node
        assert all(n["consentManager"] == cnet.sub("cm") for n in notices)
        assert notices[-1]["transition"]["reason"] == "moving house"
        assert notices[-1]["transition"]["managerSignature"]["signer"] == cnet.sub("cm")
    # The data consumer checked each notice and keeps the newest state.
    _wait_for(lambda: _held(cnet, consent).get("state") == "REVOKED")
    held = _held(cnet, consent)
    assert held["state"] == "REVOKED" and held["seq"] == 5 and held["retention"] == "P30D"
    # A late (or replayed) earlier notice, even from the manager itself, changes nothing…
    approved = next(n for n in _notifications(cnet, "advisor", consent) if n["action"] == "APPROVE")
    assert _deliver(cnet, "cm", approved).status_code == 200
    # …and the same notice relayed by another participant is refused (not the manager's record).
    assert _deliver(cnet, "lender", approved).status_code == 200
    _wait_for(lambda: len(_notice_audit(cnet, consent)) >= 7)
    assert _held(cnet, consent)["state"] == "REVOKED"
    audited = _notice_audit(cnet, consent)
    assert [(a["accepted"], a.get("newer")) for a in audited[-2:]] == [(True, False), (False, None)]
    assert audited[-1]["code"] == "POL_CONSENT_SIGNATURE_INVALID"


def _notice_audit(cnet: ConsentNet, consent_id: str) -> list[dict[str, Any]]:
    """The advisor's `consent.notice` audit lines for one consent, in order."""
    engine = open_engine(sqlite_url_for(Path(cnet.state.node("advisor").config).parent / "node.db"))
    try:
        return [
            e.payload_json
            for e in AuditLog(engine).entries()
            if e.kind == "consent.notice" and e.subject == f"consent:{consent_id}"
        ]
    finally:
        engine.dispose()


def _held(cnet: ConsentNet, consent_id: str) -> dict[str, Any]:
    resp = httpx.get(
        f"{cnet.url('advisor')}/consent/v1/notices",
        params={"consent": consent_id},
        headers={"Authorization": f"Bearer {cnet.token('advisor')}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    notices = resp.json()["notices"]
    return dict(notices[0]) if notices else {}


def _deliver(cnet: ConsentNet, sender: str, notice: dict[str, Any]) -> httpx.Response:
    """POST a consent notice to the advisor as `sender` (signed with its registered key)."""
    body = {
        "context": {
            "action": "on_update",
            "version": "2.0.0",
            "bapId": cnet.sub("advisor"),
            "bapUri": cnet.state.node("advisor").beckn_url,
            "bppId": cnet.sub(sender),
            "bppUri": cnet.state.node(sender).beckn_url,
            "transactionId": notice["consentId"].removeprefix("urn:uuid:"),
            "messageId": str(uuid.uuid4()),
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        },
        "message": {"consentNotification": notice},
    }
    return cnet.signed_post(sender, f"{cnet.state.node('advisor').beckn_url}/on_update", body)


def test_answers_are_signed_by_the_manager_and_shown_only_to_parties(cnet: ConsentNet) -> None:
    consent = cnet.active_consent()
    mine = cnet.show(consent)
    assert mine.status_code == 200
    parsed = parse_authorization(mine.headers[RESPONSE_SIGNATURE_HEADER])
    assert parsed.subscriber_id == cnet.sub("cm")
    verify_parsed(parsed, mine.content, cnet.keys("cm").signing.public_key)
    assert [t["to"] for t in mine.json()["transitions"]] == ["REQUESTED", "ACTIVE"]
    assert cnet.show(consent, RAVI).status_code == 403  # another principal
    path = f"/consent/v1/consents/{consent}"
    assert httpx.get(cnet.url("cm") + path, timeout=30).status_code == 403  # nobody signed
    lender = cnet.signed_post(
        "lender", cnet.url("cm") + "/consent/v1/consents", cnet.draft(consumer="advisor")
    )
    assert lender.status_code == 409 and lender.json()["error"]["code"] == "CON_TRANSITION_NOT_ALLOWED"


def test_bad_requests_are_refused_with_their_reason(cnet: ConsentNet) -> None:
    unsigned = httpx.post(f"{cnet.url('cm')}/consent/v1/consents", json=cnet.draft(), timeout=30)
    assert unsigned.status_code == 403 and unsigned.json()["error"]["code"] == "AUT_UNAUTHORIZED_ACTION"
    wrong_purpose = cnet.request_consent(
        cnet.draft(purpose="loan-underwriting")
    )  # IntervalProfile not allowed
    assert wrong_purpose.status_code == 400
    assert wrong_purpose.json()["error"]["code"] == "CON_ARTEFACT_INVALID"
    assert wrong_purpose.json()["error"]["details"]["path"] == "$.dataScope.profiles[0].profileType"
    not_json = cnet.signed_post("advisor", f"{cnet.url('cm')}/consent/v1/consents", {"dataPrincipal": 1})
    assert not_json.status_code == 400


def test_another_principal_cannot_act_and_instructions_cannot_be_replayed(cnet: ConsentNet) -> None:
    consent = cnet.request_consent(cnet.draft()).json()["id"]
    artefact = ConsentArtefact.parse(cnet.show(consent).json()["artefact"])
    ravi = principal_did_of(RAVI)
    forged = {  # RAVI signs ASHA's consent: a valid signature, by the wrong person
        "type": "PrincipalSignature",
        "signer": ravi,
        "verificationMethod": f"{ravi}#{ravi.removeprefix('did:key:')}",
        "created": "2026-11-26T00:00:00Z",
        "signatureValue": b64url(RAVI.sign(artefact.canonical_bytes())),
    }
    refused = httpx.post(
        f"{cnet.url('cm')}/consent/v1/consents/{consent}/approve", json={"signature": forged}, timeout=30
    )
    assert refused.status_code == 409 and cnet.show(consent).json()["state"] == "REQUESTED"
    assert cnet.approve(consent).json()["state"] == "ACTIVE"
    from datetime import UTC, datetime

    from consent_net import iso

    from ies.consent.signatures import sign_instruction

    shown = cnet.show(consent).json()
    pause = sign_instruction(
        {"consentId": consent, "action": "PAUSE", "seq": shown["seq"], "at": iso(datetime.now(UTC))}, ASHA
    )
    url = f"{cnet.url('cm')}/consent/v1/consents/{consent}"
    assert httpx.post(f"{url}/pause", json=pause, timeout=30).json()["state"] == "PAUSED"
    assert cnet.act(consent, "resume").json()["state"] == "ACTIVE"
    replayed = httpx.post(f"{url}/pause", json=pause, timeout=30)
    assert replayed.status_code == 409 and replayed.json()["error"]["code"] == "CON_TRANSITION_NOT_ALLOWED"
    assert cnet.show(consent).json()["state"] == "ACTIVE"


def test_the_providers_portal_approves_with_evidence_and_the_provider_then_serves(
    cnet: ConsentNet, tmp_path: Path
) -> None:
    consent = cnet.request_consent(cnet.draft(principal={"consumerNumber": "CN-1001"})).json()["id"]
    evidence = tmp_path / "otp.json"
    evidence.write_text(
        json.dumps(
            {"method": "OTP", "channel": "SMS", "verifiedAt": "2026-11-26T00:00:00Z", "reference": "otp-7731"}
        )
    )
    discom_config = cnet.state.node("discom").config
    result = _cli(
        "approve",
        consent,
        "--manager",
        cnet.url("cm"),
        "--config",
        discom_config,
        "--evidence",
        str(evidence),
    )
    assert result.exit_code == 0, result.output
    approved = json.loads(result.output)
    assert approved["state"] == "ACTIVE"
    signature = approved["artefact"]["signatures"][0]
    assert (
        signature["type"] == "ProviderPortalAttestation" and signature["evidence"]["reference"] == "otp-7731"
    )
    assert page_of(cnet.start(cnet.meter_request(consent, resources=(METER_A1,))))["pageInfo"]["total"] == 96
    # The portal cannot pause without evidence; the lender cannot attest for the DISCOM.
    no_evidence = cnet.signed_post("discom", f"{cnet.url('cm')}/consent/v1/consents/{consent}/pause", {})
    assert no_evidence.status_code == 400 and no_evidence.json()["error"]["code"] == "CON_ARTEFACT_INVALID"


def test_the_cli_requests_lists_shows_and_revokes(cnet: ConsentNet, tmp_path: Path) -> None:
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps(cnet.draft()))
    advisor = cnet.state.node("advisor").config
    requested = _cli("request", str(draft), "--manager", cnet.url("cm"), "--config", advisor)
    assert requested.exit_code == 0, requested.output
    consent = json.loads(requested.output)["id"]
    key = _key_file(tmp_path, ASHA)
    assert _cli("approve", consent, "--manager", cnet.url("cm"), "--key", str(key)).exit_code == 0
    listed = _cli("list", "--manager", cnet.url("cm"), "--config", advisor, "--state", "active")
    assert listed.exit_code == 0 and consent in {c["id"] for c in json.loads(listed.output)}
    shown = _cli("show", consent, "--manager", cnet.url("cm"), "--key", str(key))
    assert json.loads(shown.output)["state"] == "ACTIVE"
    revoked = _cli("revoke", consent, "--manager", cnet.url("cm"), "--key", str(key), "--reason", "done")
    assert revoked.exit_code == 0 and json.loads(revoked.output)["state"] == "REVOKED"
    again = _cli("revoke", consent, "--manager", cnet.url("cm"), "--key", str(key))
    assert again.exit_code == 1 and "CON_TRANSITION_NOT_ALLOWED" in again.output
    missing = _cli("request", str(tmp_path / "nope.json"), "--manager", cnet.url("cm"), "--config", advisor)
    assert missing.exit_code == 2
    accesses = _cli("accesses", "--principal", "CN-1001", "--provider", cnet.url("discom"), "--key", str(key))
    assert accesses.exit_code == 0 and json.loads(accesses.output)["principal"] == "CN-1001"


def test_every_transition_is_in_the_managers_audit_log_which_verifies(cnet: ConsentNet) -> None:
    consent = cnet.active_consent()
    cnet.act(consent, "revoke")
    db = Path(cnet.state.node("cm").config).parent / "node.db"
    engine = open_engine(sqlite_url_for(db))
    try:
        verify_log(engine)
        lines = [
            e
            for e in AuditLog(engine).entries()
            if e.kind == "consent.transition" and e.subject == f"consent:{consent}"
        ]
        assert [(e.payload_json["action"], e.payload_json["to"]) for e in lines] == [
            ("REQUEST", "REQUESTED"),
            ("APPROVE", "ACTIVE"),
            ("REVOKE", "REVOKED"),
        ]
    finally:
        engine.dispose()


def test_the_consent_travels_as_a_request_credential(cnet: ConsentNet) -> None:
    consent = cnet.active_consent(resources=(METER_A1,))
    path = f"/consent/v1/consents/{consent}/credential"
    issued = cnet.signed_get("advisor", cnet.url("cm"), path)
    assert issued.status_code == 200, issued.text
    credential = issued.json()
    assert credential["issuer"]["id"] == f"did:web:{cnet.sub('cm')}"
    assert credential["credentialSubject"]["meterDataRequest"]["consumerConsent"] == [consent]
    served = page_of(cnet.start_with_credential(credential))
    assert served["pageInfo"]["total"] == 960  # the whole consented scope: 10 days of one meter
    assert nack_code(cnet.start_with_credential(credential, consumer="lender")) == "POL_CONSENT_WRONG_PARTY"
    tampered = json.loads(json.dumps(credential))
    tampered["credentialSubject"]["meterDataRequest"]["resources"] = [
        METER_A1,
        "did:web:x:assets:meter:OTHER",
    ]
    assert (nack_code(cnet.start_with_credential(tampered)) or "").startswith("VC_")
    assert cnet.act(consent, "revoke").json()["state"] == "REVOKED"
    # The credential is still signed and unexpired; the live check at the manager refuses it.
    assert nack_code(cnet.start_with_credential(credential)) == "POL_CONSENT_REVOKED"
    assert cnet.signed_get("advisor", cnet.url("cm"), path).json()["error"]["code"] == "POL_CONSENT_REVOKED"
    assert cnet.signed_get("lender", cnet.url("cm"), path).status_code == 403
