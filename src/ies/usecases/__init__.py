"""Use cases built on the IES building blocks, and the registry through which each one declares itself.

Why a registry: `ies usecases coverage` has to say truthfully which of the sector's use cases (the IES
master list, `ies.usecases.catalogue`) this project implements. A hand-kept list drifts the day someone
adds a package and forgets to update it. Instead every use-case package states what it implements, next
to the code that implements it, and coverage finds the packages itself: it imports every subpackage of
`ies.usecases` (`pkgutil`) and reads what they declared.

How to declare, in `src/ies/usecases/<name>/__init__.py`::

    from ies.usecases import declare_usecase

    declare_usecase(51, module=__name__, status="partial", notes="export metering and settlement only")
    declare_usecase("peer-to-peer-and-local-prosumer-trading-pilots", module=__name__, status="implemented")

- `ref` names a use case of the catalogue: its Annexure 1 number (1–63), its id (the slug that
  `ies usecases rank --json` prints, e.g. `consent-based-data-sharing`) or its exact name. Three scored use
  cases have no number (P2P trading, V2G, grid resilience): use their id.
- `status` is one of `STATUSES`: "implemented" (the end-to-end flow works and is tested), "partial"
  (some of the flow; say which in `notes`) or "planned" (the package exists, the flow does not yet).
- Something this project implements that is not in the strategy document's list is declared with a
  `title` (and a new slug as `ref`), so that it shows up as a project addition instead of as a typo.
- `module=__name__` is required so that coverage can say which package claims what.

Declaring is cheap and does not load the catalogue (so importing a use case stays fast); references are
resolved when coverage is computed, and an unknown reference is reported there as a problem with the
module that made it (`ies usecases coverage` then exits 1).

Declarations live in one process-wide table because they describe the installed code, not any one node
or network: importing a package twice declares the same thing twice, which is harmless (same key).
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Final

from ies.errors import UsageError

__all__ = [
    "STATUSES",
    "Declaration",
    "Discovery",
    "declarations",
    "declare_usecase",
    "discover_usecase_packages",
]

#: Allowed values of `status`, strongest first (coverage shows the strongest claim per use case).
STATUSES: Final[tuple[str, ...]] = ("implemented", "partial", "planned")


@dataclass(frozen=True, order=True)
class Declaration:
    """One package's claim to implement (part of) one use case."""

    module: str
    ref: int | str
    status: str
    notes: str = ""
    title: str | None = None


_DECLARATIONS: dict[tuple[str, str], Declaration] = {}


def declare_usecase(
    ref: int | str,
    *,
    module: str,
    status: str = "implemented",
    notes: str = "",
    title: str | None = None,
) -> Declaration:
    """Record that `module` implements use case `ref` with the given status; returns the declaration.

    Raises `UsageError` at once for a malformed call (bad status, empty module, non-positive number), so a
    typo fails the importing package's own tests rather than surfacing later in a coverage report.
    """
    if status not in STATUSES:
        raise UsageError(f"declare_usecase: status {status!r} is not one of {', '.join(STATUSES)}")
    if not module or not isinstance(module, str):
        raise UsageError("declare_usecase: module=__name__ is required")
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        raise UsageError(f"declare_usecase: ref must be a use-case number, id or name, not {ref!r}")
    if isinstance(ref, int) and ref < 1:
        raise UsageError(f"declare_usecase: use-case numbers start at 1, got {ref}")
    if isinstance(ref, str) and not ref.strip():
        raise UsageError("declare_usecase: ref is empty")
    declaration = Declaration(module=module, ref=ref, status=status, notes=notes, title=title)
    _DECLARATIONS[(module, str(ref).strip().lower())] = declaration
    return declaration


def declarations(under: str | None = None) -> list[Declaration]:
    """Every declaration made so far, optionally only those from modules inside package `under`."""
    found = [
        d
        for d in _DECLARATIONS.values()
        if under is None or d.module == under or d.module.startswith(under + ".")
    ]
    return sorted(found, key=lambda d: (d.module, str(d.ref)))


@dataclass
class Discovery:
    """What importing the use-case packages found: the packages, and those that failed to import."""

    packages: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def discover_usecase_packages(package: str | ModuleType = "ies.usecases") -> Discovery:
    """Import every direct subpackage of `package` so that each runs its `declare_usecase` calls.

    A package that fails to import is recorded (with the last line of its traceback) instead of aborting
    discovery: one broken package must not hide what the others implement, and the failure is itself
    something coverage has to report.
    """
    root = importlib.import_module(package) if isinstance(package, str) else package
    result = Discovery()
    for info in sorted(pkgutil.iter_modules(root.__path__, prefix=root.__name__ + "."), key=lambda m: m.name):
        if not info.ispkg or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            result.failures[info.name] = last
            continue
        result.packages.append(info.name)
    return result
