"""The write path: create an entity or change it, always by appending a version.

Why one path for every change: each write validates the attributes against the class model, checks the
parent (exists, right class, same DISCOM), checks the lifecycle transition and the hierarchy rules, then
writes the new state to `asset_entities` AND a version row with the diff, in the caller's transaction.
There is no other way to modify an entity, so the history is complete by construction.

Hierarchy rules (`HierarchyConflict`): an ACTIVE or SUSPENDED entity other than a DISCOM has a parent,
and that parent is itself ACTIVE or SUSPENDED; nothing but a DECOMMISSIONED entity sits under a
DECOMMISSIONED parent; so an entity is decommissioned only once its children are decommissioned or moved.

Functions take a SQLAlchemy `Session`, flush, and leave the commit to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ies.errors import UsageError
from ies.registry.assets._identifiers import entity_did, validate_discom_host
from ies.registry.assets.attributes import AttributesModel
from ies.registry.assets.errors import (
    ConcurrentChange,
    EntityExists,
    EntityNotFound,
    HierarchyConflict,
    InvalidAttributes,
    ParentNotFound,
    TransitionNotAllowed,
    VersionMismatch,
    WrongParent,
)
from ies.registry.assets.queries import entity_from_row
from ies.registry.assets.records import Entity
from ies.registry.assets.structure import (
    ALLOWED_TRANSITIONS,
    LIVE_STATUSES,
    ClassSpec,
    EntityClass,
    Status,
    parse_status,
    spec_of,
)
from ies.registry.assets.tables import AssetEntityRow, AssetVersionRow

__all__ = [
    "UNCHANGED",
    "create_entity",
    "hierarchy_problem",
    "insert_entity",
    "state_diff",
    "update_entity",
    "validate_attributes",
]


class _Unchanged(Enum):
    UNCHANGED = "UNCHANGED"


UNCHANGED: Final = _Unchanged.UNCHANGED
"""Pass as `parent=` to leave the parent as it is (None detaches the entity)."""


def validate_attributes(
    entity_class: EntityClass | str, attributes: Mapping[str, Any] | AttributesModel
) -> dict[str, Any]:
    """Validate attributes against the class model; return them as stored (JSON types, no None values)."""
    spec = spec_of(entity_class)
    if isinstance(attributes, AttributesModel):
        if not isinstance(attributes, spec.attributes):
            raise InvalidAttributes(f"{type(attributes).__name__} given for a {spec.label}")
        model = attributes
    else:
        try:
            model = spec.attributes.model_validate(dict(attributes))
        except ValidationError as exc:
            problems = [
                {"field": ".".join(str(p) for p in err["loc"]) or "(attributes)", "message": err["msg"]}
                for err in exc.errors(include_url=False, include_input=False)
            ]
            summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
            raise InvalidAttributes(
                f"invalid {spec.label} attributes: {summary}", details={"errors": problems}
            ) from None
    return model.model_dump(mode="json", exclude_none=True)


def state_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`{"status"|"parent_id"|"attributes.<name>": {"old": …, "new": …}}` for every value that differs."""
    diff: dict[str, Any] = {}
    for key in ("status", "parent_id"):
        if old.get(key) != new.get(key):
            diff[key] = {"old": old.get(key), "new": new.get(key)}
    old_attrs: Mapping[str, Any] = old.get("attributes") or {}
    new_attrs: Mapping[str, Any] = new.get("attributes") or {}
    for name in sorted(set(old_attrs) | set(new_attrs)):
        if old_attrs.get(name) != new_attrs.get(name):
            diff[f"attributes.{name}"] = {"old": old_attrs.get(name), "new": new_attrs.get(name)}
    return diff


def _check_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 256:
        raise UsageError("actor (who makes the change) must be a non-empty string of at most 256 characters")
    return actor.strip()


def _resolve_parent(
    session: Session, spec: ClassSpec, parent_id: str | None, discom: str
) -> AssetEntityRow | None:
    if parent_id is None:
        return None
    if spec.parent_class is None:
        raise WrongParent(f"a {spec.label} has no parent in the hierarchy")
    parent = session.get(AssetEntityRow, parent_id)
    if parent is None:
        raise ParentNotFound(f"parent {parent_id} not found", details={"parent_id": parent_id})
    wanted = spec_of(spec.parent_class)
    if parent.entity_class != wanted.entity_class.value:
        raise WrongParent(
            f"the parent of a {spec.label} must be a {wanted.label}; {parent_id} is a "
            f"{spec_of(parent.entity_class).label}",
            details={"parent_id": parent_id},
        )
    if parent.discom != discom:
        raise WrongParent(f"parent {parent_id} belongs to DISCOM {parent.discom}, not {discom}")
    return parent


