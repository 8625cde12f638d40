"""Entity DIDs follow decisions.md: internal ids verbatim when they are DID id-chars, the rest %-encoded."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import UsageError
from ies.registry.assets._identifiers import MAX_LOCAL_ID_CHARS, encode_id_segment, entity_did
from ies.registry.assets.structure import STRUCTURE, EntityClass


def test_class_paths_follow_the_ies_register_guide() -> None:
    def did(cls: EntityClass, local_id: str) -> str:
        return entity_did("ies.discom.example", STRUCTURE[cls].did_path, local_id)

    assert did(EntityClass.DISCOM, "ies.discom.example") == "did:web:ies.discom.example"
    assert did(EntityClass.METER, "NM-44091234") == "did:web:ies.discom.example:assets:meter:NM-44091234"
    assert did(EntityClass.TRANSFORMER, "DT-452") == "did:web:ies.discom.example:assets:dt:DT-452"
    assert did(EntityClass.EV_CHARGER, "EVC-2244") == "did:web:ies.discom.example:assets:ev-charger:EVC-2244"
    assert did(EntityClass.CONSUMER, "1102004567") == "did:web:ies.discom.example:consumers:1102004567"
    assert did(EntityClass.SERVICE_POINT, "SDP-1") == "did:web:ies.discom.example:connections:SDP-1"


@pytest.mark.parametrize(
    ("local_id", "segment"),
    [
        ("NM_44.09-1", "NM_44.09-1"),
        ("F02:DT/7", "F02%3ADT%2F7"),
        ("50%", "50%25"),
        ("A B", "A%20B"),
        ("मीटर", "%E0%A4%AE%E0%A5%80%E0%A4%9F%E0%A4%B0"),
    ],
)
def test_other_characters_are_percent_encoded(local_id: str, segment: str) -> None:
    assert encode_id_segment(local_id) == segment


def test_a_port_in_the_discom_host_is_written_as_pct_3a() -> None:
    did = entity_did("localhost:8443", ("assets", "meter"), "M1")
    assert did == "did:web:localhost%3A8443:assets:meter:M1"


@pytest.mark.parametrize("bad", ["", " M1", "M1 ", "x" * (MAX_LOCAL_ID_CHARS + 1)])
def test_unusable_internal_ids_are_refused(bad: str) -> None:
    with pytest.raises(UsageError):
        encode_id_segment(bad)


@pytest.mark.parametrize("bad", ["", "did:web:x", "a/b", "-lead.example", "x..y", "under_score.example"])
def test_discom_must_be_a_host_name(bad: str) -> None:
    with pytest.raises(UsageError):
        entity_did(bad, ("assets", "meter"), "M1")


_ids = st.text(min_size=1, max_size=40).filter(lambda s: s == s.strip())


@settings(max_examples=200, deadline=None)
@given(_ids, _ids)
def test_encoding_is_one_to_one_and_never_adds_a_separator(a: str, b: str) -> None:
    ea, eb = encode_id_segment(a), encode_id_segment(b)
    assert ":" not in ea and "/" not in ea
    assert unquote(ea) == a  # reversible, so two ids can never share a DID
    assert (ea == eb) == (a == b)
