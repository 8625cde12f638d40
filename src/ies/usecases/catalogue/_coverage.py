"""Which catalogue use cases this project implements, read from the packages' own declarations.

Why computed, not written down: the only trustworthy statement of what the code implements is the code.
`coverage_report` imports every use-case package (`ies.usecases.discover_usecase_packages`), collects what
each declared with `ies.usecases.declare_usecase`, and joins it with the catalogue. Anything that would
make the table untrue is a problem to report: a package that fails to import, declares nothing, or names
a use case the catalogue does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ies.usecases import STATUSES, Declaration, declarations, discover_usecase_packages
from ies.usecases.catalogue._errors import UnknownUseCase
from ies.usecases.catalogue._model import Catalogue

__all__ = ["NOT_IMPLEMENTED", "CoverageReport", "CoverageRow", "coverage_report"]

NOT_IMPLEMENTED = "not implemented"


@dataclass
class CoverageRow:
    id: str
    number: int | None
    name: str
    status: str = NOT_IMPLEMENTED
    modules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    in_catalogue: bool = True

    def add(self, d: Declaration) -> None:
        self.modules.append(d.module)
        if d.notes:
            self.notes.append(d.notes)
        if self.status == NOT_IMPLEMENTED or STATUSES.index(d.status) < STATUSES.index(self.status):
            self.status = d.status

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "name": self.name,
            "status": self.status,
            "modules": self.modules,
            "notes": self.notes,
            "in_catalogue": self.in_catalogue,
        }


@dataclass
class CoverageReport:
    rows: list[CoverageRow]
    additions: list[CoverageRow]
    packages: list[str]
    problems: list[str]

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in (*STATUSES, NOT_IMPLEMENTED)}
        for r in self.rows:
            out[r.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "use_cases": [r.to_dict() for r in self.rows],
            "project_additions": [r.to_dict() for r in self.additions],
            "packages": self.packages,
            "problems": self.problems,
        }


def coverage_report(catalogue: Catalogue, package: str = "ies.usecases") -> CoverageReport:
    """Discover the use-case packages under `package` and join their declarations with the catalogue."""
    discovery = discover_usecase_packages(package)
    problems = [f"package {name} failed to import: {why}" for name, why in discovery.failures.items()]
    rows = {u.id: CoverageRow(u.id, u.number, u.name) for u in catalogue.use_cases}
    additions: dict[str, CoverageRow] = {}
    declared_by: set[str] = set()
    for d in declarations(under=package):
        declared_by.add(
            next((p for p in discovery.packages if d.module == p or d.module.startswith(p + ".")), d.module)
        )
        try:
            rows[catalogue.find(d.ref).id].add(d)
        except UnknownUseCase:
            if d.title:
                slug = str(d.ref).strip().lower()
                additions.setdefault(slug, CoverageRow(slug, None, d.title, in_catalogue=False)).add(d)
            else:
                problems.append(
                    f"{d.module} declares unknown use case {d.ref!r} (give title= for a use case "
                    "outside the strategy document's list)"
                )
    for pkg in discovery.packages:
        if pkg not in declared_by:
            problems.append(
                f"package {pkg} declares no use case (call ies.usecases.declare_usecase in its __init__.py)"
            )
    return CoverageReport(list(rows.values()), list(additions.values()), discovery.packages, problems)
