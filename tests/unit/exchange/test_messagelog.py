"""Message log and replay guard on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from ies.audit import AuditLog
from ies.errors import ReplayedMessage
from ies.exchange.messagelog import LoggedMessage, MessageLog
from ies.exchange.tables import MessageLogRow
from ies.store import session_factory, utcnow


def line(mid: str, outcome: str = "ACK") -> LoggedMessage:
    return LoggedMessage("in", "select", "bap.example", "bpp.example", mid, "t1", outcome, body="{}")


def test_replay_is_refused_until_the_claim_expires_and_leaves_no_line(engine: Engine) -> None:
    from ies.audit import append

    log = MessageLog(engine, append)
    key = ("bap.example", "select", "m1")
    log.record(line("m1"), replay_key=key, replay_until=utcnow() + timedelta(minutes=5))
    with pytest.raises(ReplayedMessage):
        log.record(line("m1"), replay_key=key, replay_until=utcnow() + timedelta(minutes=5))
    other_action = ("bap.example", "init", "m1")  # same id, other action: a different message
    log.record(line("m1"), replay_key=other_action)
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(MessageLogRow)) == 2
    assert len(log.messages(transaction_id="t1")) == 2
    assert AuditLog(engine).size() == 2  # the refused replay left no audit entry either


def test_an_expired_claim_can_be_taken_again(engine: Engine) -> None:
    log = MessageLog(engine)
    key = ("bap.example", "select", "m2")
    log.record(line("m2"), replay_key=key, replay_until=utcnow() - timedelta(seconds=1))
    log.record(line("m2"), replay_key=key, replay_until=utcnow() + timedelta(minutes=5))
    with pytest.raises(ReplayedMessage):
        log.record(line("m2"), replay_key=key)
    assert log.prune() == 0


def test_every_line_gets_an_audit_entry_in_the_same_transaction(engine: Engine) -> None:
    from ies.audit import append

    log = MessageLog(engine, append)
    log.record(line("m3"))
    log.record(line("m4", "NACK"))
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(MessageLogRow)) == 2
    assert AuditLog(engine).size() == 2


def test_a_failing_audit_sink_rolls_the_log_line_back(engine: Engine) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    log = MessageLog(engine, broken)
    with pytest.raises(RuntimeError):
        log.record(line("m5"), replay_key=("bap.example", "select", "m5"))
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(MessageLogRow)) == 0
    MessageLog(engine).record(
        line("m5"), replay_key=("bap.example", "select", "m5")
    )  # the claim was not kept
