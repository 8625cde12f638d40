"""The consent lifecycle as a pure state machine: which action moves which state, and who may take it.

    (none) ──REQUEST (consumer)──► REQUESTED ──APPROVE (principal | portal)──► ACTIVE
                                   REQUESTED ──REJECT  (principal | portal)──► REJECTED
                                      ACTIVE ──PAUSE   (principal | portal)──► PAUSED
                                      PAUSED ──RESUME  (principal | portal)──► ACTIVE
         REQUESTED | ACTIVE | PAUSED ──REVOKE (principal | portal)──► REVOKED     (any time)
         REQUESTED | ACTIVE | PAUSED ──EXPIRE (manager, at validUntil)──► EXPIRED
    REJECTED, REVOKED and EXPIRED are final.

Why pure: the store, the HTTP API and the property tests all ask the same question ("may this actor do
this now?"), and answering it without I/O lets hypothesis run thousands of sequences against it. Time
matters twice: nothing but EXPIRE happens to a consent past its validUntil (the store expires it first),
and EXPIRE happens only then.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from ies.consent.errors import TransitionNotAllowed

__all__ = [
    "ALLOWED_ACTORS",
    "FINAL_STATES",
    "TRANSITIONS",
    "Action",
    "ActorKind",
    "ConsentState",
    "next_state",
]


class ConsentState(StrEnum):
    REQUESTED = "REQUESTED"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class Action(StrEnum):
    REQUEST = "REQUEST"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    REVOKE = "REVOKE"
    EXPIRE = "EXPIRE"


class ActorKind(StrEnum):
    """Who takes an action: the data consumer, the principal (did:key), the provider's portal on the
    principal's behalf (with identity evidence), or the consent manager itself (expiry)."""

    CONSUMER = "consumer"
    PRINCIPAL = "principal"
    PORTAL = "portal"
    MANAGER = "manager"


S, A = ConsentState, Action
_LIVE = (S.REQUESTED, S.ACTIVE, S.PAUSED)

#: (state before, action) → state after. `None` is "no consent yet".
TRANSITIONS: dict[tuple[ConsentState | None, Action], ConsentState] = {
    (None, A.REQUEST): S.REQUESTED,
    (S.REQUESTED, A.APPROVE): S.ACTIVE,
    (S.REQUESTED, A.REJECT): S.REJECTED,
    (S.ACTIVE, A.PAUSE): S.PAUSED,
    (S.PAUSED, A.RESUME): S.ACTIVE,
    **{(state, A.REVOKE): S.REVOKED for state in _LIVE},
    **{(state, A.EXPIRE): S.EXPIRED for state in _LIVE},
}

_PRINCIPAL_SIDE = frozenset({ActorKind.PRINCIPAL, ActorKind.PORTAL})
ALLOWED_ACTORS: dict[Action, frozenset[ActorKind]] = {
    A.REQUEST: frozenset({ActorKind.CONSUMER}),
    A.APPROVE: _PRINCIPAL_SIDE,
    A.REJECT: _PRINCIPAL_SIDE,
    A.PAUSE: _PRINCIPAL_SIDE,
    A.RESUME: _PRINCIPAL_SIDE,
    A.REVOKE: _PRINCIPAL_SIDE,
    A.EXPIRE: frozenset({ActorKind.MANAGER}),
}

FINAL_STATES = frozenset({S.REJECTED, S.REVOKED, S.EXPIRED})


def next_state(
    state: ConsentState | None,
    action: Action,
    actor: ActorKind,
    *,
    at: datetime,
    valid_until: datetime,
) -> ConsentState:
    """The state after `actor` takes `action` at `at`, or TransitionNotAllowed saying why not."""
    if actor not in ALLOWED_ACTORS[action]:
        allowed = " or ".join(sorted(a.value for a in ALLOWED_ACTORS[action]))
        raise TransitionNotAllowed(
            f"{action.value} is taken by the {allowed}, not the {actor.value}",
            details={"action": action.value, "actor": actor.value},
        )
    after = TRANSITIONS.get((state, action))
    if after is None:
        raise TransitionNotAllowed(
            f"a {state.value if state else 'new'} consent cannot {action.value}",
            details={"action": action.value, "state": state.value if state else None},
        )
    if action is A.EXPIRE and at < valid_until:
        raise TransitionNotAllowed(
            f"the consent is valid until {valid_until.isoformat()}; it cannot expire at {at.isoformat()}",
            details={"action": action.value, "state": state.value if state else None},
        )
    if action is not A.EXPIRE and at >= valid_until:
        raise TransitionNotAllowed(
            f"the consent's validity ended at {valid_until.isoformat()}; only expiry remains",
            details={"action": action.value, "state": state.value if state else None},
        )
    return after
