"""Per-value MeterData rules: registry resolution, attributes, modes, usage arithmetic, plausibility, quality.

Why separate from the series rules: these look at one reading (or one compact cell) in isolation, so the
compact form and the elaborated form share them; `_md_series` adds what needs neighbours (order, alignment,
cumulative continuity).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._md_context import Declared, JsonPath, MeterDataContext
from ies.schemas.codes import DATA_PROFILE_TO_REGISTRY, ReadingType

#: A service connection cannot draw (or inject) more than this multiple of its sanctioned load for a whole
#: interval: protection would trip first. Five times is also the cap DERC's P2P guidelines (2024) put on
#: traded power relative to sanctioned load, the loosest physical bound found in Indian regulation.
MAX_MULTIPLE_OF_SANCTIONED_LOAD = 5.0
#: Grid frequency a working meter can report; outside it the grid has collapsed (IEGC: 49.90–50.05 Hz).
PLAUSIBLE_FREQUENCY_HZ = (45.0, 55.0)
ENERGY_UNITS = frozenset({"kWh", "kVAh", "kvarh"})
POWER_UNITS = frozenset({"kW", "kVA", "kvar"})
#: `changeMethod` values that declare a register reset or meter change (cumulative decrease allowed).
RESET_METHODS = frozenset(
    {"reset", "register-reset", "meter-reset", "meter-change", "meter-replacement", "rollover"}
)
#: Quality flags that say the value is not as read and therefore must name how it was produced.
SUBSTITUTED_STATUSES = frozenset({"ESTIMATED", "MANUAL"})
VALIDATION_STATUSES = frozenset({"VALID", "ESTIMATED", "MANUAL", "SUSPECT", "REJECTED"})
USAGE_MATH_TOLERANCE = 1e-5


def is_declared_reset(obj: dict[str, Any] | None) -> bool:
    method = (obj or {}).get("changeMethod")
    return (
        isinstance(method, str)
        and method.strip().lower().replace("_", "-").replace(" ", "-") in RESET_METHODS
    )


def resolve_for_profile(
    ctx: MeterDataContext, reading_type: object, p_type: str, path: JsonPath
) -> ReadingType | None:
    """Resolve a reading type and check the profile permits it; report and return None when unresolvable."""
    entry = ctx.registry.resolve(reading_type)
    if entry is None:
        ctx.add(
            path,
            R.MD_READING_TYPE_UNRESOLVED,
            f"readingType {reading_type!r} could not be resolved in ies-codes.json",
        )
        return None
    registry_profile = DATA_PROFILE_TO_REGISTRY.get(p_type)
    if registry_profile and registry_profile not in entry.profiles:
        ctx.add(
            path,
            R.MD_PROFILE_TYPE_MISMATCH,
            f"readingType {reading_type!r} is not permitted in a {p_type} profile (registry profiles: "
            f"{list(entry.profiles)})",
        )
    return entry


def check_plausible(
    ctx: MeterDataContext,
    path: JsonPath,
    entry: ReadingType,
    value: float,
    *,
    usage: bool,
    duration: dt.timedelta | None,
    sanctioned: tuple[float, float | None] | None,
) -> None:
    """Physical plausibility of one (multiplier-scaled) value, keyed on the registry unit."""
    unit = entry.unit
    if unit in ENERGY_UNITS and usage and value < 0:
        ctx.add(path, R.MD_VALUE_IMPLAUSIBLE, f"energy {value} {unit} over an interval cannot be negative")
        return
    if unit == "Hz" and not PLAUSIBLE_FREQUENCY_HZ[0] <= value <= PLAUSIBLE_FREQUENCY_HZ[1]:
        ctx.add(path, R.MD_VALUE_IMPLAUSIBLE, f"frequency {value} Hz outside {PLAUSIBLE_FREQUENCY_HZ}")
        return
    if unit == "V" and value < 0:
        ctx.add(path, R.MD_VALUE_IMPLAUSIBLE, f"voltage {value} V cannot be negative")
        return
    if sanctioned is None:
        return
    import_kw, export_kw = sanctioned
    limit_kw = (
        export_kw if entry.flow_direction == "EXPORT" and export_kw else import_kw
    ) * MAX_MULTIPLE_OF_SANCTIONED_LOAD
    if unit in POWER_UNITS and abs(value) > limit_kw:
        ctx.add(
            path,
            R.MD_VALUE_IMPLAUSIBLE,
            f"{value} {unit} exceeds {MAX_MULTIPLE_OF_SANCTIONED_LOAD}× sanctioned load",
        )
    elif unit in ENERGY_UNITS and usage and duration is not None:
        limit = limit_kw * duration.total_seconds() / 3600
        if value > limit:
            ctx.add(
                path,
                R.MD_VALUE_IMPLAUSIBLE,
                f"{value} {unit} in {duration} exceeds {MAX_MULTIPLE_OF_SANCTIONED_LOAD}× sanctioned load "
                f"({limit:.3f} {unit})",
            )


def check_quality(ctx: MeterDataContext, path: JsonPath, obj: dict[str, Any]) -> None:
    """A substituted value (ESTIMATED/MANUAL) names its method; an ESTIMATED source is flagged ESTIMATED."""
    status = obj.get("validationStatus")
    if status is None:
        return
    if status not in VALIDATION_STATUSES:
        ctx.add(
            path,
            R.MD_QUALITY_FLAG_INVALID,
            f"validationStatus {status!r} is not one of {sorted(VALIDATION_STATUSES)}",
        )
    elif status in SUBSTITUTED_STATUSES and not obj.get("changeMethod"):
        ctx.add(
            path, R.MD_QUALITY_FLAG_INVALID, f"validationStatus {status} without a changeMethod saying how"
        )
    elif obj.get("source") == "ESTIMATED" and status != "ESTIMATED":
        ctx.add(path, R.MD_QUALITY_FLAG_INVALID, f"source ESTIMATED but validationStatus {status}")


def check_reading(
    ctx: MeterDataContext,
    reading: dict[str, Any],
    path: JsonPath,
    p_type: str,
    ds_ref: str | None,
    *,
    duration: dt.timedelta | None,
    sanctioned: tuple[float, float | None] | None,
) -> tuple[ReadingType, Declared | None] | None:
    """Every per-reading rule for one elaborated reading; returns its registry entry and declaration."""
    if "reportedMode" in reading:
        ctx.add(
            (*path, "reportedMode"), R.MD_MODE_IN_READING, "reportedMode belongs in the payload descriptor"
        )
    entry = resolve_for_profile(ctx, reading.get("readingType"), p_type, (*path, "readingType"))
    if entry is None:
        return None
    declared = ctx.declared(ds_ref, entry)
    if ds_ref in ctx.descriptor_sets and declared is None:
        ctx.add(
            (*path, "readingType"),
            R.MD_READING_UNDECLARED,
            f"readingType {reading.get('readingType')!r} is not declared in descriptor set {ds_ref!r}",
        )
    mode = declared.reported_mode if declared else entry.default_mode
    allowed = set(entry.allowed_attributes) | {"readingType", "intervalPeriod", "reportedMode"}
    for attr in reading:
        if attr not in allowed:
            ctx.add(
                (*path, attr),
                R.MD_ATTRIBUTE_NOT_ALLOWED,
                f"attribute {attr!r} is not allowed for {entry.short_label}",
            )
    check_quality(ctx, path, reading)
    opening, closing, value = reading.get("openingValue"), reading.get("closingValue"), reading.get("value")
    if opening is not None or closing is not None:
        if mode == "READING":
            ctx.add(
                path,
                R.MD_OPENING_CLOSING_NOT_ALLOWED,
                "openingValue/closingValue are not permitted under READING mode",
            )
        elif "openingValue" not in entry.allowed_attributes:
            ctx.add(
                path,
                R.MD_OPENING_CLOSING_NOT_ALLOWED,
                f"{entry.short_label} does not carry openingValue/closingValue",
            )
        numeric = all(isinstance(v, int | float) for v in (opening, closing, value))
        if entry.cumulative and numeric:
            assert (
                isinstance(opening, int | float)
                and isinstance(closing, int | float)
                and isinstance(value, int | float)
            )
            if min(opening, closing) < 0:
                ctx.add(
                    path,
                    R.MD_CUMULATIVE_NEGATIVE,
                    f"cumulative register reads negative ({opening} → {closing})",
                )
            elif closing < opening and not is_declared_reset(reading):
                ctx.add(
                    path, R.MD_CUMULATIVE_DECREASE, f"closingValue {closing} is below openingValue {opening}"
                )
            elif abs(value - (closing - opening)) > USAGE_MATH_TOLERANCE and not is_declared_reset(reading):
                ctx.add(
                    path,
                    R.MD_USAGE_MATH,
                    f"value {value} differs from closingValue − openingValue = {closing - opening:g}",
                )
    if isinstance(value, int | float) and not isinstance(value, bool):
        scale = declared.multiplier if declared else 1.0
        usage = mode == "USAGE"
        if entry.cumulative and not usage and value < 0:
            ctx.add(
                (*path, "value"), R.MD_CUMULATIVE_NEGATIVE, f"cumulative register reads negative ({value})"
            )
        else:
            check_plausible(
                ctx,
                (*path, "value"),
                entry,
                value * scale,
                usage=usage,
                duration=duration,
                sanctioned=sanctioned,
            )
    return entry, declared
