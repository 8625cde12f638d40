"""Errors of the use-case catalogue, each a subclass of the project's error tree with its own stable code.

Bad weights, sheets and options are unusable input (exit 2); naming a use case that does not exist is a
lookup failure (exit 1), like every other NotFoundError in `ies`.
"""

from __future__ import annotations

from ies.errors import InternalError, NotFoundError, UsageError

__all__ = [
    "CatalogueDataError",
    "InvalidScoreSheet",
    "InvalidWeights",
    "UnknownCriterion",
    "UnknownStakeholder",
    "UnknownUseCase",
]


class UnknownUseCase(NotFoundError):
    """A use-case reference (number, id or name) that the catalogue does not contain."""

    code = "UC_UNKNOWN_USE_CASE"


class UnknownCriterion(UsageError):
    code = "UC_UNKNOWN_CRITERION"


class UnknownStakeholder(UsageError):
    code = "UC_UNKNOWN_STAKEHOLDER"


class InvalidWeights(UsageError):
    """Weights that cannot rank anything: negative, not numbers, or not summing to a positive number."""

    code = "UC_INVALID_WEIGHTS"


class InvalidScoreSheet(UsageError):
    """A reviewer's CSV score sheet that is malformed or holds a score outside 0–10."""

    code = "UC_INVALID_SHEET"


class CatalogueDataError(InternalError):
    """The packaged catalogue.yaml itself is broken: a bug in this project, never the user's input."""

    code = "UC_CATALOGUE_DATA"
