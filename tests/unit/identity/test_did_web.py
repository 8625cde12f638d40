"""did:web: DID ↔ URL mapping (W3C CCG did:web spec examples), syntax, and the node document builder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import UsageError
from ies.identity.did import (
    DIDInvalid,
    PublishedKey,
    build_did_document,
    did_web_for_subscriber,
    did_web_from_url,
    did_web_location,
    key_from_method,
    node_did_document,
    parse_did,
    parse_did_url,
)
from ies.identity.keys import NodeKeys

# The did:web spec's own examples (§3.2 "Read (Resolve)"), plus the IES register guide's forms.
MAPPING_CASES = [
    ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ("did:web:example.com%3a3000", "https://example.com:3000/.well-known/did.json"),
    ("did:web:Example.COM:Users:Alice", "https://example.com/Users/Alice/did.json"),
    (
        "did:web:discom.example:assets:meter:MTR%2F0042",
        "https://discom.example/assets/meter/MTR%2F0042/did.json",
    ),
    ("did:web:127.0.0.1%3A8001", "https://127.0.0.1:8001/.well-known/did.json"),
]


@pytest.mark.parametrize(("did", "url"), MAPPING_CASES)
def test_did_maps_to_the_document_url(did: str, url: str) -> None:
    assert did_web_location(did).document_url() == url


def test_location_parts_and_scheme() -> None:
    loc = did_web_location("did:web:node.example%3A8443:a:b")
    assert (loc.host, loc.port, loc.path_segments) == ("node.example", 8443, ("a", "b"))
    assert loc.document_url(scheme="http") == "http://node.example:8443/a/b/did.json"


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "not a did:web"),
        ("did:web:example.com%3A", "invalid port"),
        ("did:web:example.com%3A99999", "invalid port"),
        ("did:web:example.com%3A0", "invalid port"),
        ("did:web:example.com%3Aabc", "invalid port"),
        ("did:web:exa_mple.com", "not a domain name"),
        ("did:web:-example.com", "not a domain name"),
        ("did:web:example.com%2Fevil", "not a domain name"),
        ("did:web:user%40example.com", "not a domain name"),
        ("did:web:example.com::alice", "leave the DID's path"),
        ("did:web:example.com:..:etc", "leave the DID's path"),
        ("did:web:example.com:%2E%2E", "leave the DID's path"),
        ("did:web:example.com:a%2F..", "leave the DID's path"),
        ("did:web:example.com:%00", "leave the DID's path"),
        ("did:web:", "not a valid DID"),
        ("did:web:example.com/path", "DID URL"),
        ("did:web:exa mple.com", "not a valid DID"),
        ("DID:web:example.com", "must start with 'did:'"),
        ("did:WEB:example.com", "not a valid DID"),
    ],
)
def test_invalid_did_webs_are_refused_with_the_reason(did: str, message: str) -> None:
    with pytest.raises(DIDInvalid, match=message):
        did_web_location(did)


def test_did_url_parts() -> None:
    parts = parse_did_url("did:web:example.com:u:alice/some/path?versionId=1#key-1")
    assert (parts.did, parts.path, parts.query, parts.fragment) == (
        "did:web:example.com:u:alice",
        "/some/path",
        "versionId=1",
        "key-1",
    )
    bare = parse_did_url("did:key:z6Mk1")
    assert (bare.path, bare.query, bare.fragment) == ("", None, None)
    assert parse_did_url("did:web:example.com#").fragment == ""
    with pytest.raises(DIDInvalid, match="invalid fragment"):
        parse_did_url("did:web:example.com#a b")
    with pytest.raises(DIDInvalid, match="longer than"):
        parse_did("did:web:" + "a" * 3000)


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("http://127.0.0.1:8001", "did:web:127.0.0.1%3A8001"),
        ("https://example.com/", "did:web:example.com"),
        ("https://example.com/.well-known/did.json", "did:web:example.com"),
        ("https://example.com:8443/user/alice/did.json", "did:web:example.com%3A8443:user:alice"),
        ("http://localhost:9000/u/a/", "did:web:localhost%3A9000:u:a"),
    ],
)
def test_url_maps_back_to_the_did(url: str, did: str) -> None:
    assert did_web_from_url(url) == did
    assert did_web_from_url(did_web_location(did).document_url()) == did  # and back again


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_CONTROL = tuple(f"%{c:02X}" for c in range(0x20))
_SEGMENT = st.from_regex(r"([A-Za-z0-9_-]|%[0-9A-F]{2}){1,12}", fullmatch=True).filter(
    lambda s: (
        s.replace("%2E", ".") not in (".", "..") and "%2F" not in s and not any(c in s for c in _CONTROL)
    )
)


@settings(max_examples=100, deadline=None)
@given(
    labels=st.lists(_LABEL, min_size=1, max_size=4).filter(lambda ls: not ls[-1].isdigit()),
    port=st.none() | st.integers(min_value=1, max_value=65535),
    segments=st.lists(_SEGMENT, max_size=4),
)
def test_did_to_url_and_back_for_generated_dids(
    labels: list[str], port: int | None, segments: list[str]
) -> None:
    host = ".".join(labels)
    did = ":".join(["did:web", host if port is None else f"{host}%3A{port}", *segments])
    loc = did_web_location(did)
    assert (loc.host, loc.port, loc.path_segments) == (host, port, tuple(segments))
    assert did_web_from_url(loc.document_url()) == did


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "https://", "https://u:p@example.com", "https://e.com/?q=1"]
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError):
        did_web_from_url(url)


def test_subscriber_ids_become_did_webs() -> None:
    assert did_web_for_subscriber("bap1.ies.local") == "did:web:bap1.ies.local"
    assert did_web_for_subscriber("did:web:discom.example:bpp") == "did:web:discom.example:bpp"
    with pytest.raises(UsageError, match="gives no did:web"):
        did_web_for_subscriber("not a host")


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_node_document_publishes_signing_and_encryption_keys() -> None:
    keys = NodeKeys.generate("bpp1-k1")
    did = "did:web:bpp1.ies.local"
    doc = node_did_document(
        did,
        keys,
        services=[
            {"id": "#beckn", "type": "BecknSubscriber", "serviceEndpoint": "http://127.0.0.1:8001/beckn"}
        ],
    )
    assert doc["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert doc["id"] == did
    signing, encryption = doc["verificationMethod"]
    assert signing["id"] == f"{did}#bpp1-k1"
    assert encryption["id"] == f"{did}#bpp1-k1-x25519"
    assert key_from_method(signing) == ("Ed25519", keys.signing.public_key)
    assert key_from_method(encryption) == ("X25519", keys.encryption.public_key)
    assert signing["publicKeyMultibase"].startswith("z6Mk")
    assert encryption["publicKeyMultibase"].startswith("z6LS")
    assert doc["authentication"] == doc["assertionMethod"] == [f"{did}#bpp1-k1"]
    assert doc["keyAgreement"] == [f"{did}#bpp1-k1-x25519"]
    assert doc["service"] == [
        {"id": f"{did}#beckn", "type": "BecknSubscriber", "serviceEndpoint": "http://127.0.0.1:8001/beckn"}
    ]
    for method in doc["verificationMethod"]:
        assert set(method) == {"id", "type", "controller", "publicKeyMultibase"}


def test_rotation_lists_old_and_new_keys_each_with_its_validity() -> None:
    old, new = NodeKeys.generate("k1"), NodeKeys.generate("k2")
    did = "did:web:issuer.example"
    doc = node_did_document(
        did,
        new,
        signing_valid_from=NOW,
        previous_keys=[
            PublishedKey("k1", "Ed25519", old.signing.public_key, valid_until=NOW + timedelta(days=1)),
            PublishedKey("k0", "Ed25519", bytes(range(32)), revoked_at=NOW - timedelta(days=3)),
        ],
    )
    by_id = {m["id"].split("#")[1]: m for m in doc["verificationMethod"]}
    assert set(by_id) == {"k2", "k2-x25519", "k1", "k0"}
    assert by_id["k2"]["validFrom"] == "2026-11-26T12:00:00Z"
    assert by_id["k1"]["expires"] == "2026-11-27T12:00:00Z"
    assert by_id["k0"]["revoked"] == "2026-11-23T12:00:00Z"
    # both live signing keys can assert; the revoked one is listed but usable for nothing
    assert doc["assertionMethod"] == [f"{did}#k2", f"{did}#k1"]
    assert doc["authentication"] == [f"{did}#k2", f"{did}#k1"]
    assert f"{did}#k0" not in doc["assertionMethod"] + doc["authentication"] + doc["keyAgreement"]


def test_jwk_form_for_verifiers_that_want_json_web_keys() -> None:
    keys = NodeKeys.generate("k1")
    doc = node_did_document("did:web:issuer.example", keys, key_format="JsonWebKey2020")
    assert doc["@context"][1] == "https://w3id.org/security/suites/jws-2020/v1"
    assert [m["type"] for m in doc["verificationMethod"]] == ["JsonWebKey2020", "JsonWebKey2020"]
    assert [m["publicKeyJwk"]["crv"] for m in doc["verificationMethod"]] == ["Ed25519", "X25519"]


def test_builder_refuses_duplicate_fragments() -> None:
    keys = [PublishedKey("a", "Ed25519", bytes(32)), PublishedKey("a", "X25519", bytes(32))]
    with pytest.raises(UsageError, match="unique"):
        build_did_document("did:web:example.com", keys)


def test_published_key_checks_its_own_fields() -> None:
    with pytest.raises(UsageError, match="fragment"):
        PublishedKey("key 1", "Ed25519", bytes(32))
    with pytest.raises(UsageError, match="32 bytes"):
        PublishedKey("k", "Ed25519", bytes(31))
    with pytest.raises(UsageError, match="timezone-aware"):
        PublishedKey("k", "Ed25519", bytes(32), valid_until=datetime(2026, 1, 1))
    with pytest.raises(UsageError, match="after valid_from"):
        PublishedKey("k", "Ed25519", bytes(32), valid_from=NOW, valid_until=NOW)
    with pytest.raises(UsageError, match="serviceEndpoint"):
        build_did_document("did:web:example.com", [], services=[{"id": "#x", "type": "T"}])
    with pytest.raises(DIDInvalid):
        build_did_document("did:web:exa mple.com", [])
