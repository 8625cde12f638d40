"""The consent layer's errors: every refusal to serve data has its own stable `POL_CONSENT_*` code.

Why refusals are `PolicyError`s: the exchange router turns a PolicyError raised before the ACK into a NACK
carrying its code, the CLI maps it to exit 1, and the policy layer's decision point passes a PolicyError
raised by its injected consent check through unchanged, so a refusal reads the same on the wire, in the
audit log and in a terminal. `details["rule"]` names the check that refused (as the policy layer does).

    PolicyError (ies.errors)                 POL_DENIED
    └── ConsentRefused                       POL_CONSENT_REFUSED
        ├── ConsentMissing                   POL_CONSENT_MISSING           the request names no consent
        ├── ConsentNotFound                  POL_CONSENT_NOT_FOUND         the manager knows no such consent
        ├── ConsentNotActive                 POL_CONSENT_NOT_ACTIVE        still REQUESTED
        ├── ConsentRejected                  POL_CONSENT_REJECTED
        ├── ConsentPaused                    POL_CONSENT_PAUSED
        ├── ConsentRevoked                   POL_CONSENT_REVOKED
        ├── ConsentExpired                   POL_CONSENT_EXPIRED
        ├── ConsentNotYetValid               POL_CONSENT_NOT_YET_VALID
        ├── ConsentWrongParty                POL_CONSENT_WRONG_PARTY       requester / provider not named
        ├── ConsentPrincipalMismatch         POL_CONSENT_PRINCIPAL_MISMATCH  meter not the principal's
        ├── ConsentPurposeMismatch           POL_CONSENT_PURPOSE_MISMATCH
        ├── ConsentResourceNotCovered        POL_CONSENT_RESOURCE_NOT_COVERED
        ├── ConsentProfileNotCovered         POL_CONSENT_PROFILE_NOT_COVERED
        ├── ConsentPeriodNotCovered          POL_CONSENT_PERIOD_NOT_COVERED
        ├── ConsentFrequencyExceeded         POL_CONSENT_FREQUENCY_EXCEEDED  429
        ├── ConsentSignatureInvalid          POL_CONSENT_SIGNATURE_INVALID
        └── ConsentUnverifiable              POL_CONSENT_UNVERIFIABLE      503 (manager unreachable:
                                                                             fail closed)
    ConflictError (ies.errors)
    └── TransitionNotAllowed                 CON_TRANSITION_NOT_ALLOWED    409
    NotFoundError (ies.errors)
    └── UnknownConsent                       CON_NOT_FOUND                 404
    SchemaError (ies.errors)
    └── ArtefactInvalid                      CON_ARTEFACT_INVALID          400, exit 1
"""

from __future__ import annotations

from typing import Any

from ies.errors import ConflictError, NotFoundError, PolicyError, SchemaError

__all__ = [
    "ArtefactInvalid",
    "ConsentExpired",
    "ConsentFrequencyExceeded",
    "ConsentMissing",
    "ConsentNotActive",
    "ConsentNotFound",
    "ConsentNotYetValid",
    "ConsentPaused",
    "ConsentPeriodNotCovered",
    "ConsentPrincipalMismatch",
    "ConsentProfileNotCovered",
    "ConsentPurposeMismatch",
    "ConsentRefused",
    "ConsentRejected",
    "ConsentResourceNotCovered",
    "ConsentRevoked",
    "ConsentSignatureInvalid",
    "ConsentUnverifiable",
    "ConsentWrongParty",
    "TransitionNotAllowed",
    "UnknownConsent",
    "refusal_for_state",
]


class ConsentRefused(PolicyError):
    """Data is not served: no live consent covers the request. `details["rule"]` names the check."""

    code = "POL_CONSENT_REFUSED"
    rule = "consent"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message, details={"rule": self.rule, **(details or {})})


class ConsentMissing(ConsentRefused):
    code = "POL_CONSENT_MISSING"
    rule = "consent-required"


class ConsentNotFound(ConsentRefused):
    code = "POL_CONSENT_NOT_FOUND"
    rule = "consent-known"


class ConsentNotActive(ConsentRefused):
    code = "POL_CONSENT_NOT_ACTIVE"
    rule = "consent-active"


class ConsentRejected(ConsentRefused):
    code = "POL_CONSENT_REJECTED"
    rule = "consent-active"


class ConsentPaused(ConsentRefused):
    code = "POL_CONSENT_PAUSED"
    rule = "consent-active"


class ConsentRevoked(ConsentRefused):
    code = "POL_CONSENT_REVOKED"
    rule = "consent-active"


class ConsentExpired(ConsentRefused):
    code = "POL_CONSENT_EXPIRED"
    rule = "consent-validity"


class ConsentNotYetValid(ConsentRefused):
    code = "POL_CONSENT_NOT_YET_VALID"
    rule = "consent-validity"


class ConsentWrongParty(ConsentRefused):
    code = "POL_CONSENT_WRONG_PARTY"
    rule = "consent-parties"


class ConsentPrincipalMismatch(ConsentRefused):
    code = "POL_CONSENT_PRINCIPAL_MISMATCH"
    rule = "consent-principal-owns-resource"


class ConsentPurposeMismatch(ConsentRefused):
    code = "POL_CONSENT_PURPOSE_MISMATCH"
    rule = "consent-purpose"


class ConsentResourceNotCovered(ConsentRefused):
    code = "POL_CONSENT_RESOURCE_NOT_COVERED"
    rule = "consent-scope-resources"


class ConsentProfileNotCovered(ConsentRefused):
    code = "POL_CONSENT_PROFILE_NOT_COVERED"
    rule = "consent-scope-profiles"


class ConsentPeriodNotCovered(ConsentRefused):
    code = "POL_CONSENT_PERIOD_NOT_COVERED"
    rule = "consent-scope-period"


class ConsentFrequencyExceeded(ConsentRefused):
    code = "POL_CONSENT_FREQUENCY_EXCEEDED"
    rule = "consent-frequency"
    http_status = 429


class ConsentSignatureInvalid(ConsentRefused):
    code = "POL_CONSENT_SIGNATURE_INVALID"
    rule = "consent-signatures"


class ConsentUnverifiable(ConsentRefused):
    """The consent manager could not be asked (or its answer could not be authenticated): fail closed."""

    code = "POL_CONSENT_UNVERIFIABLE"
    rule = "consent-status-live"
    http_status = 503


class TransitionNotAllowed(ConflictError):
    """The lifecycle forbids this action from the consent's current state, or by this actor."""

    code = "CON_TRANSITION_NOT_ALLOWED"


class UnknownConsent(NotFoundError):
    code = "CON_NOT_FOUND"


class ArtefactInvalid(SchemaError):
    """A consent artefact (or a request for one) that breaks the schema or the purpose catalogue."""

    code = "CON_ARTEFACT_INVALID"


_BY_STATE: dict[str, type[ConsentRefused]] = {
    "REQUESTED": ConsentNotActive,
    "REJECTED": ConsentRejected,
    "PAUSED": ConsentPaused,
    "REVOKED": ConsentRevoked,
    "EXPIRED": ConsentExpired,
}


def refusal_for_state(state: str) -> type[ConsentRefused]:
    """The refusal for a consent that is not ACTIVE (an unknown state refuses as not active)."""
    return _BY_STATE.get(state, ConsentNotActive)
