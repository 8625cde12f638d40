"""Storing published catalogues and searching them with RFC 9535 JSONPath and text."""

from __future__ import annotations

from typing import Any

import jsonpath_rfc9535 as jsonpath
import orjson
from sqlalchemy import Engine, select

from ies.discovery.tables import CatalogRow
from ies.errors import SchemaValidationFailed
from ies.store import session_factory, utcnow

__all__ = ["CatalogStore", "compile_filter", "search_catalogs"]

MAX_EXPRESSION_LENGTH = 2000


def compile_filter(expression: str) -> jsonpath.JSONPathQuery:
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise SchemaValidationFailed(
            "filter expression is too long", details={"path": "$.message.intent.filters"}
        )
    try:
        return jsonpath.compile(expression)
    except jsonpath.JSONPathError as exc:
        raise SchemaValidationFailed(
            f"filter is not an RFC 9535 JSONPath expression: {exc}",
            details={"path": "$.message.intent.filters.expression"},
        ) from None


def _matches_text(catalog: dict[str, Any], words: list[str]) -> bool:
    haystack = orjson.dumps(catalog).decode("utf-8").lower()
    return all(word in haystack for word in words)


def search_catalogs(
    catalogs: list[dict[str, Any]], *, expression: str | None = None, text: str | None = None
) -> list[dict[str, Any]]:
    query = compile_filter(expression) if expression else None
    words = [w for w in (text or "").lower().split() if w]
    out = []
    for catalog in catalogs:
        if query is not None and not query.find({"catalogs": [catalog]}):
            continue
        if words and not _matches_text(catalog, words):
            continue
        out.append(catalog)
    return out


class CatalogStore:
    def __init__(self, engine: Engine):
        self.sessions = session_factory(engine)

    def publish(self, bpp_id: str, bpp_uri: str | None, catalogs: list[dict[str, Any]]) -> int:
        """Replace the publishing BPP's catalogues with these (a catalogue without an id is refused)."""
        for i, catalog in enumerate(catalogs):
            if not isinstance(catalog, dict) or not isinstance(catalog.get("id"), str) or not catalog["id"]:
                raise SchemaValidationFailed(
                    "every catalogue needs a string id", details={"path": f"$.message.catalogs[{i}].id"}
                )
        now = utcnow()
        with self.sessions.begin() as session:
            for catalog in catalogs:
                stamped = {
                    **catalog,
                    "bppId": catalog.get("bppId", bpp_id),
                    "bppUri": catalog.get("bppUri", bpp_uri),
                }
                session.merge(
                    CatalogRow(
                        bpp_id=bpp_id,
                        catalog_id=catalog["id"],
                        bpp_uri=bpp_uri,
                        body=stamped,
                        published_at=now,
                    )
                )
        return len(catalogs)

    def all(self) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(select(CatalogRow).order_by(CatalogRow.bpp_id, CatalogRow.catalog_id))
            return [row.body for row in rows]
