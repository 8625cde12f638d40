"""The IES use-case catalogue and the prioritisation rubric of strategy §7.1, as code and data.

IES is built one use case at a time, chosen by a rubric: eight criteria scored 0–10 and weighted
20/20/20/10/8/8/5/9 %, checked for sensitivity so that the ranking "is not driven by a single assumption".
This package makes that exercise repeatable and re-runnable with anyone's weights and scores:

- `catalogue.yaml` — the master list (Annexure 1), the criteria with their 0/5/10 anchors (Table 1), the
  default weights and the 66 scored use cases (Annexure 4), transcribed with notes on every correction;
  `load_catalogue()` validates it into immutable models.
- `rank_use_cases` — weighted totals in exact arithmetic and competition ranks (ties stay ties).
- `one_at_a_time` / `monte_carlo` — the sensitivity check.
- `read_sheet` / `calibrate` — two reviewers' CSV sheets, their disagreements and the midline sheet.
- `coverage_report` — which use cases this project implements, from the packages' own declarations.

The command line is `ies usecases …` (`ies.cli.usecases`); docs/usecases.md explains the method.
"""

from __future__ import annotations

from ies.usecases import declare_usecase
from ies.usecases.catalogue._coverage import CoverageReport, CoverageRow, coverage_report
from ies.usecases.catalogue._errors import (
    CatalogueDataError,
    InvalidScoreSheet,
    InvalidWeights,
    UnknownCriterion,
    UnknownStakeholder,
    UnknownUseCase,
)
from ies.usecases.catalogue._model import Catalogue, Criterion, UseCase, load_catalogue, parse_catalogue
from ies.usecases.catalogue._scoring import (
    RankedUseCase,
    Weights,
    competition_ranks,
    load_weights,
    rank_use_cases,
    round3,
    weighted_total,
    weights_from_mapping,
)
from ies.usecases.catalogue._sensitivity import (
    MonteCarlo,
    OneAtATime,
    Perturbation,
    monte_carlo,
    one_at_a_time,
)
from ies.usecases.catalogue._sheets import (
    Calibration,
    ScoreSheet,
    SheetRow,
    calibrate,
    parse_sheet,
    read_sheet,
    write_sheet,
)

__all__ = [
    "Calibration",
    "Catalogue",
    "CatalogueDataError",
    "CoverageReport",
    "CoverageRow",
    "Criterion",
    "InvalidScoreSheet",
    "InvalidWeights",
    "MonteCarlo",
    "OneAtATime",
    "Perturbation",
    "RankedUseCase",
    "ScoreSheet",
    "SheetRow",
    "UnknownCriterion",
    "UnknownStakeholder",
    "UnknownUseCase",
    "UseCase",
    "Weights",
    "calibrate",
    "competition_ranks",
    "coverage_report",
    "load_catalogue",
    "load_weights",
    "monte_carlo",
    "one_at_a_time",
    "parse_catalogue",
    "parse_sheet",
    "rank_use_cases",
    "read_sheet",
    "round3",
    "weighted_total",
    "weights_from_mapping",
    "write_sheet",
]

# The prioritisation exercise of §7.1 is not itself one of the 66 listed use cases, so it is declared as
# a project addition (with a title) rather than squeezed under an unrelated entry of the master list.
declare_usecase(
    "usecase-prioritisation",
    module=__name__,
    status="implemented",
    title="Use-case prioritisation: rubric ranking, sensitivity check and reviewer calibration (§7.1)",
)
