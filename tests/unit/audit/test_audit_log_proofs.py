"""Proofs served from the stored nodes agree with the independent RFC 9162 transcription; tree heads sign."""

from __future__ import annotations

import asyncio

import audit_reference_mth as ref
import pytest
from audit_helpers import SEED, build_log
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from ies.audit import AuditLog, InvalidTreeHead, SignedTreeHead, TreeHeadPublisher, publish_tree_head
from ies.audit._merkle import leaf_hash
from ies.errors import NotFoundError, UsageError
from ies.identity import SigningKeyPair

N = 23


@pytest.fixture
def log(engine: Engine) -> AuditLog:
    build_log(engine, N)
    return AuditLog(engine)


def _entry_hashes(log: AuditLog) -> list[bytes]:
    return [bytes.fromhex(e.entry_hash) for e in log.entries()]


def test_root_of_every_size_matches_the_reference(log: AuditLog) -> None:
    leaves = _entry_hashes(log)
    assert len(leaves) == N
    for size in range(N + 1):
        assert log.root(size) == ref.mth(leaves[:size])
    assert log.head().root_hash == ref.mth(leaves)


def test_inclusion_proofs_match_the_reference_and_verify(log: AuditLog) -> None:
    leaves = _entry_hashes(log)
    for size in (1, 7, 8, 16, N):
        root = ref.mth(leaves[:size])
        for seq in range(size):
            proof = log.inclusion_proof(seq, size)
            assert list(proof.path) == ref.path(seq, leaves[:size])
            assert proof.leaf_hash == leaf_hash(leaves[seq])
            proof.verify(root)


def test_consistency_proofs_match_the_reference_and_verify(log: AuditLog) -> None:
    leaves = _entry_hashes(log)
    for second in (1, 5, 8, 13, N):
        for first in range(0, second + 1):
            proof = log.consistency_proof(first, second)
            expected = ref.proof(first, leaves[:second]) if 0 < first < second else []
            assert list(proof.path) == expected
            proof.verify(ref.mth(leaves[:first]), ref.mth(leaves[:second]))


def test_a_proof_reads_a_logarithmic_number_of_nodes(engine: Engine, log: AuditLog) -> None:
    """O(log n) reads: every node lookup is one query whose bound (level, idx) pairs we count."""
    requested: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM audit_nodes" in statement and "audit_entries" not in statement:
            requested.append(len(params) // 2)

    try:
        for seq in range(N):
            log.inclusion_proof(seq, N)
        for first in range(1, N):
            log.consistency_proof(first, N)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(requested) == 2 * N - 1  # one node query per proof
    assert 0 < max(requested) <= 2 * (N - 1).bit_length() < N


def test_out_of_range_requests_are_usage_errors(log: AuditLog) -> None:
    with pytest.raises(UsageError, match="larger than the log"):
        log.inclusion_proof(0, N + 1)
    with pytest.raises(UsageError, match="not in a tree"):
        log.inclusion_proof(N, N)
    with pytest.raises(UsageError):
        log.consistency_proof(5, 4)
    with pytest.raises(NotFoundError):
        log.entry(N + 5)
    with pytest.raises(UsageError):
        list(log.entries(5, 2))


def test_entries_are_read_in_batches_in_order(log: AuditLog) -> None:
    assert [e.seq for e in log.entries(3, 20, batch=4)] == list(range(3, 20))
    assert [e.seq for e in log.entries(20, batch=2)] == [20, 21, 22]


class TestSignedTreeHeads:
    def test_published_head_signs_the_current_root(self, engine: Engine, log: AuditLog) -> None:
        pair = SigningKeyPair.from_seed(SEED)
        with Session(engine) as session, session.begin():
            sth = publish_tree_head(session, pair)
        assert sth.tree_size == N and sth.root == log.head().root_hash
        sth.verify(pair.public_key)
        assert log.latest_tree_head() == sth
        assert SignedTreeHead.from_dict(sth.to_dict()) == sth

    def test_any_accepted_signer_form_gives_the_same_key(self, engine: Engine, log: AuditLog) -> None:
        pair = SigningKeyPair.from_seed(SEED)
        with Session(engine) as session, session.begin():
            by_seed = publish_tree_head(session, SEED)
            by_function = publish_tree_head(session, pair.sign, public_key=pair.public_key)
        assert by_seed.log_id == by_function.log_id
        by_function.verify(pair.public_key)

    def test_a_signing_function_needs_its_public_key_and_must_match_it(
        self, engine: Engine, log: AuditLog
    ) -> None:
        pair, other = SigningKeyPair.from_seed(SEED), SigningKeyPair.generate()
        with Session(engine) as session, session.begin():
            with pytest.raises(UsageError, match="public_key"):
                publish_tree_head(session, pair.sign)
            with pytest.raises(InvalidTreeHead, match="signature"):
                publish_tree_head(session, pair.sign, public_key=other.public_key)
        assert log.latest_tree_head() is None

    def test_altered_heads_do_not_verify(self, engine: Engine, log: AuditLog) -> None:
        with Session(engine) as session, session.begin():
            sth = publish_tree_head(session, SEED)
        for field, value, message in [
            ("tree_size", 999, "signature"),
            ("root_hash", "00" * 32, "signature"),
            ("timestamp", "2020-01-01T00:00:00.000000Z", "signature"),
            ("log_id", "11" * 32, "log_id"),
            ("signature", "AAAA", "malformed"),
        ]:
            altered = SignedTreeHead.from_dict({**sth.to_dict(), field: value})
            with pytest.raises(InvalidTreeHead, match=message):
                altered.verify()

    def test_head_by_another_key_is_refused_when_a_key_is_pinned(self, engine: Engine, log: AuditLog) -> None:
        with Session(engine) as session, session.begin():
            sth = publish_tree_head(session, SigningKeyPair.generate())
        with pytest.raises(InvalidTreeHead, match="untrusted"):
            sth.verify(SigningKeyPair.from_seed(SEED).public_key)


def test_publisher_signs_only_when_the_log_grew(engine: Engine) -> None:
    publisher = TreeHeadPublisher(engine, SEED, interval_s=0.01)
    first = publisher.publish_if_grown()
    assert first is not None and first.tree_size == 0
    assert publisher.publish_if_grown() is None
    build_log(engine, 3)
    second = publisher.publish_if_grown()
    assert second is not None and second.tree_size == 3

    async def run_briefly() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(publisher.run(stop))
        await asyncio.sleep(0.05)
        stop.set()
        await task

    build_log(engine, 2)
    asyncio.run(run_briefly())
    latest = AuditLog(engine).latest_tree_head()
    assert latest is not None and latest.tree_size == 5
    assert len(AuditLog(engine).tree_heads()) == 3


def test_publisher_refuses_a_bad_signer_at_start(engine: Engine) -> None:
    with pytest.raises(UsageError):
        TreeHeadPublisher(engine, b"short")
