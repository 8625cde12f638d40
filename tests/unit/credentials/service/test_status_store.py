"""Status lists and the DeDi registry in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import Engine, func, select, update

from ies.credentials.status import (
    MIN_LIST_BITS,
    allocate,
    change_status,
    dedi,
    dedi_status_entry,
    entries_for,
    get_bit,
    list_bits,
    revocation_hash,
)
from ies.credentials.tables import StatusEntryRow, StatusListRow
from ies.errors import NotFoundError, UsageError
from ies.store import session_factory

ISSUER = "did:web:issuer.example"


def _allocate_many(engine: Engine, n: int, purpose: str = "revocation") -> list[tuple[str, int]]:
    sessions = session_factory(engine)
    out = []
    with sessions.begin() as session:
        for i in range(n):
            a = allocate(session, ISSUER, purpose, f"urn:uuid:{i:08x}-0000-4000-8000-000000000000")
            out.append((a.list_id, a.index))
    return out


def test_lists_have_herd_privacy_size_and_indexes_are_random(engine: Engine) -> None:
    got = _allocate_many(engine, 200)
    assert len(set(got)) == 200
    with session_factory(engine)() as session:
        lists = session.scalars(select(StatusListRow)).all()
    assert len(lists) == 1
    assert lists[0].size_bits >= MIN_LIST_BITS
    assert lists[0].allocated == 200
    indexes = sorted(i for _, i in got)
    # Random, not sequential: 200 uniform draws from 131,072 spread over the whole range.
    assert indexes != list(range(indexes[0], indexes[0] + 200))
    assert indexes[-1] - indexes[0] > MIN_LIST_BITS // 2
    assert sum(1 for i in indexes if i < MIN_LIST_BITS // 2) not in (0, 200)


def test_each_purpose_has_its_own_list(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        r = allocate(session, ISSUER, "revocation", "urn:uuid:a")
        s = allocate(session, ISSUER, "suspension", "urn:uuid:a")
        assert r.list_id != s.list_id
        assert {e.purpose for e in entries_for(session, "urn:uuid:a")} == {"revocation", "suspension"}
        with pytest.raises(UsageError):
            allocate(session, ISSUER, "refresh", "urn:uuid:a")


def test_a_full_list_makes_way_for_a_new_one(engine: Engine) -> None:
    sessions = session_factory(engine)
    _allocate_many(engine, 1)
    with sessions.begin() as session:
        session.execute(update(StatusListRow).values(capacity=StatusListRow.allocated))
    second = _allocate_many(engine, 1)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(StatusListRow)) == 2
        assert session.get(StatusListRow, second[0][0]).allocated == 1


def test_revoking_sets_the_bit_and_bumps_the_version(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        a = allocate(session, ISSUER, "suspension", "urn:uuid:x")
        b = allocate(session, ISSUER, "suspension", "urn:uuid:y")
    with sessions.begin() as session:
        assert change_status(session, "urn:uuid:x", "suspension", set_bit=True)
        assert not change_status(session, "urn:uuid:x", "suspension", set_bit=True)  # idempotent
    with sessions() as session:
        row, raw = list_bits(session, a.list_id)
        assert get_bit(raw, a.index) and not get_bit(raw, b.index)
        assert row.version == 1
    with sessions.begin() as session:
        assert change_status(session, "urn:uuid:x", "suspension", set_bit=False)
    with sessions() as session:
        row, raw = list_bits(session, a.list_id)
        assert not any(raw) and row.version == 2
        with pytest.raises(NotFoundError):
            change_status(session, "urn:uuid:x", "revocation", set_bit=True)
        with pytest.raises(NotFoundError):
            list_bits(session, "no-such-list")


def test_allocation_rolls_back_with_the_issuance(engine: Engine) -> None:
    sessions = session_factory(engine)
    _allocate_many(engine, 1)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        allocate(session, ISSUER, "revocation", "urn:uuid:rolled-back")
        raise RuntimeError("signing failed")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(StatusEntryRow)) == 1
        assert session.scalar(select(StatusListRow.allocated)) == 1


def test_concurrent_allocators_never_share_an_index(engine: Engine) -> None:
    results: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.extend(_allocate_many(engine, 25))
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == len(set(results)) == 100
    with session_factory(engine)() as session:
        assert session.scalar(select(func.sum(StatusListRow.allocated))) == 100


def test_dedi_registry_answers_by_hash_of_the_credential_id(engine: Engine) -> None:
    cid = "urn:uuid:e5f6a7b8-9012-34ab-cdef-567890123456"
    assert revocation_hash(cid) == hashlib.sha256(cid.encode()).hexdigest()
    entry = dedi_status_entry("http://127.0.0.1:9/", "issuer.example", cid, "revocation")
    assert entry == {
        "id": f"http://127.0.0.1:9/dedi/lookup/issuer.example/vc-revocation-registry/{revocation_hash(cid)}",
        "type": "dediregistry",
        "statusPurpose": "revocation",
        "statusListCredential": "http://127.0.0.1:9/dedi/query/issuer.example/vc-revocation-registry",
    }
    sessions = session_factory(engine)
    with sessions() as session:
        assert dedi.lookup(session, "vc-revocation-registry", revocation_hash(cid)) is None
    with sessions.begin() as session:
        assert dedi.record(session, "revocation", cid)
        assert not dedi.record(session, "revocation", cid)
        dedi.record(session, "suspension", "urn:uuid:other")
    with sessions.begin() as session:
        found = dedi.lookup(session, "vc-revocation-registry", revocation_hash(cid))
        assert found is not None and found.credential_id == cid
        assert dedi.lookup(session, "vc-suspension-registry", revocation_hash(cid)) is None
        assert dedi.lookup(session, "vc-revocation-registry", "not-a-hash") is None
        assert dedi.lookup(session, "no-registry", revocation_hash(cid)) is None
        assert [r.credential_id for r in dedi.query(session, "vc-suspension-registry")] == ["urn:uuid:other"]
        assert dedi.remove(session, "suspension", "urn:uuid:other")
        assert not dedi.remove(session, "suspension", "urn:uuid:other")
    with pytest.raises(UsageError):
        dedi_status_entry("http://x", "bad namespace", cid, "revocation")
