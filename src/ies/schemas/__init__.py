"""IES schema catalogue, validation and JSON-LD expansion (public API filled in below)."""

from __future__ import annotations

__all__: list[str] = []
