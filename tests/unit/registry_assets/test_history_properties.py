"""Property: after any sequence of changes, every past state reads back exactly "as of" its time, and the
recorded diffs replayed from nothing rebuild every version."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ies.errors import IESError
from ies.registry import assets as A

from ._network import HOUR, T0, Net

_counter = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("attr"),
            st.sampled_from(["make", "model", "accuracy_class"]),
            st.sampled_from(["x", "y", None]),
        ),
        st.tuples(st.just("phases"), st.sampled_from([1, 3])),
        st.tuples(st.just("status"), st.sampled_from(["PLANNED", "ACTIVE", "SUSPENDED", "DECOMMISSIONED"])),
        st.tuples(st.just("move"), st.sampled_from(["sp", "sp2", None])),
    ),
    max_size=12,
)


def _state(e: A.Entity) -> dict[str, Any]:
    return {"status": e.status, "parent_id": e.parent_id, "attributes": e.attributes}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_every_version_reads_back_as_of_its_time(
    session: Session, net: Net, ops: list[tuple[Any, ...]]
) -> None:
    sp2 = A.get_entity(session, net.sp).id.replace("SP-1", "SP-2")
    if not A.find_entities(session, local_id="SP-2"):
        A.create_entity(
            session, "service-point", "SP-2", parent=net.dt2, actor="t", at=T0,
            attributes={"sanctioned_load_w": 3000, "connection_type": "SINGLE_PHASE"},
        )  # fmt: skip
    parents = {"sp": net.sp, "sp2": sp2, None: None}
    start = T0 + HOUR * next(_counter) * 100  # each example gets its own stretch of time
    meter = A.create_entity(
        session,
        "meter",
        f"M-{start:%j%H}",
        parent=net.sp,
        actor="t",
        attributes={"meter_type": "AMI"},
        at=start,
    )
    expected = [(start, _state(A.get_entity(session, meter)))]
    for step, op in enumerate(ops, start=1):
        at = start + timedelta(minutes=step)
        before = A.get_entity(session, meter)
        try:
            if op[0] == "attr":
                after = A.update_entity(session, meter, attributes={op[1]: op[2]}, actor="p", at=at)
            elif op[0] == "phases":
                after = A.update_entity(session, meter, attributes={"phases": op[1]}, actor="p", at=at)
            elif op[0] == "status":
                after = A.update_entity(session, meter, status=op[1], actor="p", at=at)
            else:
                after = A.update_entity(session, meter, parent=parents[op[1]], actor="p", at=at)
        except IESError:
            assert A.get_entity(session, meter) == before  # a refused change leaves no trace
            continue
        if after.version != before.version:
            expected.append((at, _state(after)))

    versions = A.history(session, meter)
    assert [v.version for v in versions] == list(range(1, len(expected) + 1))
    rebuilt: dict[str, Any] = {"status": None, "parent_id": None, "attributes": {}}
    for (at, state), version in zip(expected, versions, strict=True):
        assert version.changed_at == at
        for key, change in version.diff.items():  # replay the diff onto the previous state
            if key.startswith("attributes."):
                name = key.removeprefix("attributes.")
                rebuilt["attributes"] = {k: v for k, v in rebuilt["attributes"].items() if k != name}
                if change["new"] is not None:
                    rebuilt["attributes"][name] = change["new"]
            else:
                rebuilt[key] = change["new"]
        assert rebuilt == state == {"status": version.status, "parent_id": version.parent_id,
                                    "attributes": version.attributes}  # fmt: skip
        assert _state(A.get_entity(session, meter, as_of=at)) == state
        assert _state(A.get_entity(session, meter, as_of=at + timedelta(seconds=30))) == state
        kids = (
            {e.id for e in A.children(session, state["parent_id"], as_of=at)} if state["parent_id"] else set()
        )
        assert (meter in kids) == (state["parent_id"] is not None)
