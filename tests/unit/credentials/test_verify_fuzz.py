"""Whatever a credential is mutated into, `verify` answers with a CredentialInvalid (never another exception),
and a mutated credential that still verifies tells the verifier exactly what the issuer signed."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ies.credentials import CredentialInvalid, IssuerKey, ProofFormat, issue, verify
from ies.identity.resolver import DIDResolver

from .conftest import NOW, Issuer, alumni_credential

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
FORMATS = [ProofFormat.EDDSA_RDFC_2022, ProofFormat.EDDSA_JCS_2022, ProofFormat.VC_JOSE_EDDSA]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(doc: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


@pytest.fixture(scope="module")
def signed(issuer: Issuer, holder: IssuerKey) -> dict[ProofFormat, dict[str, Any] | str]:
    return {
        f: issue(alumni_credential(holder.did), key=issuer.ed25519, format=f, created=NOW) for f in FORMATS
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fmt=st.sampled_from(FORMATS), value=JSON, delete=st.booleans())
def test_mutations_are_refused_cleanly(
    data: st.DataObject,
    fmt: ProofFormat,
    value: Any,
    delete: bool,
    signed: dict[ProofFormat, Any],
    resolver: DIDResolver,
) -> None:
    original = signed[fmt]
    if isinstance(original, str):
        header, payload, signature = original.split(".")
        document = {"header": header, "payload": payload, "signature": signature}
    else:
        document = original
    path = data.draw(st.sampled_from(_paths(document)))
    mutated = _mutate(document, path, value, delete)
    if isinstance(original, str):
        candidate: Any = ".".join(str(mutated.get(k, "")) for k in ("header", "payload", "signature"))
    else:
        candidate = mutated
    try:
        result = verify(candidate, resolver=resolver, at=NOW)
    except CredentialInvalid:
        return
    # Only a change that alters nothing signed may pass (e.g. dropping a JCS proof's optional copy of the
    # document's @context): what the verifier is told must be exactly what the issuer signed.
    genuine = verify(original, resolver=resolver, at=NOW)
    assert json.dumps(result.credential, sort_keys=True) == json.dumps(genuine.credential, sort_keys=True)
    assert (result.issuer, result.verification_method) == (genuine.issuer, genuine.verification_method)


@settings(max_examples=40, deadline=None)
@given(value=JSON)
def test_arbitrary_json_is_refused_cleanly(value: Any) -> None:
    with pytest.raises(CredentialInvalid):
        verify(value, resolver=DIDResolver(), at=NOW)
