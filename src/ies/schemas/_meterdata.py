"""MeterData semantic rules (v0.6 shape): the upstream validator's checks, done with stable rule ids, plus
the settlement-grade checks upstream lacks (order, duplicates, alignment, units, plausibility, quality).

Pass order: index the payload (descriptor sets, sanctioned loads) → check descriptors against the
registry → check every telemetry profile → check cumulative continuity across profiles of one meter.
"""

from __future__ import annotations

import itertools
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._findings import Finding, Severity
from ies.schemas._md_context import (
    JsonPath,
    MeterDataContext,
    meter_ids,
    parse_duration,
    parse_instant,
    period_end,
)
from ies.schemas._md_events import check_events
from ies.schemas._md_reconcile import check_reconciliation
from ies.schemas._md_series import check_series
from ies.schemas._md_values import check_reading, is_declared_reset
from ies.schemas.codes import ReadingTypeRegistry, reading_types

#: Profile types that carry no telemetry of their own.
NON_TELEMETRY = frozenset({"DESCRIPTOR", "CUSTOMER"})
#: Descriptor members that must equal the registry entry when present (unit is checked on its own).
_REGISTRY_MEMBERS = ("name", "flowDirection", "category")


def _index(ctx: MeterDataContext, profiles: list[Any]) -> None:
    for profile in profiles:
        if not isinstance(profile, dict):
            continue
        if profile.get("profileType") == "DESCRIPTOR":
            ctx.has_descriptor_profile = True
            for ds in profile.get("payloadDescriptorSets", []) or []:
                if isinstance(ds, dict) and isinstance(ds.get("name"), str):
                    ctx.descriptor_sets[ds["name"]] = ds
        elif profile.get("profileType") == "CUSTOMER":
            customer = profile.get("customer") or {}
            load = customer.get("sanctionedLoadKw")
            if not isinstance(load, int | float) or load <= 0:
                continue
            export = customer.get("sanctionedExportLoadKw")
            export_kw = float(export) if isinstance(export, int | float) and export > 0 else None
            ids = meter_ids(profile)
            for meter in profile.get("meters", []) or []:
                ids.extend(meter_ids({"meterRefs": [(meter or {}).get("id")]}))
            for assoc in profile.get("associations", []) or []:
                ids.extend(meter_ids(assoc or {}))
            for meter_id in ids:
                ctx.sanctioned_kw[meter_id] = (float(load), export_kw)


def _check_descriptors(ctx: MeterDataContext, profiles: list[Any]) -> None:
    for p_idx, profile in enumerate(profiles):
        if not isinstance(profile, dict) or profile.get("profileType") != "DESCRIPTOR":
            continue
        for s_idx, ds in enumerate(profile.get("payloadDescriptorSets", []) or []):
            for d_idx, desc in enumerate((ds or {}).get("payloadDescriptors", []) or []):
                if not isinstance(desc, dict):
                    continue
                path: JsonPath = (p_idx, "payloadDescriptorSets", s_idx, "payloadDescriptors", d_idx)
                rt = desc.get("readingType")
                entry = ctx.registry.resolve(rt)
                if entry is None:
                    ctx.add(
                        (*path, "readingType"),
                        R.MD_READING_TYPE_UNRESOLVED,
                        f"readingType {rt!r} could not be resolved in ies-codes.json",
                    )
                    continue
                if "obis" in desc and desc["obis"] != entry.obis:
                    ctx.add(
                        (*path, "obis"),
                        R.MD_DESCRIPTOR_REGISTRY_MISMATCH,
                        f"obis {desc['obis']!r} but {rt!r} is {entry.obis}",
                    )
                for member in _REGISTRY_MEMBERS:
                    if member in desc and member in entry.raw and desc[member] != entry.raw[member]:
                        ctx.add(
                            (*path, member),
                            R.MD_DESCRIPTOR_REGISTRY_MISMATCH,
                            f"{member} {desc[member]!r} but the registry says {entry.raw[member]!r}",
                        )
                if "unit" in desc and not entry.unit_matches(desc["unit"]):
                    ctx.add(
                        (*path, "unit"),
                        R.MD_UNIT_MISMATCH,
                        f"unit {desc['unit']!r} but {rt!r} is measured in {entry.unit or 'NONE'!r}",
                    )
                mode = desc.get("reportedMode")
                if mode is not None and mode not in entry.supported_modes:
                    ctx.add(
                        (*path, "reportedMode"),
                        R.MD_DESCRIPTOR_REGISTRY_MISMATCH,
                        f"reportedMode {mode} not supported by {rt!r} ({list(entry.supported_modes)})",
                    )


