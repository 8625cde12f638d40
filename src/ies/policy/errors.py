"""The policy layer's errors: every refusal and every bundle failure has its own stable `POL_*` code.

Why subclasses of `ies.errors.PolicyError` rather than a parallel tree: the exchange router turns any
PolicyError raised by its `policy=` hook into a NACK carrying the code, and the CLI maps it to exit 1, so
a refusal reads the same on the wire, in the audit log and in a terminal. A refusal's `details` always
name the rule that refused (`details["rule"]`) and the bundle that holds it (`details["bundle"]`).

    PolicyError (ies.errors)             POL_DENIED
    ├── BundleError                      POL_BUNDLE_ERROR
    │   ├── BundleMalformed              POL_BUNDLE_MALFORMED        exit 2 (unusable input)
    │   ├── BundleUntrustedKey           POL_BUNDLE_UNTRUSTED_KEY
    │   ├── BundleSignatureInvalid       POL_BUNDLE_SIGNATURE_INVALID
    │   ├── BundleHashMismatch           POL_BUNDLE_HASH_MISMATCH
    │   ├── BundleCompileFailed          POL_BUNDLE_COMPILE_FAILED
    │   ├── BundleRollback               POL_BUNDLE_ROLLBACK         409
    │   └── BundleNotFound               POL_BUNDLE_NOT_FOUND        404
    ├── PolicyEvaluationFailed           POL_EVALUATION_FAILED       500 (fail closed)
    ├── UnknownDataset                   POL_UNKNOWN_DATASET         404
    ├── EntitlementDenied                POL_ENTITLEMENT_DENIED
    ├── AggregatedOnly                   POL_AGGREGATED_ONLY
    ├── PurposeNotPermitted              POL_PURPOSE_NOT_PERMITTED
    ├── ConsentRequired                  POL_CONSENT_REQUIRED
    ├── OtWrongEndpoint                  POL_OT_WRONG_ENDPOINT
    ├── OtCredentialRequired             POL_OT_CREDENTIAL_REQUIRED
    ├── OtTradingPlatform                POL_OT_TRADING_PLATFORM
    ├── OtCommandNotPermitted            POL_OT_COMMAND_NOT_PERMITTED
    ├── OtNotOperational                 POL_OT_NOT_OPERATIONAL
    └── NotOpenData                      POL_NOT_OPEN_DATA
"""

from __future__ import annotations

from ies.errors import PolicyError

__all__ = [
    "AggregatedOnly",
    "BundleCompileFailed",
    "BundleError",
    "BundleHashMismatch",
    "BundleMalformed",
    "BundleNotFound",
    "BundleRollback",
    "BundleSignatureInvalid",
    "BundleUntrustedKey",
    "ConsentRequired",
    "EntitlementDenied",
    "NotOpenData",
    "OtCommandNotPermitted",
    "OtCredentialRequired",
    "OtNotOperational",
    "OtTradingPlatform",
    "OtWrongEndpoint",
    "PolicyEvaluationFailed",
    "PurposeNotPermitted",
    "UnknownDataset",
    "refusal_class",
]


class BundleError(PolicyError):
    """A policy bundle cannot be used; nothing in it is evaluated (fail closed)."""

    code = "POL_BUNDLE_ERROR"


class BundleMalformed(BundleError):
    """Not a bundle at all: unreadable archive, unsafe member names, missing or malformed manifest."""

    code = "POL_BUNDLE_MALFORMED"
    exit_code = 2


class BundleUntrustedKey(BundleError):
    code = "POL_BUNDLE_UNTRUSTED_KEY"


class BundleSignatureInvalid(BundleError):
    code = "POL_BUNDLE_SIGNATURE_INVALID"


class BundleHashMismatch(BundleError):
    code = "POL_BUNDLE_HASH_MISMATCH"


class BundleCompileFailed(BundleError):
    code = "POL_BUNDLE_COMPILE_FAILED"


class BundleRollback(BundleError):
    """A bundle older than (or clashing with) one already installed under the same name."""

    code = "POL_BUNDLE_ROLLBACK"
    http_status = 409


class BundleNotFound(BundleError):
    code = "POL_BUNDLE_NOT_FOUND"
    http_status = 404


class PolicyEvaluationFailed(PolicyError):
    """The engine could not produce a decision; the request is refused, never waved through."""

    code = "POL_EVALUATION_FAILED"
    http_status = 500


class UnknownDataset(PolicyError):
    code = "POL_UNKNOWN_DATASET"
    http_status = 404


class EntitlementDenied(PolicyError):
    code = "POL_ENTITLEMENT_DENIED"


class AggregatedOnly(PolicyError):
    """The requester may see this dataset only aggregated/anonymised, and asked for records."""

    code = "POL_AGGREGATED_ONLY"


class PurposeNotPermitted(PolicyError):
    code = "POL_PURPOSE_NOT_PERMITTED"


class ConsentRequired(PolicyError):
    code = "POL_CONSENT_REQUIRED"


class OtWrongEndpoint(PolicyError):
    """Operational data or an operational command arrived on the informational (IT) endpoint."""

    code = "POL_OT_WRONG_ENDPOINT"


class OtCredentialRequired(PolicyError):
    code = "POL_OT_CREDENTIAL_REQUIRED"


class OtTradingPlatform(PolicyError):
    code = "POL_OT_TRADING_PLATFORM"


class OtCommandNotPermitted(PolicyError):
    code = "POL_OT_COMMAND_NOT_PERMITTED"


class OtNotOperational(PolicyError):
    """Something other than an operational command arrived on the operational endpoint."""

    code = "POL_OT_NOT_OPERATIONAL"


class NotOpenData(PolicyError):
    """Only C0, non-personal datasets are published without a contract."""

    code = "POL_NOT_OPEN_DATA"


_BY_CODE: dict[str, type[PolicyError]] = {
    cls.code: cls
    for cls in (
        EntitlementDenied,
        AggregatedOnly,
        PurposeNotPermitted,
        ConsentRequired,
        OtWrongEndpoint,
        OtCredentialRequired,
        OtTradingPlatform,
        OtCommandNotPermitted,
        OtNotOperational,
        UnknownDataset,
    )
}


def refusal_class(code: str) -> type[PolicyError]:
    """The exception class for a refusal code a policy returned; an unknown code is a plain denial
    (a newer bundle may name codes this build does not know; it still refuses)."""
    return _BY_CODE.get(code, EntitlementDenied)
