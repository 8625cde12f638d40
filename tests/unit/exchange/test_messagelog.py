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


def test_replay_is_refused_until_the_claim_expires_and_logged_as_a_nack(engine: Engine) -> None:
    from ies.audit import append_many

    log = MessageLog(engine, append_many)
    key = ("bap.example", "select", "m1")
    log.record(line("m1"), replay_key=key, replay_until=utcnow() + timedelta(minutes=5))
    with pytest.raises(ReplayedMessage):
        log.record(line("m1"), replay_key=key, replay_until=utcnow() + timedelta(minutes=5))
    other_action = ("bap.example", "init", "m1")  # same id, other action: a different message
    log.record(line("m1"), replay_key=other_action)
    lines = log.messages(transaction_id="t1")
    assert [(ln["action"], ln["outcome"], ln["error_code"]) for ln in lines] == [
        ("select", "ACK", None),
        ("select", "NACK", "NET_REPLAYED_MESSAGE"),  # in place of the refused line, nothing else
        ("select", "ACK", None),  # the line of the same id under the other action's claim
    ]
    assert AuditLog(engine).size() == 3


def test_group_commit_accepts_exactly_one_of_concurrent_duplicates(engine: Engine) -> None:
    import asyncio

    from ies.audit import append_many

    log = MessageLog(engine, append_many)

    async def go() -> list[BaseException | None]:
        async def one(i: int) -> BaseException | None:
            mid = f"dup{i % 5}"
            try:
                await log.arecord(line(mid), replay_key=("bap.example", "select", mid))
            except ReplayedMessage as exc:
                return exc
            return None

        return await asyncio.gather(*(one(i) for i in range(40)))

    outcomes = asyncio.run(go())
    assert sum(o is None for o in outcomes) == 5
    assert all(isinstance(o, ReplayedMessage) for o in outcomes if o is not None)
    lines = log.messages(limit=100)
    assert sum(ln["outcome"] == "ACK" for ln in lines) == 5
    assert sum(ln["error_code"] == "NET_REPLAYED_MESSAGE" for ln in lines) == 35
    assert AuditLog(engine).size() == 40


def test_an_expired_claim_can_be_taken_again(engine: Engine) -> None:
    log = MessageLog(engine)
    key = ("bap.example", "select", "m2")
    log.record(line("m2"), replay_key=key, replay_until=utcnow() - timedelta(seconds=1))
    log.record(line("m2"), replay_key=key, replay_until=utcnow() + timedelta(minutes=5))
    with pytest.raises(ReplayedMessage):
        log.record(line("m2"), replay_key=key)
    assert log.prune() == 0


def test_every_line_gets_an_audit_entry_in_the_same_transaction(engine: Engine) -> None:
    from ies.audit import append_many

    log = MessageLog(engine, append_many)
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

    async def concurrently() -> None:
        import asyncio

        results = await asyncio.gather(
            *(log.arecord(line(f"m6-{i}")) for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, RuntimeError) for r in results)

    import asyncio

    asyncio.run(concurrently())
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(MessageLogRow)) == 0
    MessageLog(engine).record(
        line("m5"), replay_key=("bap.example", "select", "m5")
    )  # the claim was not kept