def _check_profile(ctx: MeterDataContext, profile: dict[str, Any], p_idx: int) -> None:
    p_type = str(profile.get("profileType"))
    ds_ref = profile.get("payloadDescriptorSetRef")
    if ctx.has_descriptor_profile and (not isinstance(ds_ref, str) or ds_ref not in ctx.descriptor_sets):
        ctx.add(
            (p_idx, "payloadDescriptorSetRef"),
            R.MD_DESCRIPTOR_REF_UNKNOWN,
            (
                f"payloadDescriptorSetRef {ds_ref!r} names no payload descriptor set"
                if ds_ref is not None
                else "payloadDescriptorSetRef is missing"
            )
            + f" (declared sets: {sorted(ctx.descriptor_sets)})",
        )
    ds_name = ds_ref if isinstance(ds_ref, str) else None
    if p_type in ("INTERVAL", "DAILY"):
        check_series(ctx, profile, p_idx, p_type)
    check_events(ctx, profile, p_idx, p_type)
    sanctioned = ctx.sanctioned_for(meter_ids(profile))
    period = profile.get("timePeriod") or {}
    start = parse_instant(period.get("start"))
    end = period_end(start, period.get("duration")) if start is not None else None
    # calendar periods (P1M) have a length once anchored at their start
    duration = (
        (end - start) if start is not None and end is not None else parse_duration(period.get("duration"))
    )
    for r_idx, reading in enumerate(profile.get("readings", []) or []):
        if isinstance(reading, dict):
            path: JsonPath = (p_idx, "readings", r_idx)
            check_reading(ctx, reading, path, p_type, ds_name, duration=duration, sanctioned=sanctioned)
    for b_idx, bucket in enumerate(profile.get("touBuckets", []) or []):
        for r_idx, reading in enumerate((bucket or {}).get("readings", []) or []):
            if isinstance(reading, dict):
                path = (p_idx, "touBuckets", b_idx, "readings", r_idx)
                check_reading(ctx, reading, path, p_type, ds_name, duration=duration, sanctioned=sanctioned)


def _check_continuity(ctx: MeterDataContext, profiles: list[Any]) -> None:
    """Across MONTHLY profiles of one meter, a register never opens below where it last closed."""
    series: dict[tuple[str, str], list[tuple[Any, JsonPath, dict[str, Any]]]] = {}
    for p_idx, profile in enumerate(profiles):
        if not isinstance(profile, dict) or profile.get("profileType") != "MONTHLY":
            continue
        start = parse_instant((profile.get("timePeriod") or {}).get("start"))
        ids = meter_ids(profile)
        if start is None or len(ids) != 1:
            continue
        for r_idx, reading in enumerate(profile.get("readings", []) or []):
            entry = ctx.registry.resolve((reading or {}).get("readingType"))
            if entry is not None and entry.cumulative and isinstance(reading, dict):
                series.setdefault((ids[0], entry.obis), []).append(
                    (start, (p_idx, "readings", r_idx), reading)
                )
    for rows in series.values():
        rows.sort(key=lambda row: row[0])
        for (_, _, before), (_, path, after) in itertools.pairwise(rows):
            closing, opening = before.get("closingValue"), after.get("openingValue")
            if (
                isinstance(closing, int | float)
                and isinstance(opening, int | float)
                and opening < closing
                and not is_declared_reset(after)
            ):
                ctx.add(
                    (*path, "openingValue"),
                    R.MD_CUMULATIVE_DECREASE,
                    f"opens at {opening} below the previous closing {closing}",
                )


def meterdata_findings(
    doc: Any, prefix: JsonPath = (), registry: ReadingTypeRegistry | None = None
) -> list[Finding]:
    """Semantic findings of a MeterData payload (one profile or an array of profiles)."""
    profiles = doc if isinstance(doc, list) else [doc]
    # A single profile object: paths are relative to it, so the synthetic index 0 is dropped.
    context_class = MeterDataContext if isinstance(doc, list) else _SingleProfileContext
    ctx = context_class(registry=registry or reading_types(), prefix=prefix)
    _index(ctx, profiles)
    telemetry = [
        i for i, p in enumerate(profiles) if isinstance(p, dict) and p.get("profileType") not in NON_TELEMETRY
    ]
    if telemetry and not ctx.has_descriptor_profile:
        ctx.add(
            (),
            R.MD_DESCRIPTOR_MISSING,
            "telemetry profiles present but no DESCRIPTOR profile declares their readings",
        )
    _check_descriptors(ctx, profiles)
    for p_idx in telemetry:
        _check_profile(ctx, profiles[p_idx], p_idx)
    _check_continuity(ctx, profiles)
    check_reconciliation(ctx, profiles)
    return ctx.findings


class _SingleProfileContext(MeterDataContext):
    """Context for a payload that is one profile object: strip the leading profile index from paths."""

    def add(self, path: JsonPath, rule: str, message: str, severity: Severity = "error") -> None:
        super().add(path[1:] if path and path[0] == 0 else path, rule, message, severity)
