"""Signed tree heads: the node's Ed25519 signature over (log id, tree size, time, root hash).

Why signed heads: a hash chain only proves order to someone who trusts the database. Once a head is signed
and handed to a peer or a regulator, the node can no longer rewrite any entry below that size without
producing a second, contradicting signature, which is evidence in itself. The signed bytes are the RFC 8785
document of the fields (like the entries), so they can be checked without our code; the log id is SHA-256 of
the public key, as in RFC 9162's log identifiers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import rfc8785
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ies.audit._entry import format_time
from ies.audit._errors import InvalidTreeHead
from ies.audit.tables import HEAD_ROW_ID, AuditHeadRow, AuditTreeHeadRow
from ies.errors import UsageError
from ies.identity import SigningKeyPair, b64, b64decode_strict, verify_ed25519

__all__ = [
    "STH_VERSION",
    "SignedTreeHead",
    "Signer",
    "TreeHeadPublisher",
    "log_id_for",
    "publish_tree_head",
    "resolve_signer",
]

STH_VERSION = "ies.audit.sth/1"


class _KeyPairLike(Protocol):
    @property
    def public_key(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


Signer = _KeyPairLike | bytes | Callable[[bytes], bytes]
"""A key pair (`SigningKeyPair` or anything with `sign` and `public_key`), a 32-byte Ed25519 seed, or a
function that signs bytes (then `public_key=` must be given: e.g. a key held in an HSM)."""


def log_id_for(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True)
class SignedTreeHead:
    tree_size: int
    timestamp: str
    root_hash: str
    log_id: str
    public_key: str
    signature: str

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.root_hash)

    @property
    def public_key_bytes(self) -> bytes:
        return b64decode_strict(self.public_key, what="tree head public_key", lengths=(32,))

    def signed_bytes(self) -> bytes:
        return signed_document(self.log_id, self.tree_size, self.timestamp, self.root_hash)

    def verify(self, trusted_key: bytes | None = None) -> None:
        """Raise InvalidTreeHead unless the head is well formed, signed by its key, and (if given) that key.

        1. The key and root are well formed.  2. The log id is the hash of the key.  3. The key is the trusted
        one, when the caller pins one.  4. The Ed25519 signature covers the canonical document.
        """
        try:
            key = self.public_key_bytes
            signature = b64decode_strict(self.signature, what="tree head signature", lengths=(64,))
            root = bytes.fromhex(self.root_hash)
        except (UsageError, ValueError) as exc:
            raise InvalidTreeHead(f"tree head of size {self.tree_size} is malformed: {exc}") from exc
        if len(root) != 32 or self.tree_size < 0:
            raise InvalidTreeHead(f"tree head of size {self.tree_size} has a bad size or root hash")
        if log_id_for(key) != self.log_id:
            raise InvalidTreeHead(f"tree head of size {self.tree_size}: log_id is not the hash of its key")
        if trusted_key is not None and key != trusted_key:
            raise InvalidTreeHead(f"tree head of size {self.tree_size} is signed by an untrusted key")
        if not verify_ed25519(key, self.signed_bytes(), signature):
            raise InvalidTreeHead(f"tree head of size {self.tree_size}: the signature does not verify")

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STH_VERSION,
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "timestamp": self.timestamp,
            "root_hash": self.root_hash,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SignedTreeHead:
        if not isinstance(data, dict):
            raise UsageError("a signed tree head must be a JSON object")
        if data.get("version", STH_VERSION) != STH_VERSION:
            raise UsageError(f"unknown signed tree head version {data.get('version')!r}")
        try:
            size = data["tree_size"]
            fields = {k: data[k] for k in ("timestamp", "root_hash", "log_id", "public_key", "signature")}
        except KeyError as exc:
            raise UsageError(f"signed tree head lacks the field {exc}") from exc
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise UsageError("signed tree head tree_size must be a non-negative integer")
        if not all(isinstance(v, str) for v in fields.values()):
            raise UsageError("signed tree head fields must be strings")
        return cls(tree_size=size, **fields)

    @classmethod
    def from_row(cls, row: AuditTreeHeadRow) -> SignedTreeHead:
        return cls(row.tree_size, row.timestamp, row.root_hash, row.log_id, row.public_key, row.signature)


def signed_document(log_id: str, tree_size: int, timestamp: str, root_hash: str) -> bytes:
    document = {
        "v": STH_VERSION,
        "log_id": log_id,
        "tree_size": tree_size,
        "timestamp": timestamp,
        "root_hash": root_hash,
    }
    return rfc8785.dumps(document)  # type: ignore[arg-type]


def resolve_signer(signer: Signer, public_key: bytes | None = None) -> tuple[Callable[[bytes], bytes], bytes]:
    """Turn any accepted signer into (sign function, public key)."""
    if isinstance(signer, bytes | bytearray):
        pair = SigningKeyPair.from_seed(bytes(signer))
        return pair.sign, pair.public_key
    if hasattr(signer, "sign") and hasattr(signer, "public_key"):
        return signer.sign, bytes(signer.public_key)
    if callable(signer):
        if public_key is None or len(public_key) != 32:
            raise UsageError("a signing function needs public_key= (the 32-byte Ed25519 public key)")
        return signer, public_key
    raise UsageError("signer must be a key pair, a 32-byte Ed25519 seed or a signing function")


def publish_tree_head(
    session: Session, signer: Signer, *, public_key: bytes | None = None, at: datetime | None = None
) -> SignedTreeHead:
    """Sign the current head of the log and record it (in the caller's transaction; nothing is committed).

    The signature is checked before the head is stored, so a misconfigured signer (wrong public key for an
    HSM function) fails here instead of producing heads nobody can verify.
    """
    sign, key = resolve_signer(signer, public_key)
    head = session.execute(
        select(AuditHeadRow.tree_size, AuditHeadRow.root_hash).where(AuditHeadRow.id == HEAD_ROW_ID)
    ).first()
    size, root = (int(head[0]), bytes(head[1]).hex()) if head else (0, hashlib.sha256(b"").hexdigest())
    timestamp = format_time(at or datetime.now(UTC))
    log_id = log_id_for(key)
    signature = sign(signed_document(log_id, size, timestamp, root))
    sth = SignedTreeHead(size, timestamp, root, log_id, b64(key), b64(bytes(signature)))
    sth.verify(key)
    session.add(
        AuditTreeHeadRow(
            tree_size=size,
            timestamp=timestamp,
            root_hash=root,
            log_id=log_id,
            public_key=sth.public_key,
            signature=sth.signature,
        )
    )
    session.flush()
    return sth


class TreeHeadPublisher:
    """Publishes a signed tree head every `interval_s` seconds when the log has grown since the last one.

    Why only when grown: heads are evidence handed to peers; a new head for an unchanged log adds nothing. A
    node starts `run` as a background task in its app's lifespan and sets `stop` on shutdown.
    """

    def __init__(
        self, engine: Engine, signer: Signer, *, public_key: bytes | None = None, interval_s: float = 60.0
    ) -> None:
        if interval_s <= 0:
            raise UsageError("tree head publishing interval must be positive")
        self.engine = engine
        self.signer = signer
        self.public_key = public_key
        self.interval_s = interval_s
        resolve_signer(signer, public_key)  # fail at start-up, not at the first tick

    def publish_if_grown(self) -> SignedTreeHead | None:
        with Session(self.engine) as session, session.begin():
            size = session.scalar(select(AuditHeadRow.tree_size).where(AuditHeadRow.id == HEAD_ROW_ID)) or 0
            latest = session.scalar(
                select(AuditTreeHeadRow.tree_size).order_by(AuditTreeHeadRow.id.desc()).limit(1)
            )
            if latest is not None and latest >= size:
                return None
            return publish_tree_head(session, self.signer, public_key=self.public_key)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.publish_if_grown)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)
