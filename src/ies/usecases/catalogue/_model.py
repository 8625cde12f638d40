"""Typed model of the use-case catalogue (criteria, use cases, scores) and its loader.

Why typed: the catalogue is data a regulator may edit and re-run, so a misspelt criterion or a score of
11 must be refused when the file is read, not produce a silently wrong ranking. The packaged
`catalogue.yaml` is validated by these models on load; every cross-reference (score keys = criteria, ids
unique, stakeholders and building blocks from the declared vocabularies) is checked here once.
"""

from __future__ import annotations

import difflib
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ies.usecases.catalogue._errors import CatalogueDataError, UnknownStakeholder, UnknownUseCase

__all__ = [
    "Catalogue",
    "Criterion",
    "Score",
    "StakeholderHighlight",
    "UseCase",
    "load_catalogue",
    "parse_catalogue",
]

#: One criterion score: the rubric's 0–10 scale. Decimal, so a calibrated midline like 7.5 stays exact.
Score = Annotated[Decimal, Field(ge=0, le=10)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Criterion(_Frozen):
    """One of the eight ranking criteria (§7.1.1, Table 1) with its default weight (Annexure 4)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    number: int = Field(ge=1)
    name: str
    name_in_annexure_4: str | None = None
    summary: str
    meaning: str
    evidence_signals: str
    anchors: dict[int, str]
    default_weight_percent: Decimal = Field(ge=0)


class UseCase(_Frozen):
    """One use case: Annexure 1 description (when published) and Annexure 4 scores."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    number: int | None = Field(default=None, ge=1)
    name: str
    stakeholders: list[str]
    systems: list[str]
    description: str
    outcomes: str
    source_note: str | None = None
    scores: dict[str, Score]
    published_total: Decimal | None = None
    published_total_as_printed: str | None = None
    annexure_4_position: int | None = Field(default=None, ge=1)
    annexure_4_name_as_printed: str | None = None
    evidence: dict[str, str] = Field(default_factory=dict)
    building_blocks: list[str] = Field(default_factory=list)

    def ref(self) -> str:
        """How people refer to it: the Annexure 1 number when it has one, else its id."""
        return str(self.number) if self.number is not None else self.id


class StakeholderHighlight(_Frozen):
    rank: int
    stakeholder: str
    use_case: str


class Catalogue(_Frozen):
    """The whole catalogue. Use cases keep their Annexure 1 order (numbered first, then the extras)."""

    schema_version: int
    source: dict[str, Any]
    scoring: dict[str, str]
    transcription_notes: list[str]
    stakeholders: list[str]
    building_blocks: dict[str, str]
    criteria: list[Criterion]
    stakeholder_highlights: list[StakeholderHighlight]
    use_cases: list[UseCase]

    @model_validator(mode="after")
    def _cross_references(self) -> Catalogue:
        keys = [c.key for c in self.criteria]
        if len(set(keys)) != len(keys) or [c.number for c in self.criteria] != list(range(1, len(keys) + 1)):
            raise ValueError("criteria must have unique keys and be numbered 1..n in order")
        if sum(c.default_weight_percent for c in self.criteria) <= 0:
            raise ValueError("default weights must sum to a positive number")
        ids = [u.id for u in self.use_cases]
        numbers = [u.number for u in self.use_cases if u.number is not None]
        if len(set(ids)) != len(ids) or len(set(numbers)) != len(numbers):
            raise ValueError("use-case ids and numbers must be unique")
        for uc in self.use_cases:
            if set(uc.scores) != set(keys):
                raise ValueError(f"{uc.id}: scores must name exactly the criteria {keys}")
            if unknown := set(uc.evidence) - set(keys):
                raise ValueError(f"{uc.id}: evidence for unknown criteria {sorted(unknown)}")
            if unknown := set(uc.stakeholders) - set(self.stakeholders):
                raise ValueError(f"{uc.id}: unknown stakeholders {sorted(unknown)}")
            if unknown := set(uc.building_blocks) - set(self.building_blocks):
                raise ValueError(f"{uc.id}: unknown building blocks {sorted(unknown)}")
        for hl in self.stakeholder_highlights:
            if hl.use_case not in ids:
                raise ValueError(f"stakeholder highlight names unknown use case {hl.use_case}")
        return self

    @property
    def criterion_keys(self) -> list[str]:
        return [c.key for c in self.criteria]

    def criterion(self, key: str) -> Criterion:
        return next(c for c in self.criteria if c.key == key)

    def find(self, ref: str | int) -> UseCase:
        """The use case named by Annexure 1 number, id or exact name (case-insensitive)."""
        text = str(ref).strip()
        for uc in self.use_cases:
            if text == str(uc.number) or text.lower() in (uc.id, uc.name.lower()):
                return uc
        choices = [uc.id for uc in self.use_cases] + [uc.name.lower() for uc in self.use_cases]
        close = difflib.get_close_matches(text.lower(), choices, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `ies usecases rank` for the ids"
        raise UnknownUseCase(f"unknown use case {text!r}{hint}", details={"ref": text})

    def resolve_stakeholder(self, name: str) -> str:
        """The stakeholder category `name` denotes: exact or unique-prefix match, case-insensitive."""
        wanted = name.strip().lower()
        exact = [s for s in self.stakeholders if s.lower() == wanted]
        prefix = [s for s in self.stakeholders if s.lower().startswith(wanted)] if wanted else []
        match = exact or prefix
        if len(match) != 1:
            raise UnknownStakeholder(
                f"unknown stakeholder {name!r}; choose one of: {', '.join(self.stakeholders)}",
                details={"stakeholder": name},
            )
        return match[0]

    def for_stakeholder(self, name: str) -> Catalogue:
        """A catalogue restricted to the use cases that list stakeholder `name`."""
        who = self.resolve_stakeholder(name)
        return self.model_copy(update={"use_cases": [u for u in self.use_cases if who in u.stakeholders]})

    def with_scores(self, rescored: dict[str, UseCase]) -> Catalogue:
        """A catalogue where the use cases in `rescored` (by id) replace the published ones."""
        return self.model_copy(update={"use_cases": [rescored.get(u.id, u) for u in self.use_cases]})


def parse_catalogue(data: Any) -> Catalogue:
    """Validate already-parsed catalogue data (used for the packaged file and by tests)."""
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        raise CatalogueDataError(f"catalogue data is invalid: {exc}") from exc


@cache
def load_catalogue() -> Catalogue:
    """The packaged catalogue (read once per process; the model is immutable so sharing it is safe)."""
    text = resources.files("ies.usecases.catalogue").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_catalogue(yaml.load(text, Loader=loader))
