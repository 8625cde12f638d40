"""Bad input gets findings, never a traceback: any JSON value anywhere in any published payload."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ies.schemas import UnknownSchema, catalogue, validate

FILES = [p for e in catalogue() for p in e.examples() + e.test_cases()]
DOCS = {p: json.loads(p.read_text(encoding="utf-8")) for p in FILES}

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FILES), st.data())
def test_any_value_anywhere_yields_findings_not_exceptions(path: Path, data: st.DataObject) -> None:
    doc = copy.deepcopy(DOCS[path])
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(_paths(doc)))
        value = data.draw(JSON_VALUES)
        if not target:
            doc = value
            continue
        node = doc
        for key in target[:-1]:
            node = node[key]
        node[target[-1]] = value
    try:
        report = validate(doc)
    except UnknownSchema:
        return
    assert all(f.rule and f.message for f in report.findings)
