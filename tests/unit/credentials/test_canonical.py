"""RDFC with a work bound: poison graphs are refused instead of holding a verifier for hours."""

from __future__ import annotations

from typing import Any

import pytest

from ies.credentials import CredentialMalformed, ProofFormat, issue
from ies.credentials.canonical import MAX_LOOKALIKE_BLANK_NODES, rdfc

from .conftest import Issuer, alumni_credential

CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]


def _clique(size: int) -> dict[str, Any]:
    """`size` blank nodes each linked to all the others: indistinguishable, so N-degree hashing explodes."""
    nodes = [
        {"@id": f"_:b{i}", "link": [{"@id": f"_:b{j}"} for j in range(size) if j != i]} for i in range(size)
    ]
    return {
        "@context": CONTEXT,
        "id": "urn:uuid:1",
        "credentialSubject": {"id": "did:example:a", "item": nodes},
    }


def test_small_symmetric_graphs_still_canonicalise() -> None:
    assert rdfc(_clique(3)).count("_:c14n") > 0
    assert rdfc(_clique(4)).count("_:c14n") > 0


@pytest.mark.parametrize("size", [5, 7, MAX_LOOKALIKE_BLANK_NODES + 2, 40])
def test_poison_graphs_are_refused(size: int) -> None:
    with pytest.raises(CredentialMalformed, match="canonicalisation"):
        rdfc(_clique(size))


def test_issuing_a_poison_graph_is_refused(issuer: Issuer) -> None:
    credential = alumni_credential("did:example:a")
    credential["credentialSubject"]["item"] = _clique(9)["credentialSubject"]["item"]
    with pytest.raises(CredentialMalformed):
        issue(credential, key=issuer.ed25519, format=ProofFormat.EDDSA_RDFC_2022)


def test_look_alike_values_under_a_named_subject_are_fine() -> None:
    doc = alumni_credential("did:example:a")
    doc["credentialSubject"]["item"] = [{"value": 5, "unit": "kW"} for _ in range(20)]
    assert rdfc(doc).count('"kW"') == 20
