"""The catalogue of IES schema families and versions shipped inside the package.

Why package data: a node must validate without a network and without a checkout of the upstream repository,
so the published schemas, contexts, vocabularies and examples are copied unchanged under `data/schemas/`
(upstream layout, MIT notice in `data/NOTICE`). This module only discovers and loads them; it never edits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ies.errors import UsageError

#: Root of the bundled upstream material (schemas/, use-cases/, scripts/fixtures/).
DATA_ROOT: Path = Path(str(resources.files("ies.schemas") / "data"))
SCHEMAS_ROOT: Path = DATA_ROOT / "schemas"

#: Published base URL of the IES schemas; contexts and `$id`s use it (or the raw GitHub mirror below).
PUBLIC_BASE = "https://india-energy-stack.github.io/ies-accelerator/schemas/"
RAW_BASE = "https://raw.githubusercontent.com/India-Energy-Stack/ies-accelerator/main/schemas/"

#: Maturity per upstream STATUS.md (upstream commit e5fa8d5). Versions not listed are superseded by a
#: newer stable version of the same family.
_STATUS: dict[tuple[str, str], str] = {
    ("ElectricityCredential", "1.2"): "stable",
    ("MeterData", "0.6"): "stable",
    ("MeterDataCredential", "0.6"): "stable",
    ("MeterDataRequest", "0.6"): "stable",
    ("MeterDataRequestCredential", "0.1"): "stable",
    ("ArrFiling", "0.5"): "wip",
    ("OutageNotification", "0.1"): "wip",
}


class UnknownSchema(UsageError):
    """The payload names no catalogue family/version, or the caller asked for one that does not exist.

    A UsageError (exit 2, HTTP 400): the input cannot be validated at all.
    """

    code = "SCH_UNKNOWN_SCHEMA"


_VERSION_DIR = re.compile(r"^v(\d+(?:\.\d+)*)$")


@dataclass(frozen=True)
class SchemaVersion:
    """One family@version of the catalogue and where its files live."""

    family: str
    version: str
    status: str
    directory: Path

    @property
    def key(self) -> str:
        return f"{self.family}@{self.version}"

    @property
    def schema_path(self) -> Path:
        return self.directory / "schema.json"

    @property
    def context_url(self) -> str:
        return f"{PUBLIC_BASE}{self.family}/v{self.version}/context.jsonld"

    def examples(self) -> list[Path]:
        return sorted((self.directory / "examples").glob("*.json"))

    def test_cases(self) -> list[Path]:
        return sorted((self.directory / "validation" / "test_cases").glob("*.json"))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@cache
def catalogue() -> tuple[SchemaVersion, ...]:
    """Every bundled family/version, sorted by family then version."""
    found: list[SchemaVersion] = []
    for family_dir in sorted(p for p in SCHEMAS_ROOT.iterdir() if p.is_dir()):
        for version_dir in family_dir.iterdir():
            match = _VERSION_DIR.match(version_dir.name)
            if not match or not (version_dir / "schema.json").is_file():
                continue
            version = match.group(1)
            status = _STATUS.get((family_dir.name, version), "superseded")
            found.append(SchemaVersion(family_dir.name, version, status, version_dir))
    found.sort(key=lambda s: (s.family, _version_key(s.version)))
    return tuple(found)


def families() -> list[str]:
    return sorted({s.family for s in catalogue()})


def get(family: str, version: str | None = None) -> SchemaVersion:
    """The catalogue entry for family@version; the newest stable (else newest) version when none is given."""
    candidates = [s for s in catalogue() if s.family.lower() == family.lower()]
    if not candidates:
        raise UnknownSchema(f"unknown schema family {family!r}; known: {', '.join(families())}")
    if version is None:
        stable = [s for s in candidates if s.status in ("stable", "wip")]
        return (stable or candidates)[-1]
    version = version.removeprefix("v")
    for entry in candidates:
        if entry.version == version:
            return entry
    known = ", ".join(s.version for s in candidates)
    raise UnknownSchema(f"unknown version {version!r} of {candidates[0].family}; known: {known}")


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split a `FAMILY@VERSION` (or bare `FAMILY`) command-line spec; raise UsageError when malformed."""
    family, _, version = spec.partition("@")
    if not family or (spec.count("@") > 1):
        raise UsageError(f"schema must be FAMILY@VERSION, got {spec!r}")
    return family, (version or None)


@cache
def load_json(path: Path) -> Any:
    """Parse a bundled JSON file once (callers must not mutate the result)."""
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def schema_document(entry: SchemaVersion) -> dict[str, Any]:
    doc = load_json(entry.schema_path)
    assert isinstance(doc, dict)
    return doc
