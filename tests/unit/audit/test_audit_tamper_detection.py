"""Property: any single edit, deletion, insertion or swap done with raw SQL is found by `ies audit verify`,
with its kind and position. Each example restores the same pristine log first (raw SQL snapshot), then
tampers with `audit_entries` only, as someone with database access but without the node's key would."""

from __future__ import annotations

from typing import Any

import pytest
from audit_helpers import build_log, restore, snapshot, verify_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from ies.audit import AuditLogTampered, verify_log

N = 13
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
COLUMNS = ["recorded_at", "kind", "actor", "subject", "payload", "prev_hash", "entry_hash"]


@pytest.fixture
def pristine(engine: Engine, db_url: str) -> tuple[Engine, str, dict[str, Any]]:
    build_log(engine, N, sth_at=(5, N))
    return engine, db_url, snapshot(engine)


def _sql(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def _row(engine: Engine, seq: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(text("SELECT * FROM audit_entries WHERE seq = :s"), {"s": seq}).one()._mapping
        )


def _edited_value(column: str, old: str) -> str:
    if column == "payload":
        return old.replace('"i":', '"i":1')  # still valid canonical JSON, different number
    if column == "recorded_at":
        return old[:-2] + ("1Z" if old[-2] != "1" else "2Z")
    if column in ("prev_hash", "entry_hash"):
        return ("f" if old[0] != "f" else "e") + old[1:]
    return old + "!"


def _findings(report: dict[str, Any]) -> set[tuple[str, int | None]]:
    return {(f["kind"], f["position"]) for f in report["findings"]}


def test_untouched_log_verifies(pristine: tuple[Engine, str, dict[str, Any]]) -> None:
    _, url, _ = pristine
    code, report = verify_json(url)
    assert code == 0, report
    assert report["ok"] and report["entries"] == N and report["tree_heads_checked"] == 2


@SETTINGS
@given(position=st.integers(0, N - 1), column=st.sampled_from(COLUMNS))
def test_any_single_edit_is_found_at_its_position(
    pristine: tuple[Engine, str, dict[str, Any]], position: int, column: str
) -> None:
    engine, url, snap = pristine
    restore(engine, snap)
    old = _row(engine, position)[column]
    _sql(
        engine,
        f"UPDATE audit_entries SET {column} = :v WHERE seq = :s",
        v=_edited_value(column, old),
        s=position,
    )
    code, report = verify_json(url)
    assert code == 1
    assert ("edited", position) in _findings(report), report["findings"]


@SETTINGS
@given(position=st.integers(0, N - 1))
def test_any_single_deletion_is_found_at_its_position(
    pristine: tuple[Engine, str, dict[str, Any]], position: int
) -> None:
    engine, url, snap = pristine
    restore(engine, snap)
    _sql(engine, "DELETE FROM audit_entries WHERE seq = :s", s=position)
    code, report = verify_json(url)
    assert code == 1
    assert ("deleted", position) in _findings(report), report["findings"]


@SETTINGS
@given(position=st.integers(0, N), renumber=st.booleans())
def test_any_single_insertion_is_found_at_its_position(
    pristine: tuple[Engine, str, dict[str, Any]], position: int, renumber: bool
) -> None:
    """A forged row at `position`: later rows shifted up (renumber) or, at the end, simply appended."""
    engine, url, snap = pristine
    restore(engine, snap)
    template = _row(engine, min(position, N - 1))
    if position < N:
        if not renumber:
            return  # a middle insertion without renumbering would collide with the primary key
        _sql(engine, "UPDATE audit_entries SET seq = seq + 1000000 WHERE seq >= :p", p=position)
        _sql(engine, "UPDATE audit_entries SET seq = seq - 1000000 + 1 WHERE seq >= 1000000")
    forged = {**template, "seq": position, "actor": "forger", "entry_hash": "ab" * 32}
    _sql(
        engine,
        "INSERT INTO audit_entries (seq, recorded_at, kind, actor, subject, payload, prev_hash, entry_hash) "
        "VALUES (:seq, :recorded_at, :kind, :actor, :subject, :payload, :prev_hash, :entry_hash)",
        **forged,
    )
    code, report = verify_json(url)
    assert code == 1
    assert ("inserted", position) in _findings(report), report["findings"]


@SETTINGS
@given(pair=st.lists(st.integers(0, N - 1), min_size=2, max_size=2, unique=True))
def test_any_swap_of_two_entries_is_found_at_their_positions(
    pristine: tuple[Engine, str, dict[str, Any]], pair: list[int]
) -> None:
    engine, url, snap = pristine
    restore(engine, snap)
    i, j = sorted(pair)
    row_i, row_j = _row(engine, i), _row(engine, j)
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS)
    _sql(engine, f"UPDATE audit_entries SET {sets} WHERE seq = :seq", **{**row_j, "seq": i})
    _sql(engine, f"UPDATE audit_entries SET {sets} WHERE seq = :seq", **{**row_i, "seq": j})
    code, report = verify_json(url)
    assert code == 1
    found = _findings(report)
    assert {("reordered", i), ("reordered", j)} & found, report["findings"]
    assert not any(kind in ("edited", "renumbered") for kind, _ in found), "only the two moved entries"


def test_rewritten_tree_nodes_are_reported(pristine: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, url, _ = pristine
    _sql(engine, "UPDATE audit_nodes SET hash = :h WHERE level = 1 AND idx = 2", h=b"\x00" * 32)
    code, report = verify_json(url)
    assert code == 1
    assert ("tree", 4) in _findings(report)


def test_verify_log_fails_closed_with_every_finding(pristine: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, _, _ = pristine
    assert verify_log(engine).entries == N
    _sql(engine, "DELETE FROM audit_entries WHERE seq = 4")
    with pytest.raises(AuditLogTampered) as info:
        verify_log(engine)
    assert info.value.code == "AUD_LOG_TAMPERED"
    assert {"kind": "deleted", "position": 4} in [
        {k: f[k] for k in ("kind", "position")} for f in info.value.details["findings"]
    ]


def test_with_a_damaged_tree_positions_come_from_sequence_numbers(
    pristine: tuple[Engine, str, dict[str, Any]],
) -> None:
    engine, url, _ = pristine
    _sql(engine, "DELETE FROM audit_nodes WHERE level = 0 AND idx = 3")
    _sql(engine, "DELETE FROM audit_entries WHERE seq = 7")
    _sql(engine, "UPDATE audit_entries SET subject = 'changed' WHERE seq = 9")
    code, report = verify_json(url)
    assert code == 1
    assert {("tree", 3), ("deleted", 7), ("edited", 9)} <= _findings(report)


def test_a_forged_stored_tree_head_is_reported(pristine: tuple[Engine, str, dict[str, Any]]) -> None:
    engine, url, _ = pristine
    _sql(engine, "UPDATE audit_tree_heads SET tree_size = 4 WHERE tree_size = 5")
    code, report = verify_json(url)
    assert code == 1
    assert any(f["kind"] == "tree_head" and "signature" in f["message"] for f in report["findings"])
