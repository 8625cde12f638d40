"""The provider's access ledger on SQLite and PostgreSQL: transfers, pages, stops, the frequency window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from consent_helpers import CONSUMER, MANAGER, METER_1, METER_2, PROVIDER, example_artefact
from sqlalchemy import Engine

from ies.audit import AuditLog, verify_log
from ies.consent.artefact import ConsentArtefact
from ies.consent.enforcement import AccessRequest, RequestedReading
from ies.consent.ledger import AccessLedger, PageServed
from ies.consent.lifecycle import ConsentState
from ies.consent.source import VerifiedConsent
from ies.errors import NotFoundError, UsageError

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _consent() -> VerifiedConsent:
    return VerifiedConsent(ConsentArtefact.parse(example_artefact()), ConsentState.ACTIVE, 2, T0, MANAGER)


def _request() -> AccessRequest:
    return AccessRequest(
        CONSUMER,
        PROVIDER,
        "energy-advisory",
        (METER_1, METER_2),
        (RequestedReading("IntervalProfile", "kWh imp block", "USAGE"),),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 2, tzinfo=UTC),
    )


def _page(k: int, records: int) -> PageServed:
    return PageServed(
        k,
        (METER_1,),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 2, tzinfo=UTC),
        records,
        10 * records,
        "ab" * 32,
    )


def test_transfers_pages_and_the_principals_list(engine: Engine) -> None:
    ledger = AccessLedger(engine, PROVIDER)
    consent = _consent()
    transfer = ledger.start(
        consent, _request(), pages_total=2, records_total=192, page_size=96, transaction_id="t", at=T0
    )
    assert ledger.get(transfer.id).page_size == 96 and transfer.status == "OPEN"
    ledger.served(transfer, _page(0, 96), T0 + timedelta(seconds=1))
    assert ledger.get(transfer.id).status == "OPEN"
    ledger.served(transfer, _page(1, 96), T0 + timedelta(seconds=2))
    assert ledger.get(transfer.id).status == "COMPLETE"
    rows = ledger.accesses(principal_number="CN-1001")
    assert [(r["page"], r["records"], r["bytes"], r["requester"], r["purpose"]) for r in rows] == [
        (0, 96, 960, CONSUMER, "energy-advisory"),
        (1, 96, 960, CONSUMER, "energy-advisory"),
    ]
    assert ledger.accesses(principal_did=consent.artefact.principal_did) == rows
    assert ledger.accesses(principal_number="CN-9999") == []
    with pytest.raises(UsageError):
        ledger.accesses()
    with pytest.raises(NotFoundError):
        ledger.get("no-such-transfer")
    events = [e.payload_json["event"] for e in AuditLog(engine).entries() if e.kind == "consent.access"]
    assert events == ["transfer.start", "page.served", "page.served"]
    verify_log(engine)


def test_a_stopped_transfer_stays_stopped_and_is_audited_once(engine: Engine) -> None:
    ledger = AccessLedger(engine, PROVIDER)
    transfer = ledger.start(
        _consent(), _request(), pages_total=4, records_total=384, page_size=96, transaction_id=None, at=T0
    )
    ledger.stop(transfer, "POL_CONSENT_REVOKED", T0)
    ledger.stop(transfer, "POL_CONSENT_EXPIRED", T0)
    stopped = ledger.get(transfer.id)
    assert stopped.status == "STOPPED" and stopped.stop_code == "POL_CONSENT_REVOKED"
    stops = [
        e
        for e in AuditLog(engine).entries()
        if e.kind == "consent.access" and e.payload_json["event"] == "transfer.stop"
    ]
    assert len(stops) == 1


def test_the_frequency_window_rolls(engine: Engine) -> None:
    ledger = AccessLedger(engine, PROVIDER)
    consent = _consent()  # 4 transfers per P1D
    for hours in (0, 6, 23):
        ledger.start(
            consent,
            _request(),
            pages_total=1,
            records_total=1,
            page_size=1,
            transaction_id=None,
            at=T0 + timedelta(hours=hours),
        )
    assert ledger.recent_transfers(consent, T0 + timedelta(hours=23, minutes=1)) == 3
    assert (
        ledger.recent_transfers(consent, T0 + timedelta(hours=24, minutes=1)) == 2
    )  # the first left the window
    assert ledger.recent_transfers(consent, T0 + timedelta(days=2)) == 0
    assert isinstance(ledger.start_lock, asyncio.Lock)
