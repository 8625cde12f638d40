"""Audit: an append-only, hash-chained log of what the node did, with RFC 9162 Merkle proofs.

Every signed message in or out, consent transition, credential issue or revocation, registry change and
policy decision is appended with `append(session, kind, actor, subject, payload)` in the same transaction as
the action, so neither can exist without the other. Entries are chained (each hashes its predecessor) and
are the leaves of an RFC 9162 Merkle tree whose signed heads the node publishes; anyone holding a head can
ask for an inclusion proof of an entry or a consistency proof between two heads, and `ies audit verify`
finds any edit, deletion, insertion or reordering and says where.
"""

from ies.audit._append import append, append_many
from ies.audit._bundle import export_bundle, verify_bundle
from ies.audit._entry import KINDS, AuditEntry
from ies.audit._errors import AuditLogTampered, InvalidProof, InvalidTreeHead
from ies.audit._findings import Finding, Findings
from ies.audit._log import AuditLog, TreeHead
from ies.audit._proofs import ConsistencyProof, InclusionProof
from ies.audit._sth import SignedTreeHead, Signer, TreeHeadPublisher, publish_tree_head
from ies.audit._verify import LogReport, check_log, verify_log

__all__ = [
    "KINDS",
    "AuditEntry",
    "AuditLog",
    "AuditLogTampered",
    "ConsistencyProof",
    "Finding",
    "Findings",
    "InclusionProof",
    "InvalidProof",
    "InvalidTreeHead",
    "LogReport",
    "SignedTreeHead",
    "Signer",
    "TreeHead",
    "TreeHeadPublisher",
    "append",
    "append_many",
    "check_log",
    "export_bundle",
    "publish_tree_head",
    "verify_bundle",
    "verify_log",
]
