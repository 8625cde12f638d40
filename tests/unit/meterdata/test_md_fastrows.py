"""The byte-level compact-row parser must agree with orjson, or decline (never guess)."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.meterdata._fastrows import cut_intervals, parse_compact_rows

_VALUES = st.one_of(
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda x: abs(x) < 1e300),
)


def _profile(rows: list[dict[str, object]], indent: bool, after: bool = True) -> bytes:
    profile: dict[str, object] = {"profileType": "INTERVAL", "intervals": rows}
    if after:
        profile["compactSequenceRef"] = "Q[1]}"  # brackets after the array must not confuse the cut
    return orjson.dumps(profile, option=orjson.OPT_INDENT_2 if indent else 0)


@settings(max_examples=80, deadline=None)
@given(
    arity=st.integers(1, 5),
    data=st.data(),
    indent=st.booleans(),
)
def test_agrees_with_orjson_on_plain_compact_rows(arity: int, data: st.DataObject, indent: bool) -> None:
    count = data.draw(st.integers(1, 30))
    ids = data.draw(st.lists(st.integers(0, 10**6), min_size=count, max_size=count))
    rows = [{"id": i, "payloads": data.draw(st.lists(_VALUES, min_size=arity, max_size=arity))} for i in ids]
    raw = _profile(rows, indent)
    cut = cut_intervals(raw)
    assert cut is not None
    envelope, body = cut
    assert orjson.loads(envelope) == {
        "profileType": "INTERVAL",
        "intervals": [],
        "compactSequenceRef": "Q[1]}",
    }
    parsed = parse_compact_rows(body, arity)
    assert parsed is not None
    assert parsed[0].tolist() == ids
    assert np.array_equal(parsed[1], np.array([r["payloads"] for r in rows], dtype=np.float64))


@pytest.mark.parametrize(
    "rows",
    [
        '{"id": 0, "payloads": [1.0]}, {"id": 1, "payloads": [1.0], "overrides": [{"descriptorIndex": 0}]}',
        '{"id": 0, "payloads": ["1.5"]}',
        '{"id": 0, "payloads": [true]}',
        '{"id": 0, "payloads": [null]}',
        '{"id": 0, "payloads": [1.0, 2.0]}',
        '{"payloads": [1.0], "id": 0}',
        '{"ids": 0, "payloads": [1.0]}',
        '{"id": 0, "payload": [1.0]}',
        '{"id": 0, "payloads": [01]}',
        '{"id": 0, "payloads": [+1]}',
        '{"id": 0, "payloads": [.5]}',
        '{"id": 0, "payloads": [1 2]}',
        '{"id": 0, "payloads": [NaN]}',
        '{"id": 0.5, "payloads": [1.0]}',
        '{"id": 0, "payloads": [1.0]},',
        '{"id": 0, "payloads": [[1.0]]}',
    ],
)
def test_declines_anything_but_plain_rows_of_the_declared_arity(rows: str) -> None:
    assert parse_compact_rows(rows.encode(), 1) is None


def test_cut_needs_exactly_one_intervals_key() -> None:
    assert cut_intervals(b'{"intervals": [], "x": {"intervals": []}}') is None
    assert cut_intervals(b'{"profileType": "DAILY"}') is None


def test_empty_or_nested_array_is_cut_wrongly_but_then_declined() -> None:
    raw = json.dumps({"intervals": [], "meterRefs": [{"value": "m", "scheme": "DID"}]}).encode()
    cut = cut_intervals(raw)
    assert cut is None or parse_compact_rows(cut[1], 1) is None
