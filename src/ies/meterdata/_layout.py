"""Column layouts of compact telemetry: which reading type, attribute and mode each payload position holds.

Why a separate step: in a MultiMeterBulkDataset thousands of meter profiles share a handful of payload
descriptor sets. Resolving a set's compact sequence against the reading-type registry (and checking units,
modes and allowed profiles) is done once per (set, sequence, profile type) and cached; the per-meter work is
then purely numeric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ies.meterdata._codes import CodeRegistry, ReadingTypeInfo
from ies.schemas import rule_ids as R

__all__ = ["Column", "DescriptorCatalog", "Issue", "Layout", "ReadingGroup"]

_NUMERIC_ATTRIBUTES = frozenset({"value", "openingValue", "closingValue"})
#: Registry fields a descriptor may restate; a different value is a registry mismatch.
_RESTATED = (("unit", "unit"), ("flowDirection", "flow_direction"), ("obis", "obis"))


@dataclass(frozen=True)
class Issue:
    """A profile-level finding before it is attributed to a meter and a JSON path."""

    rule: str
    message: str
    path: str = ""


@dataclass(frozen=True)
class Column:
    """One payload position of a compact sequence."""

    reading_type: str
    attribute: str
    info: ReadingTypeInfo | None
    mode: str
    multiplier: float

    @property
    def numeric(self) -> bool:
        return self.attribute in _NUMERIC_ATTRIBUTES


@dataclass(frozen=True)
class ReadingGroup:
    """The columns that together form one Reading (value, openingValue, closingValue of one type)."""

    reading_type: str
    info: ReadingTypeInfo | None
    mode: str
    multiplier: float
    value: int | None
    opening: int | None
    closing: int | None
    status: int | None


@dataclass(frozen=True)
class Layout:
    """A resolved compact sequence: its columns, reading groups and the issues found resolving it."""

    columns: tuple[Column, ...]
    groups: tuple[ReadingGroup, ...]
    issues: tuple[Issue, ...]

    @property
    def arity(self) -> int:
        return len(self.columns)

    @property
    def all_numeric(self) -> bool:
        return all(c.numeric for c in self.columns)


@dataclass
class DescriptorSet:
    name: str
    descriptors: dict[str, dict[str, Any]]
    sequences: dict[str, list[dict[str, Any]]]
    pointer: str
    raw: dict[str, Any]


@dataclass
class DescriptorCatalog:
    """Every payload descriptor set declared so far in the stream, and cached layouts."""

    registry: CodeRegistry
    sets: dict[str, DescriptorSet] = field(default_factory=dict)
    seen_descriptor_profile: bool = False
    _layouts: dict[tuple[str, str | None, str], Layout] = field(default_factory=dict)

    def add_profile(self, profile: dict[str, Any], pointer: str) -> None:
        """Register the sets of a DESCRIPTOR profile (later declarations of a name replace earlier ones)."""
        self.seen_descriptor_profile = True
        for s_index, raw_set in enumerate(profile.get("payloadDescriptorSets") or []):
            if not isinstance(raw_set, dict) or not isinstance(raw_set.get("name"), str):
                continue
            descriptors = {
                d["readingType"]: d
                for d in raw_set.get("payloadDescriptors") or []
                if isinstance(d, dict) and isinstance(d.get("readingType"), str)
            }
            sequences = {
                q["name"]: list(q.get("sequenceItems") or [])
                for q in raw_set.get("compactSequences") or []
                if isinstance(q, dict) and isinstance(q.get("name"), str)
            }
            self.sets[raw_set["name"]] = DescriptorSet(
                raw_set["name"], descriptors, sequences, f"{pointer}/payloadDescriptorSets/{s_index}", raw_set
            )
        self._layouts.clear()

    def layout(self, set_ref: str, sequence_ref: str | None, profile_type: str) -> Layout | Issue:
        """The resolved layout for a telemetry profile, or the single issue that makes it unusable."""
        if not self.seen_descriptor_profile:
            return Issue(R.MD_DESCRIPTOR_MISSING, "telemetry profile but no DESCRIPTOR profile precedes it")
        dset = self.sets.get(set_ref)
        if dset is None:
            return Issue(
                R.MD_DESCRIPTOR_REF_UNKNOWN,
                f"payloadDescriptorSetRef {set_ref!r} names no payload descriptor set declared before it",
                "/payloadDescriptorSetRef",
            )
        key = (set_ref, sequence_ref, profile_type)
        cached = self._layouts.get(key)
        if cached is None:
            cached = self._resolve(dset, sequence_ref, profile_type)
            self._layouts[key] = cached
        return cached

    def _resolve(self, dset: DescriptorSet, sequence_ref: str | None, profile_type: str) -> Layout:
        issues: list[Issue] = []
        if sequence_ref is None:
            items = [{"readingType": rt} for rt in dset.descriptors]
        elif sequence_ref in dset.sequences:
            items = dset.sequences[sequence_ref]
        else:
            issues.append(
                Issue(
                    R.MD_SEQUENCE_REF_UNKNOWN,
                    f"compactSequenceRef {sequence_ref!r} names no sequence of set {dset.name!r}",
                    "/compactSequenceRef",
                )
            )
            items = []
        checked: set[str] = set()
        columns: list[Column] = []
        for item in items:
            reading_type = str(item.get("readingType"))
            attribute = str(item.get("attribute", "value"))
            descriptor = dset.descriptors.get(reading_type)
            if descriptor is None:
                issues.append(
                    Issue(
                        R.MD_READING_UNDECLARED,
                        f"sequence column {reading_type!r} is not declared in set {dset.name!r}",
                    )
                )
                descriptor = {}
            info = self.registry.resolve(reading_type, descriptor.get("obis"))
            mode = str(descriptor.get("reportedMode") or (info.default_mode if info else "READING"))
            multiplier = descriptor.get("multiplier", 1)
            if reading_type not in checked:
                checked.add(reading_type)
                issues.extend(_check_descriptor(reading_type, descriptor, info, mode, profile_type))
            if info is not None and attribute not in info.allowed_attributes:
                issues.append(
                    Issue(
                        R.MD_ATTRIBUTE_NOT_ALLOWED,
                        f"attribute {attribute!r} is not allowed for {reading_type!r}",
                    )
                )
            if attribute in ("openingValue", "closingValue") and mode != "USAGE":
                issues.append(
                    Issue(
                        R.MD_OPENING_CLOSING_NOT_ALLOWED,
                        f"{attribute} of {reading_type!r} under {mode} mode (only USAGE carries them)",
                    )
                )
            mult = float(multiplier) if isinstance(multiplier, int | float) else 1.0
            columns.append(Column(reading_type, attribute, info, mode, mult))
        return Layout(tuple(columns), _groups(columns), tuple(issues))


def _check_descriptor(
    reading_type: str, descriptor: dict[str, Any], info: ReadingTypeInfo | None, mode: str, profile_type: str
) -> list[Issue]:
    if info is None:
        return [Issue(R.MD_READING_TYPE_UNRESOLVED, f"readingType {reading_type!r} could not be resolved")]
    issues: list[Issue] = []
    if not info.allowed_in(profile_type):
        issues.append(
            Issue(
                R.MD_PROFILE_TYPE_MISMATCH, f"{reading_type!r} is not permitted in a {profile_type} profile"
            )
        )
    unit = descriptor.get("unit")
    if isinstance(unit, str) and not info.unit_matches(unit):
        issues.append(
            Issue(
                R.MD_UNIT_MISMATCH,
                f"{reading_type!r} is measured in {info.unit or 'no unit'!r}, the descriptor says {unit!r}",
            )
        )
    for key, attr in _RESTATED[1:]:
        declared = descriptor.get(key)
        expected = getattr(info, attr)
        if isinstance(declared, str) and expected and declared != expected:
            issues.append(
                Issue(
                    R.MD_DESCRIPTOR_REGISTRY_MISMATCH,
                    f"{reading_type!r}: descriptor {key} {declared!r} differs from the registry "
                    f"({expected!r})",
                )
            )
    if mode not in info.supported_modes:
        issues.append(
            Issue(R.MD_DESCRIPTOR_REGISTRY_MISMATCH, f"{reading_type!r} does not support reportedMode {mode}")
        )
    return issues


def _groups(columns: list[Column]) -> tuple[ReadingGroup, ...]:
    order: list[str] = []
    positions: dict[str, dict[str, int]] = {}
    for index, column in enumerate(columns):
        if column.reading_type not in positions:
            order.append(column.reading_type)
            positions[column.reading_type] = {}
        positions[column.reading_type].setdefault(column.attribute, index)
    groups = []
    for reading_type in order:
        pos = positions[reading_type]
        first = columns[next(iter(pos.values()))]
        groups.append(
            ReadingGroup(
                reading_type,
                first.info,
                first.mode,
                first.multiplier,
                pos.get("value"),
                pos.get("openingValue"),
                pos.get("closingValue"),
                pos.get("validationStatus"),
            )
        )
    return tuple(groups)
