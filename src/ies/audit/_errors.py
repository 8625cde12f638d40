"""Audit errors: each a subclass of the project's error tree with its own stable `AUD_*` code.

Why raise: like sigstore's verifier, a failed check raises, so a caller who forgets to look at a result
cannot treat a tampered log as sound. `AuditLogTampered.details["findings"]` lists every problem with its
position.
"""

from __future__ import annotations

from ies.errors import IESError

__all__ = ["AuditLogTampered", "InvalidProof", "InvalidTreeHead"]


class InvalidProof(IESError):
    """An inclusion or consistency proof does not verify (RFC 9162 §2.1.3.2 / §2.1.4.2)."""

    code = "AUD_INVALID_PROOF"
    http_status = 422


class InvalidTreeHead(IESError):
    """A signed tree head is malformed, badly signed, or signed by a key other than the expected one."""

    code = "AUD_INVALID_TREE_HEAD"
    http_status = 422


class AuditLogTampered(IESError):
    """The stored log, its tree or its signed tree heads disagree: something was edited, removed or moved."""

    code = "AUD_LOG_TAMPERED"
    http_status = 409
