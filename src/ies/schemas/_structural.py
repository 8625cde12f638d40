"""JSON Schema Draft 2020-12 validation of a document against one catalogue entry.

Why a registry of our own: the IES schemas `$ref` each other by their published URLs and `$ref` external
Beckn/DEG structures (Address, GeoJSONGeometry, the EnergyCredential v2.0 envelope) that upstream stubs as
"any object". Every reference is served from package data (never the network); the external ones by the
real schemas in `data/external/schemas/`. Compiled validators are cached per family@version.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ies.schemas import rule_ids
from ies.schemas._catalogue import DATA_ROOT, PUBLIC_BASE, RAW_BASE, SchemaVersion, catalogue, load_json
from ies.schemas._findings import Finding, json_pointer
from ies.schemas._formats import format_checker

EXTERNAL_SCHEMAS = DATA_ROOT / "external" / "schemas"

#: The custom keyword carrying the rule id a failing subschema reports.
RULE_KEYWORD = "x-ies-rule"


def _closed_ring(
    validator: Any, enabled: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """RFC 7946 §3.1.6: a linear ring's first and last positions are equivalent."""
    if enabled and isinstance(instance, list) and len(instance) >= 2 and instance[0] != instance[-1]:
        yield ValidationError(f"linear ring is not closed: first {instance[0]} != last {instance[-1]}")


_IESValidator = validators.extend(Draft202012Validator, {"x-ies-closed-ring": _closed_ring})


def _resource(contents: dict[str, Any]) -> Resource[Any]:
    return Resource.from_contents(contents, default_specification=DRAFT202012)


@cache
def _registry() -> Registry[Any]:
    """Every catalogue schema under its `$id` and both published URLs, plus the external schemas."""
    pairs: list[tuple[str, Resource[Any]]] = []
    for entry in catalogue():
        contents = load_json(entry.schema_path)
        resource = _resource(contents)
        rel = f"{entry.family}/v{entry.version}/schema.json"
        for uri in {contents.get("$id"), PUBLIC_BASE + rel, RAW_BASE + rel}:
            if uri:
                pairs.append((uri, resource))
    for path in sorted(EXTERNAL_SCHEMAS.glob("*.json")):
        contents = load_json(path)
        pairs.append((contents["$id"], _resource(contents)))
    return Registry().with_resources(pairs)


@cache
def compiled(entry: SchemaVersion) -> Any:
    """The validator for one family@version (built once per process)."""
    schema = load_json(entry.schema_path)
    return _IESValidator(schema, registry=_registry(), format_checker=format_checker())


@cache
def compiled_external(schema_id: str) -> Any:
    """A validator for one bundled external schema (e.g. the EnergyCredential v2.0 envelope)."""
    schema = {"$ref": schema_id}
    return _IESValidator(schema, registry=_registry(), format_checker=format_checker())


def _most_specific(error: ValidationError) -> list[ValidationError]:
    """Replace a failed oneOf/anyOf by the errors of the branch that got furthest into the instance.

    The branch whose shallowest error sits deepest is the one the payload meant (a CUSTOMER profile fails
    the other eight profile branches at `profileType`, but its own branch only deep inside an address),
    so its errors are the precise ones to report; fewer errors break ties.
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branch = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(branch, []).append(sub)
    best = max(branches.values(), key=lambda errs: (min(len(e.absolute_path) for e in errs), -len(errs)))
    return [leaf for sub in best for leaf in _most_specific(sub)]


def _rule_for(error: ValidationError) -> str:
    if error.validator == "format":
        return rule_ids.SCHEMA_FORMAT
    schema = error.schema if isinstance(error.schema, dict) else {}
    rule = schema.get(RULE_KEYWORD)
    if isinstance(rule, str):
        return rule
    if error.validator == "x-ies-closed-ring":
        return rule_ids.GEOJSON_LINEAR_RING
    return f"{rule_ids.SCHEMA_PREFIX}{error.validator}"


def _findings(errors: Iterator[ValidationError], prefix: tuple[str | int, ...]) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for error in (leaf for raw in errors for leaf in _most_specific(raw)):
        path = json_pointer(prefix + tuple(error.absolute_path))
        key = (path, _rule_for(error), error.message)
        if key not in seen:
            seen.add(key)
            out.append(Finding(path=path, rule=key[1], message=error.message))
    out.sort(key=lambda f: (f.path, f.rule))
    return out


def structural_findings(doc: Any, entry: SchemaVersion, prefix: tuple[str | int, ...] = ()) -> list[Finding]:
    """JSON Schema findings of `doc` against `entry` (with a real format checker)."""
    return _findings(compiled(entry).iter_errors(doc), prefix)


def external_findings(doc: Any, schema_id: str, prefix: tuple[str | int, ...] = ()) -> list[Finding]:
    """JSON Schema findings of `doc` against one bundled external schema."""
    return _findings(compiled_external(schema_id).iter_errors(doc), prefix)
