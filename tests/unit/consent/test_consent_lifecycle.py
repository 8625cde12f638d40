"""The lifecycle state machine, pure: the published table, who may act, time, and properties of sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.consent.errors import TransitionNotAllowed
from ies.consent.lifecycle import (
    FINAL_STATES,
    Action,
    ActorKind,
    ConsentState,
    next_state,
)

S, A, K = ConsentState, Action, ActorKind
NOW = datetime(2026, 5, 1, tzinfo=UTC)
UNTIL = NOW + timedelta(days=30)


def step(state: ConsentState | None, action: Action, actor: ActorKind, at: datetime = NOW) -> ConsentState:
    return next_state(state, action, actor, at=at, valid_until=UNTIL)


@pytest.mark.parametrize(
    ("before", "action", "actor", "after"),
    [
        (None, A.REQUEST, K.CONSUMER, S.REQUESTED),
        (S.REQUESTED, A.APPROVE, K.PRINCIPAL, S.ACTIVE),
        (S.REQUESTED, A.APPROVE, K.PORTAL, S.ACTIVE),
        (S.REQUESTED, A.REJECT, K.PRINCIPAL, S.REJECTED),
        (S.ACTIVE, A.PAUSE, K.PRINCIPAL, S.PAUSED),
        (S.PAUSED, A.RESUME, K.PORTAL, S.ACTIVE),
        (S.ACTIVE, A.REVOKE, K.PRINCIPAL, S.REVOKED),
        (S.PAUSED, A.REVOKE, K.PRINCIPAL, S.REVOKED),
        (S.REQUESTED, A.REVOKE, K.PRINCIPAL, S.REVOKED),
    ],
)
def test_the_published_transitions(
    before: ConsentState | None, action: Action, actor: ActorKind, after: ConsentState
) -> None:
    assert step(before, action, actor) is after


def test_expiry_happens_only_at_valid_until_and_nothing_else_after_it() -> None:
    with pytest.raises(TransitionNotAllowed, match="cannot expire"):
        step(S.ACTIVE, A.EXPIRE, K.MANAGER)
    for state in (S.REQUESTED, S.ACTIVE, S.PAUSED):
        assert step(state, A.EXPIRE, K.MANAGER, UNTIL) is S.EXPIRED
    with pytest.raises(TransitionNotAllowed, match="only expiry remains"):
        step(S.PAUSED, A.RESUME, K.PRINCIPAL, UNTIL)
    with pytest.raises(TransitionNotAllowed, match="only expiry remains"):
        step(None, A.REQUEST, K.CONSUMER, UNTIL)


@pytest.mark.parametrize(
    ("action", "actor"),
    [
        (A.APPROVE, K.CONSUMER),
        (A.REVOKE, K.CONSUMER),
        (A.PAUSE, K.MANAGER),
        (A.EXPIRE, K.PRINCIPAL),
        (A.REQUEST, K.PRINCIPAL),
    ],
)
def test_each_action_has_its_actors(action: Action, actor: ActorKind) -> None:
    with pytest.raises(TransitionNotAllowed) as err:
        step(
            S.ACTIVE if action is not A.REQUEST else None, action, actor, UNTIL if action is A.EXPIRE else NOW
        )
    assert err.value.details["actor"] == actor.value


def test_final_states_absorb_everything() -> None:
    for state in FINAL_STATES:
        for action in Action:
            for actor in ActorKind:
                with pytest.raises(TransitionNotAllowed):
                    step(state, action, actor, UNTIL if action is A.EXPIRE else NOW)


steps = st.lists(
    st.tuples(st.sampled_from(list(Action)), st.sampled_from(list(ActorKind)), st.booleans()), max_size=25
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_any_sequence_keeps_the_invariants(sequence: list[tuple[Action, ActorKind, bool]]) -> None:
    """Whatever is tried: ACTIVE is reached only by APPROVE or RESUME, a final state never changes, only
    the principal's side turns a consent ACTIVE, and after validUntil the only way on is EXPIRE."""
    state: ConsentState | None = None
    for action, actor, late in sequence:
        at = UNTIL + timedelta(seconds=1) if late else NOW
        try:
            after = step(state, action, actor, at)
        except TransitionNotAllowed:
            continue
        if state in FINAL_STATES:
            pytest.fail(f"{state} changed to {after}")
        if after is S.ACTIVE:
            assert action in (A.APPROVE, A.RESUME) and actor in (K.PRINCIPAL, K.PORTAL)
        if late:
            assert action is A.EXPIRE and after is S.EXPIRED
        if state is None:
            assert action is A.REQUEST
        state = after
