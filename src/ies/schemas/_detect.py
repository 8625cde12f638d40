"""Work out which family and version a payload claims to be.

Why an order of evidence: IES payloads identify themselves inconsistently (credentials by `@context`
and `type`, MeterData v0.6 profiles often by `@type`/`profileType` alone, request test cases by shape
only). The strongest evidence wins: an explicit `$schema`, then a catalogue context URL in `@context`,
then `@type`/`type`/`objectType`/`profileType`, then the shape of a MeterDataRequest document.
"""

from __future__ import annotations

import re
from typing import Any

from ies.schemas._catalogue import PUBLIC_BASE, RAW_BASE, UnknownSchema, catalogue, get, load_json

_CONTEXT_URL = re.compile(
    "^(?:"
    + re.escape(PUBLIC_BASE)
    + "|"
    + re.escape(RAW_BASE)
    + r")([A-Za-z]+)/v(\d+(?:\.\d+)*)/context\.jsonld$"
)

#: `@type`/`type` values that name a family (the newest stable version is assumed without a context).
_TYPE_FAMILY: dict[str, str] = {
    "ElectricityCredential": "ElectricityCredential",
    "MeterDataCredential": "MeterDataCredential",
    "MeterDataRequestCredential": "MeterDataRequestCredential",
    "MeterDataRequest": "MeterDataRequest",
    "MeterDataAuthorisation": "MeterDataRequest",
    "MeterDataCapabilities": "MeterDataRequest",
    "ArrFiling": "ArrFiling",
    "OutageNotification": "OutageNotification",
    "PayloadDescriptorProfile": "MeterData",
    "CustomerProfile": "MeterData",
    "IntervalProfile": "MeterData",
    "DailyProfile": "MeterData",
    "MonthlyProfile": "MeterData",
    "BillDetails": "MeterData",
    "BillingProfile": "MeterData",
    "InstantaneousProfile": "MeterData",
    "EventProfile": "MeterData",
    "AlarmProfile": "MeterData",
}
#: Credential types outrank the data types they wrap.
_TYPE_PRIORITY = ("MeterDataRequestCredential", "MeterDataCredential", "ElectricityCredential")
_OBJECT_TYPE_FAMILY = {"ARR_FILING": "ArrFiling", "OUTAGE_NOTIFICATION": "OutageNotification"}
_REQUEST_SHAPE_KEYS = ("capabilitiesRequested", "grantor", "supportedScopes", "maxHistoryDuration")


def _items(doc: Any) -> list[dict[str, Any]]:
    items = doc if isinstance(doc, list) else [doc]
    return [item for item in items if isinstance(item, dict)]


def _from_schema_field(item: dict[str, Any]) -> tuple[str, str] | None:
    claimed = item.get("$schema")
    if not isinstance(claimed, str):
        return None
    for entry in catalogue():
        rel = f"{entry.family}/v{entry.version}/schema.json"
        if claimed in {load_json(entry.schema_path).get("$id"), PUBLIC_BASE + rel, RAW_BASE + rel}:
            return entry.family, entry.version
    return None


def _from_context(item: dict[str, Any]) -> tuple[str, str] | None:
    ctx = item.get("@context")
    urls = ctx if isinstance(ctx, list) else [ctx]
    for url in reversed(urls):  # the family context comes last in credential contexts
        if isinstance(url, str) and (match := _CONTEXT_URL.match(url)):
            entry = get(match.group(1), match.group(2))
            return entry.family, entry.version
    return None


def _from_type(item: dict[str, Any]) -> str | None:
    declared: list[str] = []
    for key in ("@type", "type"):
        value = item.get(key)
        declared.extend(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    for preferred in _TYPE_PRIORITY:
        if preferred in declared:
            return preferred
    for value in declared:
        if value in _TYPE_FAMILY:
            return _TYPE_FAMILY[value]
    object_type = item.get("objectType")
    if isinstance(object_type, str) and object_type in _OBJECT_TYPE_FAMILY:
        return _OBJECT_TYPE_FAMILY[object_type]
    if isinstance(item.get("profileType"), str):
        return "MeterData"
    if any(key in item for key in _REQUEST_SHAPE_KEYS) or ("profiles" in item and "from" not in item):
        return "MeterDataRequest"
    return None


def detect(doc: Any) -> tuple[str, str]:
    """(family, version) of a payload; raise UsageError when nothing in it names a catalogue family."""
    items = _items(doc)
    for finder in (_from_schema_field, _from_context):
        for item in items:
            if found := finder(item):
                return found
    for item in items:
        if family := _from_type(item):
            entry = get(family)
            return entry.family, entry.version
    raise UnknownSchema(
        "cannot tell the schema family of this payload (no catalogue @context, @type, objectType or "
        "profileType); name it with --schema FAMILY@VERSION"
    )
