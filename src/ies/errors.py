"""One error family for the whole project, each error with a stable machine-readable code.

Why one tree: a NACK on the wire, an HTTP status and a CLI exit code must all be derived from the same
fact ("this signature is invalid"), so every failure raised anywhere in `ies` is an `IESError` subclass
carrying its `code`, and `ies.errors.to_http` / `to_exit_code` are the only places that translate it.

    IESError                          code                          HTTP  exit
    ├── UsageError                    USAGE                         400   2   unusable input / bad call
    ├── NotFoundError                 NOT_FOUND                     404   1
    ├── ConflictError                 CONFLICT                      409   1
    ├── AuthError                     AUT_*                         401   1
    │   ├── SignatureMissing          AUT_SIGNATURE_MISSING
    │   ├── SignatureInvalid          AUT_SIGNATURE_INVALID
    │   ├── SubscriberNotFound        AUT_SUBSCRIBER_NOT_FOUND
    │   ├── KeyExpiredOrRevoked       AUT_KEY_EXPIRED_OR_REVOKED
    │   └── UnauthorizedAction        AUT_UNAUTHORIZED_ACTION       403
    ├── SchemaError                   SCH_*                         400   1
    │   ├── InvalidJSON               SCH_INVALID_JSON                    2
    │   ├── SchemaValidationFailed    SCH_SCHEMA_VALIDATION_FAILED
    │   ├── UnsupportedAction         SCH_UNSUPPORTED_ACTION        404
    │   └── PayloadTooLarge           SCH_PAYLOAD_TOO_LARGE         413
    ├── NetworkError                  NET_*                         502   1
    │   ├── PeerUnreachable           NET_PEER_UNREACHABLE
    │   ├── CallbackTimeout           NET_CALLBACK_TIMEOUT          504
    │   └── ReplayedMessage           NET_REPLAYED_MESSAGE          409
    ├── PolicyError                   POL_*                         403   1
    └── InternalError                 INTERNAL                      500   1
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthError",
    "CallbackTimeout",
    "ConflictError",
    "IESError",
    "InternalError",
    "InvalidJSON",
    "KeyExpiredOrRevoked",
    "NetworkError",
    "NotFoundError",
    "PayloadTooLarge",
    "PeerUnreachable",
    "PolicyError",
    "ReplayedMessage",
    "SchemaError",
    "SchemaValidationFailed",
    "SignatureInvalid",
    "SignatureMissing",
    "SubscriberNotFound",
    "UnauthorizedAction",
    "UnsupportedAction",
    "UsageError",
    "all_error_classes",
    "to_exit_code",
    "to_http",
]


class IESError(Exception):
    """Base of every error `ies` raises on purpose.

    `code` is stable and machine-readable; `message` is for people; `details` carries structured
    context (a JSON path, the rule that fired) that ends up in a NACK's `error.details`.
    """

    code: ClassVar[str] = "IES_ERROR"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class UsageError(IESError):
    """The input cannot be used at all (wrong file, unknown option value, unreadable data)."""

    code = "USAGE"
    exit_code = 2


class NotFoundError(IESError):
    code = "NOT_FOUND"
    http_status = 404


class ConflictError(IESError):
    code = "CONFLICT"
    http_status = 409


class AuthError(IESError):
    """Authentication of a signed message failed; answered with 401 and WWW-Authenticate."""

    code = "AUT_ERROR"
    http_status = 401


class SignatureMissing(AuthError):
    code = "AUT_SIGNATURE_MISSING"


class SignatureInvalid(AuthError):
    code = "AUT_SIGNATURE_INVALID"


class SubscriberNotFound(AuthError):
    code = "AUT_SUBSCRIBER_NOT_FOUND"


class KeyExpiredOrRevoked(AuthError):
    code = "AUT_KEY_EXPIRED_OR_REVOKED"


class UnauthorizedAction(AuthError):
    code = "AUT_UNAUTHORIZED_ACTION"
    http_status = 403


class SchemaError(IESError):
    code = "SCH_ERROR"
    http_status = 400


class InvalidJSON(SchemaError):
    code = "SCH_INVALID_JSON"
    exit_code = 2


class SchemaValidationFailed(SchemaError):
    code = "SCH_SCHEMA_VALIDATION_FAILED"


class UnsupportedAction(SchemaError):
    code = "SCH_UNSUPPORTED_ACTION"
    http_status = 404


class PayloadTooLarge(SchemaError):
    code = "SCH_PAYLOAD_TOO_LARGE"
    http_status = 413


class NetworkError(IESError):
    code = "NET_ERROR"
    http_status = 502


class PeerUnreachable(NetworkError):
    code = "NET_PEER_UNREACHABLE"


class CallbackTimeout(NetworkError):
    code = "NET_CALLBACK_TIMEOUT"
    http_status = 504


class ReplayedMessage(NetworkError):
    code = "NET_REPLAYED_MESSAGE"
    http_status = 409


class PolicyError(IESError):
    code = "POL_DENIED"
    http_status = 403


class InternalError(IESError):
    code = "INTERNAL"
    http_status = 500


def all_error_classes() -> list[type[IESError]]:
    """Every IESError subclass, transitively (used by the test that checks each one is mapped)."""
    seen: list[type[IESError]] = []
    stack: list[type[IESError]] = [IESError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def to_http(err: IESError) -> tuple[int, dict[str, Any]]:
    """HTTP status and the `error` object of a NACK for an error."""
    return err.http_status, err.to_dict()


def to_exit_code(err: BaseException) -> int:
    """CLI exit code: 0 ok, 1 invalid/refused, 2 unusable input or usage."""
    if isinstance(err, IESError):
        return err.exit_code
    return 1
