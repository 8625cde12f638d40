"""The IES DeDi-style revocation registry: a lookup that answers 200 for a revoked credential, 404 otherwise.

Why a second mechanism next to the Bitstring Status List: IES verifiers built on OpenCred do exactly one
thing with `credentialStatus` — GET its `id` — and read 200 as "revoked" and 404 as "valid" (DeDi stores
only revoked records). We serve that contract so they can check our credentials unchanged.

The record key (the IES material leaves the hash unspecified, `ref-ies-accelerator.md` §7.2) is

    revocation_hash(credential) = lower-case hex SHA-256 of the UTF-8 bytes of the credential's `id`

(`urn:uuid:…`, lower case as the schemas require). Why the id and not a hash of the credential's content:
the status entry, and so its lookup URL, is part of what gets signed, so a content hash cannot appear in the
credential it hashes; and the id is the one value every proof format (Data Integrity, VC-JOSE, SD-JWT)
carries unchanged. Hashing it keeps the raw id out of server logs along the lookup path.

URLs follow DeDi's: one record at `{base}/dedi/lookup/{namespace}/{registry}/{hash}`, the whole registry at
`{base}/dedi/query/{namespace}/{registry}`. The registries are `vc-revocation-registry` (what OpenCred
creates) and, for credentials whose only status entry is a DeDi one with purpose suspension,
`vc-suspension-registry`. A lookup is not herd-private (the verifier names the credential it checks);
that is why credentials whose schema allows it also carry Bitstring Status List entries.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ies.credentials.tables import DediRecordRow
from ies.errors import UsageError
from ies.store import utcnow

__all__ = [
    "DEDI_STATUS_TYPES",
    "REGISTRIES",
    "dedi_status_entry",
    "lookup",
    "query",
    "record",
    "registry_for",
    "remove",
    "revocation_hash",
]

REGISTRIES: dict[str, str] = {
    "revocation": "vc-revocation-registry",
    "suspension": "vc-suspension-registry",
}
DEDI_STATUS_TYPES = frozenset({"dediregistry", "dedi"})
"""`dediregistry` is what the ElectricityCredential v1.2 schema requires; OpenCred stamps `dedi`."""

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def revocation_hash(credential_id: str) -> str:
    """SHA-256 (hex) of the credential id: the DeDi record key of a credential."""
    if not isinstance(credential_id, str) or not credential_id:
        raise UsageError("a credential needs a string id to have a revocation hash")
    return hashlib.sha256(credential_id.encode("utf-8")).hexdigest()


def registry_for(purpose: str) -> str:
    try:
        return REGISTRIES[purpose]
    except KeyError:
        raise UsageError(f"no DeDi registry for status purpose {purpose!r}") from None


def check_name(value: str, what: str) -> str:
    if not _NAME_RE.fullmatch(value):
        raise UsageError(f"{what} {value!r} must be 1-128 letters, digits, '.', '_' or '-'")
    return value


def dedi_status_entry(base_url: str, namespace: str, credential_id: str, purpose: str) -> dict[str, Any]:
    """The `credentialStatus` object (type `dediregistry`) pointing at this issuer's registry."""
    registry = registry_for(purpose)
    root = f"{base_url.rstrip('/')}/dedi"
    ns = check_name(namespace, "DeDi namespace")
    return {
        "id": f"{root}/lookup/{ns}/{registry}/{revocation_hash(credential_id)}",
        "type": "dediregistry",
        "statusPurpose": purpose,
        "statusListCredential": f"{root}/query/{ns}/{registry}",
    }


def record(session: Session, purpose: str, credential_id: str, *, at: datetime | None = None) -> bool:
    """Add the credential's record to the purpose's registry; False when it is already there."""
    registry, digest = registry_for(purpose), revocation_hash(credential_id)
    if session.get(DediRecordRow, (registry, digest)) is not None:
        return False
    session.add(
        DediRecordRow(
            registry_name=registry,
            record_hash=digest,
            credential_id=credential_id,
            recorded_at=at or utcnow(),
        )
    )
    session.flush()
    return True


def remove(session: Session, purpose: str, credential_id: str) -> bool:
    """Take the record out (lifting a suspension); False when there was none."""
    result = session.execute(
        delete(DediRecordRow).where(
            DediRecordRow.registry_name == registry_for(purpose),
            DediRecordRow.record_hash == revocation_hash(credential_id),
        )
    )
    return bool(getattr(result, "rowcount", 0))


def lookup(session: Session, registry: str, record_hash: str) -> DediRecordRow | None:
    """The record, or None (answered 404). Malformed hashes are simply absent, never an error page."""
    if registry not in REGISTRIES.values() or not _HASH_RE.fullmatch(record_hash):
        return None
    return session.get(DediRecordRow, (registry, record_hash))


def query(session: Session, registry: str, *, limit: int = 10_000) -> list[DediRecordRow]:
    """Every record of a registry, oldest first (DeDi's whole-registry query)."""
    if registry not in REGISTRIES.values():
        return []
    return list(
        session.scalars(
            select(DediRecordRow)
            .where(DediRecordRow.registry_name == registry)
            .order_by(DediRecordRow.recorded_at, DediRecordRow.record_hash)
            .limit(limit)
        ).all()
    )
