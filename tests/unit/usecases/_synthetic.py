"""Synthetic catalogues for property tests: the packaged criteria and vocabularies, made-up use cases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ies.usecases.catalogue import Catalogue, load_catalogue, parse_catalogue


def synthetic_catalogue(score_rows: Sequence[Sequence[int]]) -> Catalogue:
    """A catalogue whose use cases `uc-0`, `uc-1`, … have the given eight scores each."""
    base: dict[str, Any] = load_catalogue().model_dump(mode="python")
    keys = [c["key"] for c in base["criteria"]]
    base["stakeholder_highlights"] = []
    base["use_cases"] = [
        {
            "id": f"uc-{i}",
            "number": i + 1,
            "name": f"Use case {i}",
            "stakeholders": ["DISCOMs"] if i % 2 else ["Consumers"],
            "systems": [],
            "description": "",
            "outcomes": "",
            "scores": dict(zip(keys, row, strict=True)),
            "annexure_4_position": i + 1,
        }
        for i, row in enumerate(score_rows)
    ]
    return parse_catalogue(base)
