"""Bulk import of entities from CSV, with an error per bad row that never blocks the good rows.

Why this shape: DISCOM asset lists arrive as spreadsheet exports with a few bad rows in thousands. Each
row is checked and written on its own (every check in `changes.py` runs before its first write, so a
refused row leaves nothing behind); the good rows land in the caller's one transaction; each bad row is
reported with its line number, error code and reason. Rows are applied parents first (by the class
level in `structure.py`), so a file may name a parent defined further down. A row for an entity that
already exists sets what its columns say and records a version only when something differs, so
re-importing the same file changes nothing. A column the file does not have leaves that value alone, so
a file of `class,id,make` corrects makes without touching parents, statuses or other attributes.

File format (UTF-8, header row, one entity per row; a blank cell means "no value"):

    class     entity class: discom, substation, feeder, dt, service-point, meter, consumer, solar, bess,
              ev-charger (aliases: transformer, battery, service_point, ev_charger)
    id        the DISCOM's internal id, verbatim (for a DISCOM row, its did:web host name)
    parent    the parent's internal id (its class follows from the row's class) or its full DID
    status    PLANNED, ACTIVE, SUSPENDED or DECOMMISSIONED; blank: ACTIVE when new, unchanged otherwise
    discom    the owning DISCOM's host; blank: the import's default, else the file's only DISCOM row,
              else the registry's only DISCOM; on a DISCOM row, blank or its own id
    <attr>    one column per class attribute (`rated_kva`, `sanctioned_load_w`…); a row may fill only the
              columns of its own class
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ies.errors import IESError, UsageError
from ies.registry.assets._identifiers import entity_did, validate_discom_host
from ies.registry.assets.changes import UNCHANGED, insert_entity, update_entity
from ies.registry.assets.errors import ConcurrentChange, ParentNotFound
from ies.registry.assets.structure import (
    STRUCTURE,
    ClassSpec,
    EntityClass,
    Status,
    parse_entity_class,
    parse_status,
)
from ies.registry.assets.tables import AssetEntityRow

__all__ = ["BASE_COLUMNS", "ImportReport", "RowError", "import_csv", "import_csv_file", "sample_csv_path"]

BASE_COLUMNS = ("class", "id", "parent", "status", "discom")
ATTRIBUTE_COLUMNS: dict[str, set[EntityClass]] = {}
for _spec in STRUCTURE.values():
    for _name in _spec.attributes.model_fields:
        ATTRIBUTE_COLUMNS.setdefault(_name, set()).add(_spec.entity_class)


class RowError(BaseModel):
    line: int
    entity_class: str | None
    local_id: str | None
    code: str
    message: str


class ImportReport(BaseModel):
    source: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = []

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    spec: ClassSpec
    local_id: str
    discom: str
    did: str
    parent_ref: str | None
    status: Status | None
    attributes: dict[str, Any]


def sample_csv_path() -> Path:
    """The sample network shipped with the package (one DISCOM, a substation, two feeders …)."""
    return Path(str(files("ies.registry.assets") / "data" / "sample_network.csv"))


def _read(text: str) -> tuple[list[str], list[tuple[int, dict[str | None, Any]]]]:
    """Header and records, each with the line its record starts on (a quoted cell may span lines).

    A record's cells beyond the header are kept under the key None, as csv.DictReader does.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] = []
    rows: list[tuple[int, dict[str | None, Any]]] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not header:
                header = [h.strip().lower() for h in cells]
                if not any(header):
                    header = []
                continue
            if not any(c.strip() for c in cells):
                continue  # blank line
            record: dict[str | None, Any] = dict(zip(header, cells, strict=False))
            if len(cells) > len(header):
                record[None] = cells[len(header) :]
            rows.append((start, record))
    except csv.Error as exc:
        raise UsageError(f"CSV is malformed near line {reader.line_num}: {exc}") from None
    if not header:
        raise UsageError("CSV is empty: expected a header row with at least 'class' and 'id'")
    missing = [c for c in ("class", "id") if c not in header]
    unknown = [c for c in header if c not in BASE_COLUMNS and c not in ATTRIBUTE_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise UsageError("CSV header: " + "; ".join(parts))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise UsageError(f"CSV header repeats column(s) {', '.join(duplicated)}")
    return header, rows


def _cell(record: dict[str | None, Any], column: str) -> str | None:
    value = record.get(column)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _parse_row(line: int, record: dict[str | None, Any], default_discom: str | None) -> _Row:
    if record.get(None):
        raise UsageError("row has more cells than the header has columns")
    class_cell, local_id = _cell(record, "class"), _cell(record, "id")
    if class_cell is None or local_id is None:
        raise UsageError("class and id are required")
    spec = STRUCTURE[parse_entity_class(class_cell)]
    status_cell = _cell(record, "status")
    status = parse_status(status_cell) if status_cell else None
    discom = _cell(record, "discom")
    if spec.entity_class is EntityClass.DISCOM:
        if discom is not None and validate_discom_host(discom) != validate_discom_host(local_id):
            raise UsageError(f"a DISCOM row's discom must be blank or its own id, not {discom!r}")
        discom = validate_discom_host(local_id)
    discom = discom or default_discom
    if discom is None:
        raise UsageError("discom is blank and there is no default DISCOM for this import")
    discom = validate_discom_host(discom)
    attributes: dict[str, Any] = {}
    for column, classes in ATTRIBUTE_COLUMNS.items():
        value = _cell(record, column)
        if value is None:
            continue
        if spec.entity_class not in classes:
            raise UsageError(f"column {column} does not apply to a {spec.label}")
        attributes[column] = value
    parent_ref = _cell(record, "parent")
    if parent_ref is not None and spec.parent_class is None:
        raise UsageError(f"a {spec.label} has no parent; leave the parent cell blank")
    did = entity_did(discom, spec.did_path, local_id)
    return _Row(line, spec, local_id, discom, did, parent_ref, status, attributes)


def _parent_did(row: _Row) -> str | None:
    if row.parent_ref is None or row.spec.parent_class is None:
        return None
    if row.parent_ref.startswith("did:"):
        return row.parent_ref
    if row.spec.parent_class is EntityClass.DISCOM:  # a DISCOM's internal id is its host
        return entity_did(row.parent_ref, (), row.parent_ref)
    return entity_did(row.discom, STRUCTURE[row.spec.parent_class].did_path, row.parent_ref)


def _default_discom(
    session: Session, records: list[tuple[int, dict[str | None, Any]]], given: str | None
) -> str | None:
    """The DISCOM of rows with a blank discom cell: the one given, else the file's only DISCOM row, else
    the registry's only DISCOM (a DISCOM's own node), else none (such rows are refused)."""
    if given is not None:
        return validate_discom_host(given)
    hosts = {
        _cell(rec, "id")
        for _, rec in records
        if (_cell(rec, "class") or "").lower() == EntityClass.DISCOM.value and _cell(rec, "id")
    }
    if len(hosts) == 1:
        try:
            return validate_discom_host(hosts.pop() or "")
        except UsageError:
            return None  # that row gets its own error
    if not hosts:
        registered = session.scalars(
            select(AssetEntityRow.discom)
            .where(AssetEntityRow.entity_class == EntityClass.DISCOM.value)
            .limit(2)
        ).all()
        if len(registered) == 1:
            return registered[0]
    return None


def _safe_parent(row: _Row) -> str | None:
    try:
        return _parent_did(row)
    except IESError:
        return None  # reported when the row is applied


def _prefetch(session: Session, dids: set[str]) -> dict[str, AssetEntityRow]:
    ordered = sorted(dids)
    found: dict[str, AssetEntityRow] = {}
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(
            (r.id, r) for r in session.scalars(select(AssetEntityRow).where(AssetEntityRow.id.in_(chunk)))
        )
    return found


def import_csv(
    session: Session, text: str, *, actor: str, default_discom: str | None = None, source: str = "<csv>"
) -> ImportReport:
    """Apply every good row of a CSV to the registry in `session` (the caller commits) and report."""
    header, records = _read(text)
    has_parent_column = "parent" in header
    default = _default_discom(session, records, default_discom)
    report = ImportReport(source=source, rows=len(records))

    def refuse(line: int, exc: IESError, cls: str | None, local_id: str | None) -> None:
        report.errors.append(RowError(line=line, entity_class=cls, local_id=local_id, code=exc.code,
                                      message=exc.message))  # fmt: skip

    parsed: list[_Row] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        try:
            row = _parse_row(line, record, default)
        except IESError as exc:
            refuse(line, exc, _cell(record, "class"), _cell(record, "id"))
            continue
        if row.did in first_line:
            duplicate = UsageError(f"{row.did} is already on line {first_line[row.did]}")
            refuse(line, duplicate, row.spec.entity_class, row.local_id)
            continue
        first_line[row.did] = line
        parsed.append(row)

    # Rows this import touches, held strongly so the session's identity map answers repeated lookups.
    known = _prefetch(session, {r.did for r in parsed} | {p for r in parsed if (p := _safe_parent(r))})
    refused: dict[str, int] = {}
    for row in sorted(parsed, key=lambda r: (r.spec.level, r.line)):
        try:
            parent = _parent_did(row)
            if parent is not None and parent in refused:
                raise ParentNotFound(f"parent {parent} was refused on line {refused[parent]}")
            reason = f"import {source} line {row.line}"
            existing = known.get(row.did)
            if existing is None:
                known[row.did] = insert_entity(
                    session, row.spec.entity_class, row.local_id, attributes=row.attributes, parent=parent,
                    discom=row.discom, status=row.status or Status.ACTIVE, actor=actor, reason=reason,
                )  # fmt: skip
                report.created += 1
            else:
                before = existing.version
                kept = {
                    k: v for k, v in existing.attributes.items() if k not in header
                }  # columns not in file
                after = update_entity(
                    session, row.did, attributes={**kept, **row.attributes}, replace_attributes=True,
                    status=row.status, parent=parent if has_parent_column else UNCHANGED, actor=actor,
                    reason=reason,
                )  # fmt: skip
                if after.version == before:
                    report.unchanged += 1
                else:
                    report.updated += 1
        except ConcurrentChange:
            raise  # the transaction is spoilt: the whole import must be retried
        except IESError as exc:
            refused[row.did] = row.line
            refuse(row.line, exc, row.spec.entity_class, row.local_id)
    report.errors.sort(key=lambda e: e.line)
    return report


def import_csv_file(
    session: Session, path: str | Path, *, actor: str, default_discom: str | None = None
) -> ImportReport:
    """`import_csv` on a file; UsageError when it cannot be read as UTF-8 text."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path} as UTF-8 text: {exc}") from None
    return import_csv(session, text, actor=actor, default_discom=default_discom, source=path.name)
