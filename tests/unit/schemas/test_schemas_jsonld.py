"""The offline JSON-LD loader: serves bundled contexts, refuses the rest, reproduces the W3C RDFC vectors,
and reports terms that drop out of expansion."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from ies.schemas import get, validate
from ies.schemas.jsonld import (
    bundled_contexts,
    context_drift,
    expand,
    offline_document_loader,
    processing_options,
    unmapped_terms,
)

VECTORS = Path(__file__).parent / "vectors" / "eddsa-rdfc-2022"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket fails the test: the loader must never fetch."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def _canonical(doc: Any) -> str:
    result = pyld_jsonld.normalize(
        doc, processing_options(algorithm="URDNA2015", format="application/n-quads")
    )
    assert isinstance(result, str)
    return result


def test_bundled_contexts_cover_the_catalogue_and_the_credential_suites() -> None:
    served = bundled_contexts()
    for url in (
        "https://www.w3.org/ns/credentials/v2",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        get("MeterData", "0.6").context_url,
        get("ElectricityCredential", "1.2").context_url,
    ):
        assert url in served and served[url].is_file(), url


def test_rdfc_canonical_form_of_the_w3c_eddsa_rdfc_2022_vector_is_reproduced_offline() -> None:
    signed = json.loads((VECTORS / "signedDataInt.json").read_text())
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert _canonical(unsigned) == (VECTORS / "canonDocDataInt.txt").read_text()
    proof_config = json.loads((VECTORS / "proofConfigDataInt.json").read_text())
    assert _canonical(proof_config) == (VECTORS / "proofCanonDataInt.txt").read_text()


def test_unknown_context_is_refused_not_fetched() -> None:
    loader = offline_document_loader()
    with pytest.raises(pyld_jsonld.JsonLdError):
        loader("https://example.org/some/context.jsonld", {})
    with pytest.raises(pyld_jsonld.JsonLdError):
        expand({"@context": "https://example.org/some/context.jsonld", "name": "x"})
    [finding] = unmapped_terms({"@context": "https://example.org/some/context.jsonld", "name": "x"})
    assert finding.rule == "jsonld.expansion-error"
    assert "https://example.org/some/context.jsonld" in finding.message


def test_extra_contexts_can_be_served_and_override_nothing_else() -> None:
    url = "https://contexts.example/test/v1"
    loader = offline_document_loader({url: {"@context": {"greeting": "https://vocab.example/greeting"}}})
    expanded = expand({"@context": url, "greeting": "hello"}, loader)
    assert expanded == [{"https://vocab.example/greeting": [{"@value": "hello"}]}]
    assert url not in offline_document_loader().urls()


def test_loader_returns_copies_so_callers_cannot_corrupt_the_bundle() -> None:
    loader = offline_document_loader()
    first = loader("https://www.w3.org/ns/credentials/v2", {})
    first["document"]["@context"]["id"] = "tampered"
    assert loader("https://www.w3.org/ns/credentials/v2", {})["document"]["@context"]["id"] == "@id"


def test_a_term_the_context_does_not_map_is_reported_with_its_path() -> None:
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:s", "meterNumbr": "M-1"},
    }
    [finding] = unmapped_terms(doc)
    assert finding.rule == "jsonld.term-unmapped"
    assert finding.path == "/credentialSubject/meterNumbr"
    assert finding.severity == "warning"


def test_unmapped_terms_are_warnings_by_default_and_errors_under_strict() -> None:
    doc = json.loads(
        (get("MeterDataRequest", "0.6").directory / "examples" / "Request_Example.json").read_text()
    )
    lenient = validate(doc)
    assert lenient.valid
    assert "jsonld.term-unmapped" in {w.rule for w in lenient.warnings}
    strict = validate(doc, strict=True)
    assert not strict.valid
    assert "jsonld.term-unmapped" in strict.rules()


def test_context_drift_flags_a_term_unknown_to_schema_and_vocabulary() -> None:
    entry = get("MeterData", "0.6")
    context = json.loads((entry.directory / "context.jsonld").read_text())
    assert context_drift(entry, context) == []
    context["@context"]["meterTemperatur"] = "ies:meterTemperatur"
    [finding] = context_drift(entry, context)
    assert (finding.rule, finding.path) == ("jsonld.context-drift", "/@context/meterTemperatur")


def test_the_bundled_vc_v2_base_context_is_pinned() -> None:
    """VC 2.0 says implementations MUST treat the base context as already retrieved; we ship it, and this
    pin (of the copy from w3c/vc-data-model 979c4af) fails on any change to it."""
    body = bundled_contexts()["https://www.w3.org/ns/credentials/v2"].read_bytes()
    assert (
        hashlib.sha256(body).hexdigest() == "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    )
