"""Read models returned by the registry: an entity as of a time, one version of it, a tree node.

These are what HTTP answers and `--json` prints, so they are pydantic models with plain JSON types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Entity", "TreeNode", "Version"]


class Entity(BaseModel):
    """The state of one entity, either now or as it stood at a past time."""

    model_config = ConfigDict(frozen=True)

    id: str
    entity_class: str
    discom: str
    local_id: str
    parent_id: str | None
    status: str
    attributes: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: str


class Version(BaseModel):
    """One recorded change: the full state after it and the diff from the state before."""

    model_config = ConfigDict(frozen=True)

    entity_id: str
    version: int
    changed_at: datetime
    changed_by: str
    change: str
    parent_id: str | None
    status: str
    attributes: dict[str, Any]
    diff: dict[str, Any]
    reason: str | None


class TreeNode(BaseModel):
    """An entity found below another one, with its distance (1 = child)."""

    model_config = ConfigDict(frozen=True)

    depth: int
    entity: Entity
