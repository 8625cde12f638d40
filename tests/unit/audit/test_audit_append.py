"""`append` writes inside the caller's transaction: gapless sequence, linear chain, nothing uncommitted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ies.audit import AuditLog, append, append_many, verify_log
from ies.audit._entry import GENESIS_PREV_HASH, canonical_payload, entry_hash, entry_hash_of_canonical
from ies.audit._merkle import leaf_hash
from ies.audit.tables import AuditEntryRow, AuditNodeRow
from ies.errors import UsageError


def test_entries_get_gapless_sequence_numbers_and_a_linear_chain(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        first = append(session, "message.in", "bap.example.com", "msg-1", {"action": "search"})
        second = append(session, "message.out", "bpp.example.com", "msg-1", {"action": "on_search"})
    with Session(engine) as session, session.begin():
        third = append(session, "consent.transition", "did:key:z6Mk", "consent-9", {"to": "ACTIVE"})
    assert [first.seq, second.seq, third.seq] == [0, 1, 2]
    assert first.prev_hash == GENESIS_PREV_HASH
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    stored = list(AuditLog(engine).entries())
    assert stored == [first, second, third]
    # The stored hash is the hash of exactly what was stored.
    for e in stored:
        assert e.entry_hash == entry_hash(
            e.seq, e.recorded_at, e.kind, e.actor, e.subject, e.payload, e.prev_hash
        )


def test_payload_is_stored_as_rfc8785_canonical_json(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        entry = append(session, "policy.decision", "node", "req-1", {"b": 1, "a": [1.5, "é"], "c": None})
    assert entry.payload == '{"a":[1.5,"é"],"b":1,"c":null}'
    assert AuditLog(engine).entry(0).payload_json == {"a": [1.5, "é"], "b": 1, "c": None}


def test_rollback_of_the_action_removes_its_audit_line_and_keeps_the_sequence(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        append(session, "message.in", "a", "m0", {})
    with Session(engine) as session:
        session.begin()
        append(session, "message.in", "a", "m1", {})
        session.rollback()
    with Session(engine) as session, session.begin():
        entry = append(session, "message.in", "a", "m2", {})
    assert entry.seq == 1
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntryRow)) == 2
        leaves = session.scalars(select(AuditNodeRow.hash).where(AuditNodeRow.level == 0)).all()
    assert len(leaves) == 2
    assert leaves[1] == leaf_hash(bytes.fromhex(entry.entry_hash))


def test_times_are_utc_with_microseconds(engine: Engine) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    with Session(engine) as session, session.begin():
        entry = append(session, "message.in", "a", "m", {}, at=datetime(2026, 1, 1, 5, 30, tzinfo=ist))
    assert entry.recorded_at == "2026-01-01T00:00:00.000000Z"
    assert entry.time == datetime(2026, 1, 1, tzinfo=UTC)


BAD_INPUT: list[tuple[str, str, str, object, str]] = [
    ("Message", "a", "s", {}, "dotted lower-case"),
    ("message", "a", "s", {}, "dotted lower-case"),
    ("message.in", "", "s", {}, "actor"),
    ("message.in", "a", "", {}, "subject"),
    ("message.in", "a", "s", [1, 2], "JSON object"),
    ("message.in", "a", "s", {"n": 2**60}, "canonical JSON"),
    ("message.in", "a", "s", {"x": float("nan")}, "canonical JSON"),
]


def test_bad_input_is_refused_before_anything_is_written(engine: Engine) -> None:
    for kind, actor, subject, payload, message in BAD_INPUT:
        with Session(engine) as session, session.begin(), pytest.raises(UsageError, match=message):
            append(session, kind, actor, subject, payload)  # type: ignore[arg-type]
    assert AuditLog(engine).size() == 0


def test_naive_time_is_refused(engine: Engine) -> None:
    with Session(engine) as session, session.begin(), pytest.raises(UsageError, match="timezone-aware"):
        append(session, "message.in", "a", "s", {}, at=datetime(2026, 1, 1))


def test_over_long_actor_and_subject_are_clipped_with_a_digest_not_refused(engine: Engine) -> None:
    """A peer's over-long message id must not make the audit line (and so the NACK) fail."""
    with Session(engine) as session, session.begin():
        a = append(session, "message.in", "s" * 300, "m" * 600 + "1", {})
        b = append(session, "message.in", "s" * 300, "m" * 600 + "2", {})
    assert len(a.actor) == 255 and len(a.subject) == 512
    assert a.subject != b.subject  # distinct values stay distinct
    assert a.subject.startswith("m" * 400)


@settings(max_examples=80, deadline=None)
@given(
    seq=st.integers(0, 2**53 - 1),
    actor=st.text(min_size=1, max_size=20),
    subject=st.text(min_size=1, max_size=20),
    payload=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=4,
    ),
)
def test_spliced_entry_hash_equals_the_rfc8785_document_hash(
    seq: int, actor: str, subject: str, payload: dict[str, object]
) -> None:
    """The append fast path (canonical payload spliced in) hashes exactly the RFC 8785 document."""
    text_payload = canonical_payload(payload)
    args = (seq, "2026-01-01T00:00:00.000000Z", "message.in", actor, subject, text_payload, "ab" * 32)
    assert entry_hash_of_canonical(*args) == entry_hash(*args)


def test_append_many_chains_like_single_appends_under_one_lock(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        append(session, "message.in", "a", "first", {})
        batch = append_many(session, [("registry.change", "r", f"s{i}", {"i": i}) for i in range(20)])
        assert append_many(session, []) == []
        last = append(session, "message.out", "a", "last", {})
    assert [e.seq for e in batch] == list(range(1, 21))
    assert batch[0].prev_hash == AuditLog(engine).entry(0).entry_hash
    assert last.prev_hash == batch[-1].entry_hash
    report = verify_log(engine)
    assert report.entries == 22 and report.root_hash == AuditLog(engine).head().root_hash


def test_append_many_refuses_the_whole_batch_on_one_bad_record(engine: Engine) -> None:
    with Session(engine) as session, session.begin(), pytest.raises(UsageError, match="JSON object"):
        append_many(session, [("message.in", "a", "s", {}), ("message.in", "a", "s", [])])  # type: ignore[list-item]
    assert AuditLog(engine).size() == 0
