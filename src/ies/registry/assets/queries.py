"""Lookups and hierarchy queries, now or "as of" a past time.

Why two paths: the current state is read from `asset_entities` (indexed by id and parent); a past state
is rebuilt from `asset_versions` by taking, per entity, the highest version recorded at or before the
requested time. Both paths return the same `Entity` model, so callers never care which one answered.
The hierarchy is walked level by level (at most six levels, see `structure.py`), one query per level.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, and_, func, literal, select
from sqlalchemy.orm import Session, aliased

from ies.errors import UsageError
from ies.registry.assets.errors import EntityNotFound
from ies.registry.assets.records import Entity, TreeNode, Version
from ies.registry.assets.structure import EntityClass, Status
from ies.registry.assets.tables import AssetEntityRow, AssetVersionRow

__all__ = [
    "ancestors",
    "children",
    "descendants",
    "find_entities",
    "get_entity",
    "history",
    "parse_time",
]

_IN_CHUNK = 500  # ids per IN (...) list, well under every backend's bound-parameter limit
MAX_LIST = 10_000


def parse_time(value: str | datetime) -> datetime:
    """An "as of" time: ISO 8601 with a timezone (`Z` or an offset), returned in UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise UsageError(f"time {value!r} is not ISO 8601 (e.g. 2026-01-31T18:30:00Z)") from None
    if parsed.tzinfo is None:
        raise UsageError(f"time {value!s} has no timezone; add Z or an offset such as +05:30")
    return parsed.astimezone(UTC)


