"""Plugging consent enforcement into the policy layer's decision point (`ies.policy.DecisionPoint.decide`).

The decision point asks its injected `consent_check(requester, dataset, purpose) -> bool` whenever the
entitlement policy says a dataset is personal. That question lacks what consent enforcement needs (which
consent, which meters, which dates), so the consent layer answers it in one of two ways:

- `bound_check(consent, request, at=…)` — a check bound to one verified consent and one request, for a
  handler that calls `point.decide(…, consent_check=bound_check(…))` itself;
- `ConsentGate` — one object to hand to the policy layer as the node's `consent_check`
  (`runtime.consent_check`, which `ies.policy.install` passes on): code that has verified a consent binds
  it for the message being decided (`with gate.bound(consent, request, at=…):`) in the same task before
  the decision; with nothing bound the gate refuses (POL_CONSENT_MISSING), so personal data asked for
  outside a consent-checked exchange never flows by default. The meter-data exchange installs one.

Either way a refusal is raised as the consent layer's own `POL_CONSENT_*` PolicyError, which the decision
point passes through (and audits) unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from ies.consent.enforcement import AccessRequest, OwnershipCheck, check_access
from ies.consent.errors import ConsentMissing, ConsentPurposeMismatch, ConsentWrongParty
from ies.consent.source import VerifiedConsent

__all__ = ["ConsentGate", "bound_check"]

PolicyConsentCheck = Callable[[Any, Any, str], bool]
"""The shape of `ies.policy.ConsentCheck`: (requester KeyRecord, DatasetDecl, purpose) → bool."""


def bound_check(
    consent: VerifiedConsent,
    request: AccessRequest,
    *,
    at: datetime,
    owns: OwnershipCheck | None = None,
) -> PolicyConsentCheck:
    """A policy `consent_check` that answers for exactly this consent and request."""

    def check(requester: Any, dataset: Any, purpose: str) -> bool:
        subscriber = getattr(requester, "subscriber_id", None)
        if subscriber != request.requester:
            raise ConsentWrongParty(
                f"the decision is for {subscriber}, the consent check was bound for {request.requester}"
            )
        if purpose != request.purpose:
            raise ConsentPurposeMismatch(
                f"the decision is for purpose {purpose!r}, the request's is {request.purpose!r}"
            )
        check_access(consent.artefact, consent.state, request, at=at, owns=owns)
        return True

    return check


class ConsentGate:
    """A `consent_check` for the policy layer that answers for the message being decided."""

    def __init__(self) -> None:
        self._current: ContextVar[PolicyConsentCheck | None] = ContextVar("ies_consent_gate", default=None)

    @contextmanager
    def bound(
        self,
        consent: VerifiedConsent,
        request: AccessRequest,
        *,
        at: datetime,
        owns: OwnershipCheck | None = None,
    ) -> Iterator[None]:
        token = self._current.set(bound_check(consent, request, at=at, owns=owns))
        try:
            yield
        finally:
            self._current.reset(token)

    def __call__(self, requester: Any, dataset: Any, purpose: str) -> bool:
        check = self._current.get()
        if check is None:
            raise ConsentMissing(
                f"personal dataset {getattr(dataset, 'id', dataset)!r} needs a consent and none was named"
            )
        return check(requester, dataset, purpose)
