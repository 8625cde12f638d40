"""Stable identifiers of every validation rule `ies` applies to an IES payload.

Why one module: a finding travels far (CLI JSON reports, NACK details, VEE summaries, the bulk meter-data
validator), and consumers match on the rule id, not on the message text. Every validator in the project —
the document validator in `ies.schemas` and the streaming bulk validator in `ies.meterdata` — imports its
ids from here so the same fault always carries the same id. Ids never change meaning once published; a
rule that is withdrawn keeps its id reserved.

Naming: `<area>.<what-is-wrong>`, lower-case, hyphenated. Areas: `schema` (JSON Schema keyword
failures, suffixed by the keyword, e.g. `schema.required`), `geojson`, `address`, `vc` (the W3C VC 2.0
envelope), `input` (unusable input), `md` (MeterData), `mdr` (MeterDataRequest), `arr` (ArrFiling), `jsonld`.
"""

from __future__ import annotations

from typing import Final

# --- Input that cannot be validated at all (reported by `ies validate --json`, exit 2) -----------------
#: The file cannot be read.
INPUT_UNREADABLE: Final = "input.unreadable"
#: The file is not JSON.
INPUT_NOT_JSON: Final = "input.not-json"
#: The payload names no catalogue family/version (or an unknown one was asked for).
INPUT_UNKNOWN_FAMILY: Final = "input.unknown-family"

# --- Structural (JSON Schema Draft 2020-12) ------------------------------------------------------------
#: Prefix of JSON Schema failures; the failing keyword is appended (`schema.required`, `schema.enum`…).
SCHEMA_PREFIX: Final = "schema."
#: A value of a `format` keyword (date, date-time, uri, uuid, email…) does not parse.
SCHEMA_FORMAT: Final = "schema.format"

# --- External structures that upstream stubs ------------------------------------------------------------
#: A GeoJSON geometry is not an RFC 7946 geometry (wrong type member, wrong nesting of coordinates).
GEOJSON_STRUCTURE: Final = "geojson.structure"
#: A GeoJSON position is out of range (longitude ∉ [-180, 180], latitude ∉ [-90, 90]) or has < 2 numbers.
GEOJSON_POSITION: Final = "geojson.position"
#: A Polygon linear ring is not closed or has fewer than four positions (RFC 7946 §3.1.6).
GEOJSON_LINEAR_RING: Final = "geojson.linear-ring"
#: A postal Address is not the schema.org/Beckn PostalAddress shape.
ADDRESS_STRUCTURE: Final = "address.structure"

# --- W3C Verifiable Credentials 2.0 envelope ------------------------------------------------------------
#: `@context` does not start with https://www.w3.org/ns/credentials/v2 (or carries the v1 context).
VC_CONTEXT: Final = "vc.context"
#: A member the VC 2.0 data model requires (id, type, issuer, validFrom, credentialSubject) is missing.
VC_REQUIRED: Final = "vc.required"
#: `type` does not contain "VerifiableCredential".
VC_TYPE: Final = "vc.type"
#: `issuer` is neither a URL nor an object with a URL `id`.
VC_ISSUER: Final = "vc.issuer"
#: validUntil is not after validFrom (compared as instants).
VC_VALIDITY_WINDOW: Final = "vc.validity-window"