def entity_from_row(row: AssetEntityRow) -> Entity:
    return Entity(
        id=row.id,
        entity_class=row.entity_class,
        discom=row.discom,
        local_id=row.local_id,
        parent_id=row.parent_id,
        status=row.status,
        attributes=row.attributes,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _from_version(base: AssetEntityRow, ver: AssetVersionRow) -> Entity:
    return Entity(
        id=base.id,
        entity_class=base.entity_class,
        discom=base.discom,
        local_id=base.local_id,
        parent_id=ver.parent_id,
        status=ver.status,
        attributes=ver.attributes,
        version=ver.version,
        created_at=base.created_at,
        updated_at=ver.changed_at,
        updated_by=ver.changed_by,
    )


def _versions_as_of(
    as_of: datetime, candidates: Select[str] | None = None
) -> Select[AssetEntityRow, AssetVersionRow]:
    """Each entity that existed at `as_of`, joined with the version that was current then.

    `candidates` (a SELECT of entity ids) narrows the search before versions are grouped, so a lookup by
    id or by parent reads only those entities' versions instead of the whole history.
    """
    inner = select(AssetVersionRow.entity_id, func.max(AssetVersionRow.version).label("version")).where(
        AssetVersionRow.changed_at <= as_of
    )
    if candidates is not None:
        inner = inner.where(AssetVersionRow.entity_id.in_(candidates))
    latest = inner.group_by(AssetVersionRow.entity_id).subquery()
    return (
        select(AssetEntityRow, AssetVersionRow)
        .join(AssetVersionRow, AssetVersionRow.entity_id == AssetEntityRow.id)
        .join(
            latest,
            and_(
                latest.c.entity_id == AssetVersionRow.entity_id,
                latest.c.version == AssetVersionRow.version,
            ),
        )
    )


def _ever_under(parent_ids: list[str], as_of: datetime) -> Select[str]:
    """Ids of entities that had one of `parent_ids` as parent in some version recorded by `as_of`."""
    earlier = aliased(AssetVersionRow)
    return (
        select(earlier.entity_id)
        .where(earlier.parent_id.in_(parent_ids), earlier.changed_at <= as_of)
        .distinct()
    )


def get_entity(session: Session, entity_id: str, as_of: datetime | None = None) -> Entity:
    """One entity now, or as it stood at `as_of`; EntityNotFound if it did not exist (yet)."""
    if as_of is None:
        row = session.get(AssetEntityRow, entity_id)
        if row is None:
            raise EntityNotFound(f"no entity {entity_id}", details={"id": entity_id})
        return entity_from_row(row)
    as_of = parse_time(as_of)
    only = select(literal(entity_id))
    found = session.execute(_versions_as_of(as_of, only).where(AssetEntityRow.id == entity_id)).first()
    if found is None:
        raise EntityNotFound(
            f"no entity {entity_id} as of {as_of.isoformat()}",
            details={"id": entity_id, "as_of": as_of.isoformat()},
        )
    return _from_version(found[0], found[1])


def _children_of(session: Session, parent_ids: Sequence[str], as_of: datetime | None) -> list[Entity]:
    out: list[Entity] = []
    for start in range(0, len(parent_ids), _IN_CHUNK):
        chunk = list(parent_ids[start : start + _IN_CHUNK])
        if as_of is None:
            rows = session.scalars(
                select(AssetEntityRow).where(AssetEntityRow.parent_id.in_(chunk)).order_by(AssetEntityRow.id)
            )
            out.extend(entity_from_row(r) for r in rows)
        else:
            pairs = session.execute(
                _versions_as_of(as_of, _ever_under(chunk, as_of))
                .where(AssetVersionRow.parent_id.in_(chunk))
                .order_by(AssetEntityRow.id)
            )
            out.extend(_from_version(base, ver) for base, ver in pairs)
    return out


def children(session: Session, entity_id: str, as_of: datetime | None = None) -> list[Entity]:
    """Entities whose parent is `entity_id` (now or at `as_of`), ordered by id."""
    as_of = parse_time(as_of) if as_of is not None else None
    get_entity(session, entity_id, as_of)
    return _children_of(session, [entity_id], as_of)


def descendants(
    session: Session, entity_id: str, as_of: datetime | None = None, max_depth: int | None = None
) -> list[TreeNode]:
    """Every entity below `entity_id`, breadth first, each with its depth (1 = child)."""
    as_of = parse_time(as_of) if as_of is not None else None
    get_entity(session, entity_id, as_of)
    out: list[TreeNode] = []
    frontier = [entity_id]
    depth = 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        level = _children_of(session, frontier, as_of)
        out.extend(TreeNode(depth=depth, entity=e) for e in level)
        frontier = [e.id for e in level]
    return out


def ancestors(session: Session, entity_id: str, as_of: datetime | None = None) -> list[Entity]:
    """The path from the entity's parent up to its DISCOM (empty for a DISCOM or a detached entity)."""
    as_of = parse_time(as_of) if as_of is not None else None
    path: list[Entity] = []
    current = get_entity(session, entity_id, as_of)
    seen = {current.id}
    while current.parent_id is not None:
        current = get_entity(session, current.parent_id, as_of)
        if current.id in seen:  # impossible by the class levels; guard against a hand-edited database
            raise UsageError(f"hierarchy loop at {current.id}")
        seen.add(current.id)
        path.append(current)
    return path


def history(session: Session, entity_id: str) -> list[Version]:
    """Every recorded version of the entity, oldest first."""
    rows = session.scalars(
        select(AssetVersionRow)
        .where(AssetVersionRow.entity_id == entity_id)
        .order_by(AssetVersionRow.version)
    ).all()
    if not rows:
        raise EntityNotFound(f"no entity {entity_id}", details={"id": entity_id})
    return [
        Version(
            entity_id=r.entity_id,
            version=r.version,
            changed_at=r.changed_at,
            changed_by=r.changed_by,
            change=r.change,
            parent_id=r.parent_id,
            status=r.status,
            attributes=r.attributes,
            diff=r.diff,
            reason=r.reason,
        )
        for r in rows
    ]


def find_entities(
    session: Session,
    *,
    discom: str | None = None,
    entity_class: EntityClass | None = None,
    status: Status | None = None,
    local_id: str | None = None,
    as_of: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Entity]:
    """Entities matching every given filter (now or at `as_of`), ordered by id, paged."""
    if not 1 <= limit <= MAX_LIST or offset < 0:
        raise UsageError(f"limit must be 1…{MAX_LIST} and offset ≥ 0")
    filters = []
    if discom is not None:
        filters.append(AssetEntityRow.discom == discom.lower())
    if entity_class is not None:
        filters.append(AssetEntityRow.entity_class == EntityClass(entity_class).value)
    if local_id is not None:
        filters.append(AssetEntityRow.local_id == local_id)
    if as_of is None:
        if status is not None:
            filters.append(AssetEntityRow.status == Status(status).value)
        rows = session.scalars(
            select(AssetEntityRow).where(*filters).order_by(AssetEntityRow.id).limit(limit).offset(offset)
        )
        return [entity_from_row(r) for r in rows]
    if status is not None:
        filters.append(AssetVersionRow.status == Status(status).value)
    pairs = session.execute(
        _versions_as_of(parse_time(as_of))
        .where(*filters)
        .order_by(AssetEntityRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [_from_version(base, ver) for base, ver in pairs]
