"""Export the registry, now or as of a time, as a CSV in exactly the import format.

Why: a DISCOM must be able to take its data out in the form it came in. Export → import into an empty
registry rebuilds the same entities, and re-importing an export into the registry it came from changes
nothing, so the two functions check each other (see the round-trip tests).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ies.registry.assets.csv_import import ATTRIBUTE_COLUMNS, BASE_COLUMNS
from ies.registry.assets.queries import MAX_LIST, find_entities
from ies.registry.assets.records import Entity
from ies.registry.assets.structure import STRUCTURE, EntityClass

__all__ = ["export_csv"]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _all_entities(session: Session, discom: str | None, as_of: datetime | None) -> list[Entity]:
    out: list[Entity] = []
    while True:
        page = find_entities(session, discom=discom, as_of=as_of, limit=MAX_LIST, offset=len(out))
        out.extend(page)
        if len(page) < MAX_LIST:
            return out


def export_csv(session: Session, *, discom: str | None = None, as_of: datetime | None = None) -> str:
    """Every entity (of one DISCOM, if given), parents before children, as import-format CSV text."""
    entities = _all_entities(session, discom, as_of)
    local_ids = {e.id: e.local_id for e in entities}
    used = {name for e in entities for name in e.attributes}
    columns = [*BASE_COLUMNS, *(c for c in ATTRIBUTE_COLUMNS if c in used)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    level = {cls.value: STRUCTURE[cls].level for cls in EntityClass}
    for e in sorted(entities, key=lambda e: (level[e.entity_class], e.discom, e.entity_class, e.local_id)):
        row = {
            "class": e.entity_class,
            "id": e.local_id,
            # the parent's internal id when it is exported too; its DID otherwise (import takes both)
            "parent": "" if e.parent_id is None else local_ids.get(e.parent_id, e.parent_id),
            "status": e.status,
            "discom": e.discom,
        }
        row.update({name: _cell(value) for name, value in e.attributes.items()})
        writer.writerow(row)
    return buffer.getvalue()