# --- MeterData ----------------------------------------------------------------------------------------
#: A readingType does not resolve to an OBIS code or short label of the ies-codes.json registry.
MD_READING_TYPE_UNRESOLVED: Final = "md.reading-type-unresolved"
#: The register is not permitted in the profile type (registry `profiles`; BILL_DETAILS counts as MONTHLY).
MD_PROFILE_TYPE_MISMATCH: Final = "md.profile-type-mismatch"
#: A telemetry profile is present but the payload carries no DESCRIPTOR profile.
MD_DESCRIPTOR_MISSING: Final = "md.descriptor-missing"
#: `payloadDescriptorSetRef` is absent or names no payload descriptor set declared in the payload.
MD_DESCRIPTOR_REF_UNKNOWN: Final = "md.descriptor-ref-unknown"
#: A descriptor's obis/name/unit/flowDirection/category differs from the registry entry.
MD_DESCRIPTOR_REGISTRY_MISMATCH: Final = "md.descriptor-registry-mismatch"
#: A reading (or compact column) uses a reading type the referenced descriptor set does not declare.
MD_READING_UNDECLARED: Final = "md.reading-undeclared"
#: `compactSequenceRef` names no compact sequence of the referenced descriptor set.
MD_SEQUENCE_REF_UNKNOWN: Final = "md.sequence-ref-unknown"
#: A compact interval's payload count differs from the sequence arity.
MD_SEQUENCE_ARITY: Final = "md.sequence-arity"
#: A compact payload cell has the wrong JSON type for its attribute (number vs string).
MD_CELL_TYPE: Final = "md.cell-type"
#: Interval ids are not strictly increasing.
MD_INTERVAL_ID_ORDER: Final = "md.interval-id-order"
#: The same interval (same id or same start instant) appears twice.
MD_INTERVAL_DUPLICATE: Final = "md.interval-duplicate"
#: Interval ids skip: an expected interval is missing (a gap). A warning — a document may carry partial data —
#: but settlement needs complete series, and VEE estimates exactly these.
MD_INTERVAL_MISSING: Final = "md.interval-missing"
#: Interval/reading timestamps are not strictly increasing.
MD_TIMESTAMP_ORDER: Final = "md.timestamp-order"
#: An interval start is not aligned to the declared interval duration (PT15M → :00, :15, :30, :45).
MD_INTERVAL_MISALIGNED: Final = "md.interval-misaligned"
#: A timestamped record (event, alarm, reading occurredAt) lies outside its profile's timePeriod.
MD_TIMESTAMP_OUTSIDE_PERIOD: Final = "md.timestamp-outside-period"
#: An EVENT profile's eventId is not an IS 15959 event of the registry (`ies-codes.json` events).
MD_EVENT_UNKNOWN: Final = "md.event-unknown"
#: An ALARM profile's alarmId is not an alarm of the registry (`ies-codes.json` alarms).
MD_ALARM_UNKNOWN: Final = "md.alarm-unknown"
#: A cumulative register reads negative.
MD_CUMULATIVE_NEGATIVE: Final = "md.cumulative-negative"
#: A cumulative register decreases without a declared reset or meter change.
MD_CUMULATIVE_DECREASE: Final = "md.cumulative-decrease"
#: The interval (block) energy of a day does not add up to that day's usage of the matching cumulative
#: register (same OBIS quantity, unit and flow), beyond rounding and meter accuracy.
MD_INTERVAL_DAILY_MISMATCH: Final = "md.interval-daily-mismatch"
#: A usage value differs from closingValue − openingValue.
MD_USAGE_MATH: Final = "md.usage-math"
#: `reportedMode` appears inside a reading (it belongs in the descriptor).
MD_MODE_IN_READING: Final = "md.mode-in-reading"
#: openingValue/closingValue given under READING mode or for a register that does not allow them.
MD_OPENING_CLOSING_NOT_ALLOWED: Final = "md.opening-closing-not-allowed"
#: A reading carries an attribute the registry's `allowedAttributes` does not list.
MD_ATTRIBUTE_NOT_ALLOWED: Final = "md.attribute-not-allowed"
#: A unit is inconsistent with the OBIS code / reading type (registry `unit`).
MD_UNIT_MISMATCH: Final = "md.unit-mismatch"
#: A value is physically implausible (e.g. interval energy above sanctioned load × interval length).
MD_VALUE_IMPLAUSIBLE: Final = "md.value-implausible"
#: A quality flag (validationStatus) is not one of the allowed values.
MD_QUALITY_FLAG_INVALID: Final = "md.quality-flag-invalid"

# --- MeterDataRequest ---------------------------------------------------------------------------------
#: An authorisation's validUntil is not after its validFrom (compared as instants).
MDR_AUTHORISATION_WINDOW: Final = "mdr.authorisation-window"
#: An authorisation's validity is already over at evaluation time.
MDR_AUTHORISATION_EXPIRED: Final = "mdr.authorisation-expired"
#: A requested/capable register does not resolve in the registry.
MDR_READING_TYPE_UNRESOLVED: Final = "mdr.reading-type-unresolved"
#: A register is not allowed in the requested profile.
MDR_PROFILE_MISMATCH: Final = "mdr.profile-mismatch"
#: A requested mode is not in the register's supportedModes.
MDR_MODE_UNSUPPORTED: Final = "mdr.mode-unsupported"
#: The request asks for a profile/register/mode the embedded authorisation does not grant.
MDR_EXCEEDS_AUTHORISATION: Final = "mdr.exceeds-authorisation"

# --- ArrFiling ----------------------------------------------------------------------------------------
#: A line item's `formula` does not reconcile with the items it rolls up (warning; error when strict).
ARR_FORMULA_UNRECONCILED: Final = "arr.formula-unreconciled"
#: A `formula` names a line item that does not exist in the fiscal year, or cannot be parsed.
ARR_FORMULA_INVALID: Final = "arr.formula-invalid"

# --- JSON-LD ------------------------------------------------------------------------------------------
#: A property of the payload does not expand to an absolute IRI under the bundled contexts.
JSONLD_TERM_UNMAPPED: Final = "jsonld.term-unmapped"
#: JSON-LD expansion fails (invalid context, unknown remote context under the offline loader…).
JSONLD_EXPANSION_ERROR: Final = "jsonld.expansion-error"
#: A context defines a term whose IRI the family's vocabulary and schema do not know (context drift).
JSONLD_CONTEXT_DRIFT: Final = "jsonld.context-drift"

