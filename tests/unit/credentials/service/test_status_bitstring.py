"""Bitstring Status List v1.0 wire form: bit order, GZIP + multibase base64url, length and range errors."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.credentials.errors import StatusUnavailable
from ies.credentials.status import MIN_LIST_BITS, StatusListError, decode_list, encode_list, get_bit, set_bits

# The example list of Bitstring Status List v1.0 (§2.2, Example "BitstringStatusListCredential"): an empty
# list of 16 KiB, as another implementation encoded it (source: https://www.w3.org/TR/vc-bitstring-status-list/).
SPEC_EMPTY_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_spec_example_list_decodes_to_131072_clear_bits() -> None:
    raw = decode_list(SPEC_EMPTY_LIST)
    assert len(raw) * 8 == MIN_LIST_BITS == 131_072
    assert not any(raw)


def test_index_zero_is_the_left_most_bit() -> None:
    raw = set_bits(MIN_LIST_BITS, [0, 9])
    assert raw[0] == 0b1000_0000
    assert raw[1] == 0b0100_0000
    assert get_bit(raw, 0) and get_bit(raw, 9) and not get_bit(raw, 1)


def test_encoded_list_is_multibase_base64url_of_gzip() -> None:
    raw = set_bits(MIN_LIST_BITS, [5, 131_071])
    encoded = encode_list(raw)
    assert encoded.startswith("u")
    assert not set("+/=") & set(encoded)
    body = encoded[1:]
    assert gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == raw
    assert encode_list(raw) == encoded  # deterministic: no timestamp in the GZIP header


@settings(max_examples=60, deadline=None)
@given(
    indexes=st.sets(st.integers(min_value=0, max_value=MIN_LIST_BITS - 1), max_size=200),
    probes=st.lists(st.integers(min_value=0, max_value=MIN_LIST_BITS - 1), max_size=50),
)
def test_round_trip_keeps_exactly_the_set_bits(indexes: set[int], probes: list[int]) -> None:
    raw = decode_list(encode_list(set_bits(MIN_LIST_BITS, indexes)))
    for index in [*indexes, *probes]:
        assert get_bit(raw, index) == (index in indexes)
    assert sum(bin(b).count("1") for b in raw) == len(indexes)


def test_list_shorter_than_herd_privacy_minimum_is_refused() -> None:
    short = encode_list(bytes(MIN_LIST_BITS // 8 - 1))
    with pytest.raises(StatusListError) as err:
        decode_list(short)
    assert err.value.code == "VC_STATUS_LIST_LENGTH_ERROR"
    assert isinstance(err.value, StatusUnavailable)  # a refusal, never "valid"


def test_index_outside_the_list_is_a_range_error() -> None:
    raw = set_bits(MIN_LIST_BITS, [])
    with pytest.raises(StatusListError) as err:
        get_bit(raw, MIN_LIST_BITS)
    assert err.value.code == "VC_STATUS_RANGE_ERROR"


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "u!!!!",
        "u" + base64.urlsafe_b64encode(b"not gzip at all").decode().rstrip("="),
        "u" + base64.b64encode(gzip.compress(bytes(16384))).decode(),  # padded standard base64
        "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384))[:-12]).decode().rstrip("="),  # truncated
    ],
)
def test_malformed_encoded_lists_are_refused(encoded: str) -> None:
    with pytest.raises(StatusListError):
        decode_list(encoded)


def test_decompression_bomb_is_refused_without_expanding_it() -> None:
    bomb = gzip.compress(bytes(32 * 1024 * 1024), compresslevel=9)  # 32 MiB of zeros in ~32 KiB
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(StatusListError, match="expands beyond"):
        decode_list(encoded)


def test_set_bits_refuses_indexes_outside_the_list() -> None:
    with pytest.raises(ValueError):
        set_bits(MIN_LIST_BITS, [MIN_LIST_BITS])
    with pytest.raises(ValueError):
        set_bits(12, [])
