"""Errors of DID handling, as subclasses of the one `ies.errors` tree, each with its own stable code.

    IESError
    ├── UsageError                          (HTTP 400)
    │   ├── DIDInvalid                      DID_INVALID                         exit 1
    │   ├── DIDMethodNotSupported           DID_METHOD_NOT_SUPPORTED            exit 1
    │   └── MultibaseInvalid                MULTIBASE_INVALID                   exit 1
    ├── NotFoundError                       (HTTP 404)
    │   ├── DIDNotFound                     DID_NOT_FOUND                       exit 1
    │   └── VerificationMethodNotFound      DID_VERIFICATION_METHOD_NOT_FOUND   exit 1
    └── NetworkError                        (HTTP 502)
        ├── DIDResolutionFailed             DID_RESOLUTION_FAILED               exit 1
        └── DIDDocumentInvalid              DID_DOCUMENT_INVALID                exit 1

Why exit 1 under UsageError: a DID that parses as text but is not a valid DID is *refused*, like a bad
signature, while exit 2 stays for input the CLI cannot use at all (a missing key file, a malformed
`--override`). The HTTP side keeps UsageError's 400. The names follow the DID Resolution spec's error
values (invalidDid, notFound, methodNotSupported) so a resolution result can report them verbatim.
An expired or revoked key is `ies.errors.KeyExpiredOrRevoked`, the same error the Beckn exchange raises.
"""

from __future__ import annotations

from ies.errors import NetworkError, NotFoundError, UsageError

__all__ = [
    "DIDDocumentInvalid",
    "DIDInvalid",
    "DIDMethodNotSupported",
    "DIDNotFound",
    "DIDResolutionFailed",
    "MultibaseInvalid",
    "VerificationMethodNotFound",
]


class DIDInvalid(UsageError):
    """The text is not a valid DID or DID URL (syntax, or a did:key whose payload is not a key)."""

    code = "DID_INVALID"
    exit_code = 1


class DIDMethodNotSupported(UsageError):
    code = "DID_METHOD_NOT_SUPPORTED"
    exit_code = 1


class MultibaseInvalid(UsageError):
    code = "MULTIBASE_INVALID"
    exit_code = 1


class DIDNotFound(NotFoundError):
    """The DID does not exist (HTTP 404 or 410 from its host, or no override and no way to reach it)."""

    code = "DID_NOT_FOUND"


class VerificationMethodNotFound(NotFoundError):
    """The DID resolved, but the fragment names no key usable for the requested purpose."""

    code = "DID_VERIFICATION_METHOD_NOT_FOUND"


class DIDResolutionFailed(NetworkError):
    """The host could not be asked (connection refused, timeout, 5xx, a redirect, an oversized answer)."""

    code = "DID_RESOLUTION_FAILED"


class DIDDocumentInvalid(NetworkError):
    """The host answered, but not with a DID document for this DID (not JSON, wrong `id`, bad key)."""

    code = "DID_DOCUMENT_INVALID"
