"""What an audit entry is, how it is written canonically, and how its hash is computed.

Why hash a canonical JSON document: anyone holding an exported entry (a regulator, a peer) can recompute its
hash with any RFC 8785 implementation, without our database or code. The hashed document names every field,
including the sequence number and the previous entry's hash, so moving an entry to another position or
cutting the chain changes the hash. The payload is stored as its RFC 8785 text, so what is stored is what
was hashed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from ies.errors import UsageError

__all__ = [
    "ENTRY_VERSION",
    "GENESIS_PREV_HASH",
    "KINDS",
    "AuditEntry",
    "canonical_payload",
    "clip",
    "entry_hash",
    "entry_hash_of_canonical",
    "format_time",
    "parse_time",
    "validate_fields",
]

ENTRY_VERSION = 1
GENESIS_PREV_HASH = "0" * 64
"""`prev_hash` of entry 0: there is no previous entry."""

KINDS = frozenset(
    {
        "message.in",
        "message.out",
        "consent.transition",
        "credential.issue",
        "credential.revoke",
        "registry.change",
        "policy.decision",
    }
)
"""The kinds the building blocks record; other dotted lower-case kinds are accepted for use cases."""

KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_KIND = 64
MAX_ACTOR = 255
MAX_SUBJECT = 512
MAX_PAYLOAD_BYTES = 1_000_000
"""A Beckn message with its context fits comfortably; a bulk meter-data transfer is recorded by digest."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class AuditEntry:
    """One line of the log, exactly as stored and hashed (hashes are lower-case hex)."""

    seq: int
    recorded_at: str
    kind: str
    actor: str
    subject: str
    payload: str
    prev_hash: str
    entry_hash: str

    @property
    def payload_json(self) -> Any:
        return json.loads(self.payload)

    @property
    def time(self) -> datetime:
        return parse_time(self.recorded_at)

    def to_dict(self) -> dict[str, Any]:
        """The wire and export form: the payload as a JSON value, not as text."""
        return {
            "seq": self.seq,
            "recorded_at": self.recorded_at,
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "payload": json.loads(self.payload),
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }

    @classmethod
    def from_dict(cls, data: Any) -> AuditEntry:
        """Read the export form back; raises UsageError naming the missing or mistyped field."""
        if not isinstance(data, dict):
            raise UsageError("an audit entry must be a JSON object")
        expected: dict[str, type] = {
            "seq": int,
            "recorded_at": str,
            "kind": str,
            "actor": str,
            "subject": str,
            "prev_hash": str,
            "entry_hash": str,
        }
        for name, typ in expected.items():
            if not isinstance(data.get(name), typ) or isinstance(data.get(name), bool):
                raise UsageError(f"audit entry field {name!r} is missing or not a {typ.__name__}")
        if "payload" not in data:
            raise UsageError("audit entry field 'payload' is missing")
        return cls(
            seq=data["seq"],
            recorded_at=data["recorded_at"],
            kind=data["kind"],
            actor=data["actor"],
            subject=data["subject"],
            payload=canonical_payload(data["payload"]),
            prev_hash=data["prev_hash"],
            entry_hash=data["entry_hash"],
        )


def format_time(at: datetime) -> str:
    """UTC with microseconds and a Z: one spelling per instant, so the hash does not depend on formatting."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise UsageError("audit time must be timezone-aware")
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise UsageError(f"audit time {text!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ") from exc


def canonical_payload(payload: Any) -> str:
    """RFC 8785 text of a payload (a JSON object); UsageError if it cannot be canonicalised."""
    if not isinstance(payload, dict):
        raise UsageError("an audit payload must be a JSON object")
    try:
        text = rfc8785.dumps(payload).decode("utf-8")
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise UsageError(f"audit payload cannot be written as canonical JSON: {exc}") from exc
    if len(text) > MAX_PAYLOAD_BYTES:
        raise UsageError(f"audit payload is {len(text)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    return text


def clip(value: str, limit: int) -> str:
    """Shorten an over-long actor or subject to `limit` characters, ending in a digest of the full value.

    Why clip instead of refusing: actor and subject often come from a peer's message (a sender id, a message
    id). Refusing them would let a malformed message escape the log; clipping keeps the line, keeps distinct
    values distinct (the digest) and the full value can still go in the payload.
    """
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return value[: limit - 18] + "…#" + digest


def validate_fields(kind: str, actor: str, subject: str) -> tuple[str, str]:
    """Reject a kind, actor or subject the log cannot store; return actor and subject, clipped."""
    if not isinstance(kind, str) or len(kind) > MAX_KIND or not KIND_RE.match(kind):
        raise UsageError(f"audit kind {kind!r} must be dotted lower-case words, e.g. 'message.in'")
    for name, value in (("actor", actor), ("subject", subject)):
        if not isinstance(value, str) or not value:
            raise UsageError(f"audit {name} must be a non-empty string")
    return clip(actor, MAX_ACTOR), clip(subject, MAX_SUBJECT)


def entry_hash(
    seq: int, recorded_at: str, kind: str, actor: str, subject: str, payload: str, prev_hash: str
) -> str:
    """SHA-256 (hex) of the RFC 8785 document of every field but the hash itself.

    `payload` is the stored canonical text; it is parsed so the hashed document embeds it as a JSON value.
    """
    document = {
        "v": ENTRY_VERSION,
        "seq": seq,
        "recorded_at": recorded_at,
        "kind": kind,
        "actor": actor,
        "subject": subject,
        "payload": json.loads(payload),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def entry_hash_of_canonical(
    seq: int, recorded_at: str, kind: str, actor: str, subject: str, payload: str, prev_hash: str
) -> str:
    """`entry_hash` for a payload already in RFC 8785 form, without parsing and re-serialising it.

    The hashed document's keys in RFC 8785 order are actor, kind, payload, prev_hash, recorded_at, seq,
    subject, v; splicing the canonical payload text between the canonical scalars gives byte for byte what
    `rfc8785.dumps` of the whole document gives (a test checks this), at a third of the cost when appending.
    """
    if not 0 <= seq < 2**53:
        raise UsageError(f"sequence number {seq} is outside the range JSON can carry exactly")
    dumps = rfc8785.dumps
    document = b"".join(
        (
            b'{"actor":',
            dumps(actor),
            b',"kind":',
            dumps(kind),
            b',"payload":',
            payload.encode("utf-8"),
            b',"prev_hash":',
            dumps(prev_hash),
            b',"recorded_at":',
            dumps(recorded_at),
            b',"seq":',
            str(seq).encode("ascii"),
            b',"subject":',
            dumps(subject),
            b',"v":%d}' % ENTRY_VERSION,
        )
    )
    return hashlib.sha256(document).hexdigest()


def recompute_hash(entry: AuditEntry, seq: int | None = None) -> str:
    """The hash `entry` should carry if it sat at `seq` (default: its own); raises UsageError on bad JSON."""
    try:
        return entry_hash(
            entry.seq if seq is None else seq,
            entry.recorded_at,
            entry.kind,
            entry.actor,
            entry.subject,
            entry.payload,
            entry.prev_hash,
        )
    except (ValueError, rfc8785.CanonicalizationError) as exc:
        raise UsageError(f"entry {entry.seq}: payload is not valid JSON") from exc
