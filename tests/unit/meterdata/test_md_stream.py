"""The numpy boundary scanner must cut exactly the elements orjson would see, at any chunk size."""

from __future__ import annotations

import io

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import InvalidJSON
from ies.meterdata._stream import iter_elements

# strings full of the characters the scanner must not be fooled by
_TRICKY = st.text(alphabet=st.sampled_from(list('ab"\\[]{},: ü\n')), max_size=12)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TRICKY, inner, max_size=4),
    max_leaves=20,
)


def _split(data: bytes, chunk: int) -> list[object]:
    return [orjson.loads(e.data) for e in iter_elements(io.BytesIO(data), chunk)]


@settings(max_examples=60, deadline=None)
@given(elements=st.lists(st.dictionaries(_TRICKY, _JSON, max_size=4), max_size=6), chunk=st.integers(1, 64))
def test_elements_match_orjson_at_any_chunk_size(elements: list[dict[str, object]], chunk: int) -> None:
    for option in (0, orjson.OPT_INDENT_2):
        data = orjson.dumps(elements, option=option)
        assert _split(data, chunk) == elements


def test_offsets_point_at_the_element_bytes() -> None:
    data = b' [ {"a": "]}"} ,\n {"b": [1, {"c": "\\\\"}]} ] \n'
    found = list(iter_elements(io.BytesIO(data), 3))
    assert [e.index for e in found] == [0, 1]
    for element in found:
        assert data[element.offset : element.offset + len(element.data)] == element.data


def test_escaped_quote_across_a_chunk_boundary() -> None:
    doc = [{"k": 'x\\"]}' * 5}, {"k": "y"}]
    data = orjson.dumps(doc)
    for chunk in range(1, 12):
        assert _split(data, chunk) == doc


def test_a_single_root_object_is_one_element() -> None:
    assert _split(b'{"profileType": "INTERVAL", "x": [1, {"y": 2}]}', 4) == [
        {"profileType": "INTERVAL", "x": [1, {"y": 2}]}
    ]


def test_empty_array_has_no_elements() -> None:
    assert _split(b"[ ]", 2) == []


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"nope",
        b"[",
        b'[{"a": 1}',
        b'[{"a": "]}',
        b"[{},]",
        b"[,{}]",
        b"[{} {}]",
        b"[1, {}]",
        b"[{}] trailing",
        b"{}{}",
    ],
)
def test_unusable_bytes_raise_invalid_json(data: bytes) -> None:
    with pytest.raises(InvalidJSON):
        list(iter_elements(io.BytesIO(data), 2))
