"""Reviewers' CSV score sheets: reading them strictly, writing templates, and calibrating two of them.

Why: §7.1.2 asks for each use case to be scored independently by two reviewers (e.g. a power-systems and
a DPI/architecture reviewer), for their differences to be discussed, and for a pragmatic "midline" score
per criterion to be used for ranking, with one or two evidence signals recorded per score. A sheet is the
unit of that exchange: one row per use case, one column per criterion, optional `<criterion>_evidence`.

Sheet format (UTF-8 CSV with a header row):
    id,<one column per criterion key>[,<criterion key>_evidence …][,notes]
The use case may be named in an `id`, `use_case`, `number` or `name` column (number, id or exact name
are all accepted as values). `rank`, `tied`, `total`, `stakeholders` and `reviewer` columns are ignored,
so the output of `ies usecases rank --csv` can be edited and read back. Anything else is refused.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from ies.usecases.catalogue._errors import InvalidScoreSheet, UnknownUseCase
from ies.usecases.catalogue._model import Catalogue, UseCase

__all__ = [
    "Calibration",
    "Disagreement",
    "ScoreSheet",
    "SheetRow",
    "calibrate",
    "read_sheet",
    "write_sheet",
]

KEY_COLUMNS = ("id", "use_case", "number", "name")
IGNORED_COLUMNS = frozenset({"rank", "tied", "total", "stakeholders", "reviewer"})


@dataclass(frozen=True)
class SheetRow:
    use_case_id: str
    scores: dict[str, Decimal]
    evidence: dict[str, str] = field(default_factory=dict)
    notes: str = ""


@dataclass
class ScoreSheet:
    source: str
    rows: dict[str, SheetRow]

    def rescored(self, catalogue: Catalogue) -> dict[str, UseCase]:
        """The sheet's use cases with their scores (and evidence) replaced, for `Catalogue.with_scores`."""
        out: dict[str, UseCase] = {}
        for uc_id, row in self.rows.items():
            uc = catalogue.find(uc_id)
            evidence = {**uc.evidence, **{k: v for k, v in row.evidence.items() if v}}
            out[uc_id] = uc.model_copy(update={"scores": dict(row.scores), "evidence": evidence})
        return out

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> ScoreSheet:
        """The published scores as a sheet: the template reviewers start from."""
        rows = {u.id: SheetRow(u.id, dict(u.scores), dict(u.evidence), "") for u in catalogue.use_cases}
        return cls("catalogue", rows)