#: One-line description of every rule id, for documentation and `ies schemas rules`.
RULES: Final[dict[str, str]] = {
    INPUT_UNREADABLE: "file cannot be read",
    INPUT_NOT_JSON: "file is not JSON",
    INPUT_UNKNOWN_FAMILY: "payload names no known schema family/version",
    SCHEMA_FORMAT: "a format-annotated value (date, date-time, uri, uuid…) does not parse",
    GEOJSON_STRUCTURE: "not an RFC 7946 GeoJSON geometry",
    GEOJSON_POSITION: "GeoJSON position out of range or malformed",
    GEOJSON_LINEAR_RING: "Polygon ring not closed or shorter than 4 positions",
    ADDRESS_STRUCTURE: "not a PostalAddress",
    VC_CONTEXT: "@context must start with the VC 2.0 context and never include v1",
    VC_REQUIRED: "VC 2.0 envelope member missing",
    VC_TYPE: "type must contain VerifiableCredential",
    VC_ISSUER: "issuer must be a URL or an object with a URL id",
    VC_VALIDITY_WINDOW: "validUntil must be after validFrom",
    MD_READING_TYPE_UNRESOLVED: "readingType could not be resolved in ies-codes.json",
    MD_PROFILE_TYPE_MISMATCH: "register not permitted in this profile type",
    MD_DESCRIPTOR_MISSING: "telemetry without a DESCRIPTOR profile",
    MD_DESCRIPTOR_REF_UNKNOWN: "payloadDescriptorSetRef missing or names no declared set",
    MD_DESCRIPTOR_REGISTRY_MISMATCH: "descriptor differs from the registry entry",
    MD_READING_UNDECLARED: "reading type not declared in the referenced descriptor set",
    MD_SEQUENCE_REF_UNKNOWN: "compactSequenceRef names no sequence",
    MD_SEQUENCE_ARITY: "payload count differs from the sequence arity",
    MD_CELL_TYPE: "compact cell has the wrong type for its attribute",
    MD_INTERVAL_ID_ORDER: "interval ids not strictly increasing",
    MD_INTERVAL_DUPLICATE: "duplicate interval",
    MD_INTERVAL_MISSING: "interval missing from the series (gap; warning)",
    MD_TIMESTAMP_ORDER: "timestamps not strictly increasing",
    MD_INTERVAL_MISALIGNED: "interval start not aligned to the declared interval",
    MD_TIMESTAMP_OUTSIDE_PERIOD: "timestamped record outside its profile's timePeriod",
    MD_EVENT_UNKNOWN: "eventId not an IS 15959 event of the registry",
    MD_ALARM_UNKNOWN: "alarmId not an alarm of the registry",
    MD_CUMULATIVE_NEGATIVE: "cumulative register negative",
    MD_CUMULATIVE_DECREASE: "cumulative register decreases without a declared reset or meter change",
    MD_INTERVAL_DAILY_MISMATCH: "a day's interval energy does not add up to its daily usage",
    MD_USAGE_MATH: "value differs from closingValue − openingValue",
    MD_MODE_IN_READING: "reportedMode inside a reading",
    MD_OPENING_CLOSING_NOT_ALLOWED: "openingValue/closingValue not allowed here",
    MD_ATTRIBUTE_NOT_ALLOWED: "attribute not in the register's allowedAttributes",
    MD_UNIT_MISMATCH: "unit inconsistent with the reading type",
    MD_VALUE_IMPLAUSIBLE: "value physically implausible",
    MD_QUALITY_FLAG_INVALID: "quality flag not valid",
    MDR_AUTHORISATION_WINDOW: "authorisation validUntil not after validFrom",
    MDR_AUTHORISATION_EXPIRED: "authorisation expired",
    MDR_READING_TYPE_UNRESOLVED: "register could not be resolved in ies-codes.json",
    MDR_PROFILE_MISMATCH: "register not allowed in the requested profile",
    MDR_MODE_UNSUPPORTED: "mode not supported for the register",
    MDR_EXCEEDS_AUTHORISATION: "request exceeds the authorisation",
    ARR_FORMULA_UNRECONCILED: "formula roll-up does not reconcile",
    ARR_FORMULA_INVALID: "formula unparsable or references an unknown line item",
    JSONLD_TERM_UNMAPPED: "term does not expand to an IRI",
    JSONLD_EXPANSION_ERROR: "JSON-LD expansion failed",
    JSONLD_CONTEXT_DRIFT: "context term unknown to the vocabulary and schema",
}


def is_known(rule: str) -> bool:
    """True for a registered id or a `schema.<keyword>` id."""
    return rule in RULES or rule.startswith(SCHEMA_PREFIX)