def hierarchy_problem(
    spec: ClassSpec, status: Status, parent_id: str | None, parent_status: str | None
) -> str | None:
    """Why an entity of this class and status cannot sit under this parent, or None when it can."""
    if status in LIVE_STATUSES and spec.parent_class is not None:
        if parent_id is None:
            return f"a {status.value} {spec.label} needs a parent {spec_of(spec.parent_class).label}"
        if parent_status not in LIVE_STATUSES:
            return f"a {status.value} {spec.label} cannot sit under {parent_id}, which is {parent_status}"
    if (
        parent_id is not None
        and status is not Status.DECOMMISSIONED
        and parent_status == Status.DECOMMISSIONED
    ):
        return f"{parent_id} is DECOMMISSIONED; only decommissioned entities may sit under it"
    return None


def _check_hierarchy(
    session: Session, spec: ClassSpec, entity_id: str, status: Status, parent: AssetEntityRow | None,
    old_status: Status | None,
) -> None:  # fmt: skip
    problem = hierarchy_problem(
        spec, status, parent.id if parent else None, parent.status if parent else None
    )
    if problem:
        raise HierarchyConflict(problem)
    if status is Status.DECOMMISSIONED and old_status not in (None, Status.DECOMMISSIONED):
        live_children = session.scalar(
            select(func.count())
            .select_from(AssetEntityRow)
            .where(
                AssetEntityRow.parent_id == entity_id, AssetEntityRow.status != Status.DECOMMISSIONED.value
            )
        )
        if live_children:
            raise HierarchyConflict(
                f"{entity_id} still has {live_children} child(ren) not decommissioned; "
                "decommission or move them first"
            )


def _flush(session: Session, conflict: ConcurrentChange) -> None:
    """Flush; a unique-key violation means another writer got there first (on SQLite, which has no row
    locks, the version number's primary key is what catches a concurrent update)."""
    try:
        session.flush()
    except IntegrityError:
        raise conflict from None


def _change_time(at: datetime | None, previous: datetime | None) -> datetime:
    """Now (UTC), never earlier than the entity's previous version, so versions are ordered in time."""
    if at is None:
        now = datetime.now(UTC)
        return max(now, previous) if previous is not None else now
    if at.tzinfo is None:
        raise UsageError("change time must be timezone-aware")
    at = at.astimezone(UTC)
    if previous is not None and at < previous:
        raise VersionMismatch(f"change time {at.isoformat()} is before the last recorded change")
    return at