def _score(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidScoreSheet(f"{where}: score {text!r} is not a number") from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(10):
        raise InvalidScoreSheet(f"{where}: score {text!r} is outside 0–10")
    return value


def _check_header(header: list[str], catalogue: Catalogue, source: str) -> str:
    keys = catalogue.criterion_keys
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InvalidScoreSheet(f"{source}: duplicate columns {', '.join(dupes)}")
    key_col = next((c for c in KEY_COLUMNS if c in header), None)
    if key_col is None:
        raise InvalidScoreSheet(f"{source}: no use-case column; name one of {', '.join(KEY_COLUMNS)}")
    if missing := [k for k in keys if k not in header]:
        raise InvalidScoreSheet(f"{source}: missing criterion columns {', '.join(missing)}")
    allowed = set(keys) | {f"{k}_evidence" for k in keys} | set(KEY_COLUMNS) | IGNORED_COLUMNS | {"notes"}
    if unknown := [h for h in header if h not in allowed]:
        hints = [
            f"{h} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(h, allowed, 1)) else h
            for h in unknown
        ]
        raise InvalidScoreSheet(f"{source}: unknown columns {', '.join(hints)}")
    return key_col


def parse_sheet(text: str, catalogue: Catalogue, source: str = "<sheet>") -> ScoreSheet:
    """Parse sheet text; every problem is an `InvalidScoreSheet` (or `UnknownUseCase`) naming the line."""
    reader = csv.reader(io.StringIO(text))
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise InvalidScoreSheet(f"{source}: not a valid CSV file: {exc}") from None
    lines = [row for row in lines if any(cell.strip() for cell in row)]
    if not lines:
        raise InvalidScoreSheet(f"{source}: the sheet is empty")
    header = [h.strip().lower() for h in lines[0]]
    key_col = _check_header(header, catalogue, source)
    rows: dict[str, SheetRow] = {}
    for lineno, cells in enumerate(lines[1:], start=2):
        where = f"{source} line {lineno}"
        if len(cells) != len(header):
            raise InvalidScoreSheet(f"{where}: {len(cells)} fields, the header has {len(header)}")
        record = dict(zip(header, (c.strip() for c in cells), strict=True))
        try:
            uc = catalogue.find(record[key_col])
        except UnknownUseCase as exc:
            raise UnknownUseCase(f"{where}: {exc.message}", details=exc.details) from None
        if uc.id in rows:
            raise InvalidScoreSheet(f"{where}: {uc.name!r} is scored twice")
        scores = {k: _score(record[k], f"{where}, {k}") for k in catalogue.criterion_keys}
        evidence = {
            k: record[f"{k}_evidence"] for k in catalogue.criterion_keys if record.get(f"{k}_evidence")
        }
        rows[uc.id] = SheetRow(uc.id, scores, evidence, record.get("notes", ""))
    if not rows:
        raise InvalidScoreSheet(f"{source}: the sheet has a header but no use cases")
    return ScoreSheet(source, rows)


def read_sheet(path: str | Path, catalogue: Catalogue) -> ScoreSheet:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidScoreSheet(f"score sheet {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidScoreSheet(f"cannot read score sheet {str(path)!r}: {exc}") from None
    return parse_sheet(text, catalogue, p.name)


def _cell(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


def write_sheet(sheet: ScoreSheet, catalogue: Catalogue, out: TextIO) -> None:
    """Write `sheet` in catalogue order, with evidence columns and notes, readable by `parse_sheet`."""
    keys = catalogue.criterion_keys
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "number", "name", *keys, *(f"{k}_evidence" for k in keys), "notes"])
    for uc in catalogue.use_cases:
        row = sheet.rows.get(uc.id)
        if row is None:
            continue
        writer.writerow(
            [
                uc.id,
                uc.number if uc.number is not None else "",
                uc.name,
                *(_cell(row.scores[k]) for k in keys),
                *(row.evidence.get(k, "") for k in keys),
                row.notes,
            ]
        )


@dataclass(frozen=True)
class Disagreement:
    use_case_id: str
    criterion: str
    a: Decimal
    b: Decimal

    @property
    def gap(self) -> Decimal:
        return abs(self.a - self.b)


@dataclass
class Calibration:
    threshold: Decimal
    disagreements: list[Disagreement]
    per_criterion: dict[str, dict[str, Any]]
    midline: ScoreSheet

    def to_dict(self, catalogue: Catalogue) -> dict[str, Any]:
        return {
            "threshold": float(self.threshold),
            "use_cases": len(self.midline.rows),
            "disagreements": [
                {
                    "id": d.use_case_id,
                    "name": catalogue.find(d.use_case_id).name,
                    "criterion": d.criterion,
                    "a": float(d.a),
                    "b": float(d.b),
                    "gap": float(d.gap),
                }
                for d in self.disagreements
            ],
            "per_criterion": self.per_criterion,
        }


def _merge_text(a: str, b: str) -> str:
    if not a or not b or a == b:
        return a or b
    return f"A: {a} | B: {b}"


def calibrate(a: ScoreSheet, b: ScoreSheet, catalogue: Catalogue, threshold: Decimal) -> Calibration:
    """Gaps larger than `threshold` between two reviewers, per-criterion summary, and the midline sheet.

    The midline is the mean of the two scores (so 7 and 8 give 7.5): the ranking uses it as-is; reviewers
    who want whole numbers settle the flagged gaps in discussion and edit the sheet.
    """
    if not threshold.is_finite() or threshold < 0:
        raise InvalidScoreSheet(f"threshold must be a number of points, 0 or more, got {threshold}")
    if set(a.rows) != set(b.rows):
        only_a = sorted(set(a.rows) - set(b.rows))
        only_b = sorted(set(b.rows) - set(a.rows))
        parts = [
            f"only in {s.source}: {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''}"
            for s, ids in ((a, only_a), (b, only_b))
            if ids
        ]
        raise InvalidScoreSheet("the two sheets must score the same use cases; " + "; ".join(parts))
    keys = catalogue.criterion_keys
    order = [u.id for u in catalogue.use_cases if u.id in a.rows]
    disagreements: list[Disagreement] = []
    midline: dict[str, SheetRow] = {}
    for uc_id in order:
        ra, rb = a.rows[uc_id], b.rows[uc_id]
        for k in keys:
            if abs(ra.scores[k] - rb.scores[k]) > threshold:
                disagreements.append(Disagreement(uc_id, k, ra.scores[k], rb.scores[k]))
        midline[uc_id] = SheetRow(
            uc_id,
            {k: (ra.scores[k] + rb.scores[k]) / 2 for k in keys},
            {k: t for k in keys if (t := _merge_text(ra.evidence.get(k, ""), rb.evidence.get(k, "")))},
            _merge_text(ra.notes, rb.notes),
        )
    per_criterion: dict[str, dict[str, Any]] = {}
    for k in keys:
        gaps = [abs(a.rows[u].scores[k] - b.rows[u].scores[k]) for u in order]
        per_criterion[k] = {
            "disagreements": sum(1 for d in disagreements if d.criterion == k),
            "mean_gap": round(float(sum(gaps) / len(gaps)), 3),
            "max_gap": float(max(gaps)),
        }
    return Calibration(threshold, disagreements, per_criterion, ScoreSheet("midline", midline))
