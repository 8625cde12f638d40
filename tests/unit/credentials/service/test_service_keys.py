"""The issuer's keys: the ES256 key file (0600, stable across restarts) and its DID-document entry."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from vc_service_helpers import Holder, IssuerEnv

from ies.credentials import ProofFormat
from ies.credentials.service.keys import P256_KEY_FILE, IssuerKeys, load_or_create_p256
from ies.errors import UsageError
from ies.identity.keys import NodeKeys


def test_p256_key_is_created_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / P256_KEY_FILE
    first = load_or_create_p256(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_p256(path)
    assert first.private_numbers() == again.private_numbers()
    path.write_text("not a key")
    with pytest.raises(UsageError):
        load_or_create_p256(path)


def test_format_picks_the_key_and_the_document_lists_it(tmp_path: Path) -> None:
    node = NodeKeys.generate("n-k1")
    keys = IssuerKeys("did:web:issuer.example", lambda: node, load_or_create_p256(tmp_path / "p.pem"))
    assert keys.for_format(ProofFormat.VC_JOSE_ES256).verification_method == "did:web:issuer.example#vc-es256"
    assert keys.for_format(ProofFormat.EDDSA_JCS_2022).verification_method == "did:web:issuer.example#n-k1"
    doc = keys.extend_did_document({"@context": ["https://www.w3.org/ns/did/v1"], "assertionMethod": ["#a"]})
    assert doc["assertionMethod"] == ["#a", "did:web:issuer.example#vc-es256"]
    assert doc["verificationMethod"][0]["publicKeyJwk"]["crv"] == "P-256"
    assert keys.extend_did_document(doc) == doc  # idempotent
    without = IssuerKeys("did:web:issuer.example", lambda: node)
    with pytest.raises(UsageError):
        without.for_format(ProofFormat.VC_JOSE_ES256)


def test_the_node_serves_both_keys_in_its_did_document(issuer_env: IssuerEnv, holder: Holder) -> None:
    doc = httpx.get(f"{issuer_env.url}/.well-known/did.json").json()
    assert doc["id"] == issuer_env.state.did
    assert f"{issuer_env.state.did}#vc-es256" in doc["assertionMethod"]
    assert f"{issuer_env.state.did}#issuer-k1" in doc["assertionMethod"]
    assert (issuer_env.home / P256_KEY_FILE).exists()
    assert stat.S_IMODE((issuer_env.home / P256_KEY_FILE).stat().st_mode) == 0o600
    jwt, _ = issuer_env.issued(issuer_env.passport(holder), holder, format="vc-jose-es256")
    assert issuer_env.verify(jwt).json()["verified"] is True
