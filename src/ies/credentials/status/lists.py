"""The issuer's status lists in the store: random allocation, setting and clearing bits, reading a list.

Why random indexes: if credentials took indexes in order, the index would tell a verifier when (and for
whom, by elimination) a credential was issued. Each index is drawn uniformly at random among the free ones of
a list of ≥ 131,072 entries, and a list stops taking new credentials at `capacity` (half its size by
default), so a draw rarely collides and the set bits never cluster by issue date.

Concurrency: the open list's `allocated` counter is incremented with one UPDATE … RETURNING before a free
index is chosen. That write locks the list row (PostgreSQL) or the database (SQLite) until the caller
commits, so two issuers can never hand out the same index, and the counter is exact.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from ies.credentials.status.bitstring import MIN_LIST_BITS, set_bits
from ies.credentials.tables import StatusEntryRow, StatusListRow
from ies.errors import InternalError, NotFoundError, UsageError
from ies.store import utcnow

__all__ = [
    "DEFAULT_LIST_BITS",
    "PURPOSES",
    "StatusAllocation",
    "StatusPurpose",
    "allocate",
    "change_status",
    "entries_for",
    "list_bits",
]

StatusPurpose = Literal["revocation", "suspension"]
PURPOSES: tuple[StatusPurpose, ...] = ("revocation", "suspension")

DEFAULT_LIST_BITS = MIN_LIST_BITS
"""New lists are the spec's minimum, 16 KiB: the smallest size that still gives herd privacy."""

_MAX_DRAWS = 64
"""With capacity ≤ half the list a draw is free with probability ≥ ½; 64 misses in a row means a bug."""

_LISTS = cast(Table, StatusListRow.__table__)


@dataclass(frozen=True)
class StatusAllocation:
    """Where a credential's status lives: list id, bit index and purpose."""

    list_id: str
    index: int
    purpose: StatusPurpose


def _check_purpose(purpose: str) -> StatusPurpose:
    if purpose not in PURPOSES:
        raise UsageError(f"status purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
    return cast(StatusPurpose, purpose)


def _new_list(session: Session, issuer: str, purpose: StatusPurpose, size_bits: int) -> str:
    if size_bits < MIN_LIST_BITS or size_bits % 8:
        raise UsageError(f"a status list has at least {MIN_LIST_BITS} entries and a whole number of bytes")
    list_id = f"{purpose[:3]}-{secrets.token_hex(8)}"
    session.add(
        StatusListRow(
            id=list_id,
            issuer=issuer,
            purpose=purpose,
            size_bits=size_bits,
            capacity=size_bits // 2,
            allocated=0,
            version=0,
            created_at=utcnow(),
        )
    )
    session.flush()
    return list_id


def _claim_slot(session: Session, issuer: str, purpose: StatusPurpose) -> tuple[str, int] | None:
    """Increment the counter of an open list (taking its lock); (list id, size) or None when all are full."""
    open_lists = session.scalars(
        select(StatusListRow.id)
        .where(
            StatusListRow.issuer == issuer,
            StatusListRow.purpose == purpose,
            StatusListRow.allocated < StatusListRow.capacity,
        )
        .order_by(StatusListRow.created_at.desc())
        .limit(4)
    ).all()
    for list_id in open_lists:
        claimed = session.execute(
            update(_LISTS)
            .where(_LISTS.c.id == list_id, _LISTS.c.allocated < _LISTS.c.capacity)
            .values(allocated=_LISTS.c.allocated + 1)
            .returning(_LISTS.c.size_bits)
        ).first()
        if claimed is not None:
            return list_id, int(claimed[0])
    return None


def allocate(
    session: Session,
    issuer: str,
    purpose: str,
    credential_id: str,
    *,
    size_bits: int = DEFAULT_LIST_BITS,
) -> StatusAllocation:
    """Give `credential_id` a random free index in an open `purpose` list of `issuer` (opening one if needed).

    Runs in the caller's transaction: the allocation commits or rolls back with the issuance it belongs to.
    """
    checked = _check_purpose(purpose)
    slot = _claim_slot(session, issuer, checked)
    if slot is None:
        _new_list(session, issuer, checked, size_bits)
        slot = _claim_slot(session, issuer, checked)
        if slot is None:
            raise InternalError("a status list just opened is already full")
    list_id, bits = slot
    for _ in range(_MAX_DRAWS):
        index = secrets.randbelow(bits)
        if session.get(StatusEntryRow, (list_id, index)) is None:
            session.add(StatusEntryRow(list_id=list_id, idx=index, credential_id=credential_id))
            session.flush()
            return StatusAllocation(list_id, index, checked)
    raise InternalError(f"no free index found in status list {list_id} after {_MAX_DRAWS} draws")


def entries_for(session: Session, credential_id: str) -> list[StatusAllocation]:
    """Every status index allocated to a credential, with its list's purpose."""
    rows = session.execute(
        select(StatusEntryRow.list_id, StatusEntryRow.idx, StatusListRow.purpose)
        .join(StatusListRow, StatusListRow.id == StatusEntryRow.list_id)
        .where(StatusEntryRow.credential_id == credential_id)
        .order_by(StatusListRow.purpose)
    ).all()
    return [StatusAllocation(r[0], int(r[1]), _check_purpose(r[2])) for r in rows]


def change_status(
    session: Session, credential_id: str, purpose: str, *, set_bit: bool, at: datetime | None = None
) -> bool:
    """Set (or clear) the credential's bit in its `purpose` list; True when the bit changed.

    NotFoundError when the credential has no entry for that purpose (it was issued without one).
    """
    checked = _check_purpose(purpose)
    entry = session.scalars(
        select(StatusEntryRow)
        .join(StatusListRow, StatusListRow.id == StatusEntryRow.list_id)
        .where(StatusEntryRow.credential_id == credential_id, StatusListRow.purpose == checked)
    ).first()
    if entry is None:
        raise NotFoundError(f"credential {credential_id} has no {checked} status entry")
    if (entry.set_at is not None) == set_bit:
        return False
    entry.set_at = (at or utcnow()) if set_bit else None
    session.execute(update(_LISTS).where(_LISTS.c.id == entry.list_id).values(version=_LISTS.c.version + 1))
    session.flush()
    return True


def list_bits(session: Session, list_id: str) -> tuple[StatusListRow, bytes]:
    """A list's row and its raw bitstring, built from the entries whose bit is set."""
    row = session.get(StatusListRow, list_id)
    if row is None:
        raise NotFoundError(f"no status list {list_id!r}")
    set_indexes = session.scalars(
        select(StatusEntryRow.idx).where(
            StatusEntryRow.list_id == list_id, StatusEntryRow.set_at.is_not(None)
        )
    ).all()
    return row, set_bits(row.size_bits, set_indexes)