def create_entity(
    session: Session,
    entity_class: EntityClass | str,
    local_id: str,
    *,
    attributes: Mapping[str, Any] | AttributesModel,
    parent: str | None = None,
    discom: str | None = None,
    status: Status | str = Status.ACTIVE,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> str:
    """Register a new entity and return its DID.

    `discom` is the owning DISCOM's host name; it may be left out when a parent is given (the parent's
    is used). For a DISCOM, `local_id` is its host name. `at` overrides the clock (tests, replays).
    """
    row = insert_entity(
        session, entity_class, local_id, attributes=attributes, parent=parent, discom=discom, status=status,
        actor=actor, reason=reason, at=at,
    )  # fmt: skip
    return row.id


def insert_entity(
    session: Session,
    entity_class: EntityClass | str,
    local_id: str,
    *,
    attributes: Mapping[str, Any] | AttributesModel,
    parent: str | None = None,
    discom: str | None = None,
    status: Status | str = Status.ACTIVE,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> AssetEntityRow:
    """`create_entity`, returning the new row; bulk callers keep it so later lookups hit the session's
    identity map (which holds rows only weakly) instead of the database."""
    spec = spec_of(entity_class)
    status = parse_status(status) if isinstance(status, str) else status
    actor = _check_actor(actor)
    stored_attrs = validate_attributes(spec.entity_class, attributes)
    if spec.entity_class is EntityClass.DISCOM:
        local_id = validate_discom_host(local_id)
        if discom is not None and validate_discom_host(discom) != local_id:
            raise UsageError(f"a DISCOM's internal id is its host name, not {local_id!r} vs {discom!r}")
        discom = local_id
    if discom is None:
        if parent is None:
            raise UsageError(f"say which DISCOM owns {local_id!r}: give discom or a parent")
        parent_row = session.get(AssetEntityRow, parent)
        if parent_row is None:
            raise ParentNotFound(f"parent {parent} not found", details={"parent_id": parent})
        discom = parent_row.discom
    discom = validate_discom_host(discom)
    did = entity_did(discom, spec.did_path, local_id)
    if session.get(AssetEntityRow, did) is not None:
        raise EntityExists(f"{did} already exists", details={"id": did})
    parent_row = _resolve_parent(session, spec, parent, discom)
    _check_hierarchy(session, spec, did, status, parent_row, None)
    when = _change_time(at, None)
    row = AssetEntityRow(
        id=did, entity_class=spec.entity_class.value, discom=discom, local_id=local_id, parent_id=parent,
        status=status.value, attributes=stored_attrs, version=1, created_at=when, updated_at=when,
        updated_by=actor,
    )  # fmt: skip
    session.add(row)
    _flush(session, ConcurrentChange(f"{did} was created concurrently", details={"id": did}))
    new_state = {"status": status.value, "parent_id": parent, "attributes": stored_attrs}
    session.add(
        AssetVersionRow(
            entity_id=did, version=1, changed_at=when, changed_by=actor, change="CREATE", parent_id=parent,
            status=status.value, attributes=stored_attrs, diff=state_diff({}, new_state), reason=reason,
        )
    )  # fmt: skip
    _flush(session, ConcurrentChange(f"{did} was created concurrently", details={"id": did}))
    return row


def update_entity(
    session: Session,
    entity_id: str,
    *,
    actor: str,
    attributes: Mapping[str, Any] | None = None,
    replace_attributes: bool = False,
    status: Status | str | None = None,
    parent: str | _Unchanged | None = UNCHANGED,
    expected_version: int | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> Entity:
    """Change an entity's attributes, status and/or parent; record a version if anything changed.

    `attributes` is merged into the current ones (a None value removes that attribute) unless
    `replace_attributes` is set. `expected_version` makes the change conditional on the entity still
    being at that version (optimistic concurrency). A change to the same state records nothing.
    """
    actor = _check_actor(actor)
    row = session.get(AssetEntityRow, entity_id, with_for_update=True)
    if row is None:
        raise EntityNotFound(f"no entity {entity_id}", details={"id": entity_id})
    if expected_version is not None and expected_version != row.version:
        raise VersionMismatch(
            f"{entity_id} is at version {row.version}, not {expected_version}",
            details={"current_version": row.version},
        )
    spec = spec_of(row.entity_class)
    old_status = Status(row.status)
    new_status = old_status if status is None else parse_status(status)
    if new_status is not old_status and new_status not in ALLOWED_TRANSITIONS[old_status]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[old_status])) or "none"
        raise TransitionNotAllowed(
            f"{entity_id}: {old_status.value} → {new_status.value} is not allowed (from "
            f"{old_status.value}: {allowed})"
        )
    new_parent = row.parent_id if parent is UNCHANGED else parent
    if attributes is None:
        new_attrs = dict(row.attributes)
    elif replace_attributes:
        new_attrs = dict(attributes)
    else:
        new_attrs = {**row.attributes, **attributes}
        new_attrs = {k: v for k, v in new_attrs.items() if v is not None}
    new_attrs = validate_attributes(spec.entity_class, new_attrs)
    old_state = {"status": row.status, "parent_id": row.parent_id, "attributes": row.attributes}
    new_state = {"status": new_status.value, "parent_id": new_parent, "attributes": new_attrs}
    diff = state_diff(old_state, new_state)
    if not diff:
        return entity_from_row(row)
    parent_row = _resolve_parent(session, spec, new_parent, row.discom)
    _check_hierarchy(session, spec, row.id, new_status, parent_row, old_status)
    when = _change_time(at, row.updated_at)
    row.version += 1
    row.status, row.parent_id, row.attributes = new_status.value, new_parent, new_attrs
    row.updated_at, row.updated_by = when, actor
    session.add(
        AssetVersionRow(
            entity_id=row.id, version=row.version, changed_at=when, changed_by=actor, change="UPDATE",
            parent_id=new_parent, status=new_status.value, attributes=new_attrs, diff=diff, reason=reason,
        )
    )  # fmt: skip
    _flush(
        session, ConcurrentChange(f"{row.id} was changed concurrently; read it again", details={"id": row.id})
    )
    return entity_from_row(row)
