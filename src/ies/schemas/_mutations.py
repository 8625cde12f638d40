"""Apply the upstream mutation-fixture format (`{operation, pointer, value}`) to a document.

Why here and not in tests: conformance kits and the `ies` CLI replay the published negative fixtures, and
third parties write fixtures in the same format; the semantics follow the upstream runner (`replace` on a
missing object member adds it, as upstream does).
"""

from __future__ import annotations

import copy
from typing import Any

from ies.errors import UsageError


def decode_pointer(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise UsageError(f"JSON pointer must start with '/': {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def apply_mutations(document: Any, mutations: list[dict[str, Any]]) -> Any:
    """A mutated deep copy of `document` (the input is left untouched)."""
    doc = copy.deepcopy(document)
    for mutation in mutations:
        parts = decode_pointer(str(mutation.get("pointer", "")))
        parent = doc
        try:
            for part in parts[:-1]:
                parent = parent[int(part)] if isinstance(parent, list) else parent[part]
            leaf = parts[-1]
            operation = mutation.get("operation", "replace")
            if operation == "remove":
                del parent[int(leaf) if isinstance(parent, list) else leaf]
            elif operation in ("replace", "add"):
                if isinstance(parent, list):
                    index = int(leaf) if leaf != "-" else len(parent)
                    if operation == "add":
                        parent.insert(index, mutation.get("value"))
                    else:
                        parent[index] = mutation.get("value")
                else:
                    parent[leaf] = mutation.get("value")
            else:
                raise UsageError(f"unsupported mutation operation {operation!r}")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise UsageError(f"mutation {mutation!r} does not apply: {exc}") from None
    return doc
