"""MeterDataRequest semantic rules: registers resolve, are allowed in the requested profile and support the
requested mode; authorisations have a forward window (compared as instants, not strings), cover the
requested period, and grant what the request asks for.

Why the extra checks over upstream: upstream compares validFrom/validUntil as strings (wrong across
offsets) and never checks that a request stays inside its authorisation, which is what consent enforcement
relies on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._catalogue import DATA_ROOT, PUBLIC_BASE, RAW_BASE, load_json
from ies.schemas._findings import Finding, Severity, json_pointer
from ies.schemas._md_context import JsonPath, parse_instant, period_end
from ies.schemas.codes import REQUEST_PROFILE_TO_REGISTRY, ReadingTypeRegistry, reading_types


def resolve_bundled(url: str) -> Any | None:
    """A document the catalogue ships (e.g. the published Authorisation_Example), by its public URL."""
    for base in (PUBLIC_BASE, RAW_BASE):
        if url.startswith(base):
            candidate = (DATA_ROOT / "schemas" / url[len(base) :]).resolve()
            if candidate.is_relative_to(DATA_ROOT.resolve()) and candidate.is_file():
                return load_json(candidate)
    return None


class _Pass:
    def __init__(self, registry: ReadingTypeRegistry, prefix: JsonPath, at: dt.datetime | None):
        self.registry = registry
        self.prefix = prefix
        self.at = at
        self.findings: list[Finding] = []
        #: Findings against an authorisation given by URI are warnings: we check the bundled copy of that
        #: URI, and the live document may differ.
        self.severity: Severity = "error"

    def add(self, path: JsonPath, rule: str, message: str) -> None:
        self.findings.append(Finding(json_pointer(self.prefix + path), rule, message, self.severity))

    def authorisation(
        self, auth: dict[str, Any], path: JsonPath, window: tuple[dt.datetime, dt.datetime] | None
    ) -> None:
        start, until = parse_instant(auth.get("validFrom")), parse_instant(auth.get("validUntil"))
        if start is not None and until is not None and until <= start:
            self.add(
                (*path, "validUntil"),
                R.MDR_AUTHORISATION_WINDOW,
                f"validUntil {auth.get('validUntil')} is not after validFrom {auth.get('validFrom')}",
            )
            return
        if until is not None and self.at is not None and until <= self.at:
            self.add(
                (*path, "validUntil"),
                R.MDR_AUTHORISATION_EXPIRED,
                f"authorisation expired at {auth.get('validUntil')}",
            )
        if (
            window is not None
            and start is not None
            and until is not None
            and (window[0] < start or window[1] > until)
        ):
            self.add(
                (*path, "validUntil"),
                R.MDR_AUTHORISATION_EXPIRED,
                f"requested period {window[0].isoformat()} – {window[1].isoformat()} is outside the "
                f"authorisation "
                f"validity {auth.get('validFrom')} – {auth.get('validUntil')}",
            )

    def capabilities(self, caps: dict[str, Any], path: JsonPath) -> None:
        for p_idx, profile in enumerate(caps.get("profiles", []) or []):
            if not isinstance(profile, dict):
                continue
            p_type = profile.get("profileType")
            registry_profile = REQUEST_PROFILE_TO_REGISTRY.get(str(p_type))
            for r_idx, reading in enumerate(profile.get("readings", []) or []):
                if not isinstance(reading, dict):
                    continue
                where = (*path, "profiles", p_idx, "readings", r_idx)
                value, mode = reading.get("value"), reading.get("mode")
                entry = self.registry.resolve(value)
                if entry is None:
                    self.add(
                        (*where, "value"),
                        R.MDR_READING_TYPE_UNRESOLVED,
                        f"register {value!r} could not be resolved in ies-codes.json",
                    )
                    continue
                if (
                    registry_profile
                    and registry_profile != "CUSTOMER"
                    and registry_profile not in entry.profiles
                ):
                    self.add(
                        (*where, "value"),
                        R.MDR_PROFILE_MISMATCH,
                        f"register {value!r} is not permitted in {p_type} (registry: {list(entry.profiles)})",
                    )
                if mode and mode not in entry.supported_modes:
                    self.add(
                        (*where, "mode"),
                        R.MDR_MODE_UNSUPPORTED,
                        f"mode {mode!r} is not supported by {value!r} ({list(entry.supported_modes)})",
                    )

    def granted(self, caps: dict[str, Any]) -> set[tuple[str, str, str | None]]:
        out: set[tuple[str, str, str | None]] = set()
        for profile in caps.get("profiles", []) or []:
            for reading in (profile or {}).get("readings", []) or []:
                entry = self.registry.resolve((reading or {}).get("value"))
                if entry is not None:
                    out.add((str(profile.get("profileType")), entry.obis, reading.get("mode")))
        return out

    def within(
        self, requested: dict[str, Any], granted: set[tuple[str, str, str | None]], path: JsonPath
    ) -> None:
        for p_idx, profile in enumerate(requested.get("profiles", []) or []):
            for r_idx, reading in enumerate((profile or {}).get("readings", []) or []):
                entry = self.registry.resolve((reading or {}).get("value"))
                if entry is None:
                    continue
                p_type, mode = str(profile.get("profileType")), reading.get("mode")
                ok = any(
                    g[0] == p_type and g[1] == entry.obis and (mode is None or g[2] in (None, mode))
                    for g in granted
                )
                if not ok:
                    self.add(
                        (*path, "profiles", p_idx, "readings", r_idx),
                        R.MDR_EXCEEDS_AUTHORISATION,
                        f"{p_type} {reading.get('value')!r} ({mode or 'any mode'}) is not granted "
                        "by the authorisation",
                    )


def request_findings(
    doc: Any,
    prefix: JsonPath = (),
    *,
    at: dt.datetime | None = None,
    registry: ReadingTypeRegistry | None = None,
) -> list[Finding]:
    """Semantic findings of a MeterDataRequest v0.6 document (Request, Authorisation or Capabilities)."""
    run = _Pass(registry or reading_types(), prefix, at)
    if not isinstance(doc, dict):
        return run.findings
    window = None
    start = parse_instant(doc.get("from"))
    if start is not None and (end := period_end(start, doc.get("duration"))) is not None:
        window = (start, end)
    if "grantor" in doc or "grantee" in doc:
        run.authorisation(doc, (), None)
        if isinstance(doc.get("capabilities"), dict):
            run.capabilities(doc["capabilities"], ("capabilities",))
    if isinstance(doc.get("capabilitiesRequested"), dict):
        run.capabilities(doc["capabilitiesRequested"], ("capabilitiesRequested",))
    if "profiles" in doc and "capabilitiesRequested" not in doc and "capabilities" not in doc:
        run.capabilities(doc, ())
    auth = doc.get("authorisation")
    resolved = resolve_bundled(auth) if isinstance(auth, str) else auth
    if isinstance(resolved, dict):
        auth_path: JsonPath = ("authorisation",)
        run.severity = "warning" if isinstance(auth, str) else "error"
        run.authorisation(resolved, auth_path, window)
        if isinstance(auth, dict) and isinstance(auth.get("capabilities"), dict):
            run.capabilities(auth["capabilities"], (*auth_path, "capabilities"))
        if isinstance(resolved.get("capabilities"), dict) and isinstance(
            doc.get("capabilitiesRequested"), dict
        ):
            run.within(
                doc["capabilitiesRequested"],
                run.granted(resolved["capabilities"]),
                ("capabilitiesRequested",),
            )
    return run.findings
