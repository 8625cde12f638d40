"""The places conformance-verdicts.md says we must be stricter than the upstream validators.

Each test starts from a published example that is valid, breaks one thing, and checks the exact rule.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ies.schemas import DATA_ROOT, validate

SCHEMAS = DATA_ROOT / "schemas"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _mutated(base: Any, mutate: Callable[[Any], None]) -> Any:
    doc = copy.deepcopy(base)
    mutate(doc)
    return doc


EC12 = _load(SCHEMAS / "ElectricityCredential" / "v1.2" / "examples" / "example.json")
MDC_CUSTOMER = _load(SCHEMAS / "MeterDataCredential" / "v0.6" / "examples" / "example-customer-profile.json")
MDR_VALID = _load(SCHEMAS / "MeterDataRequest" / "v0.6" / "validation" / "test_cases" / "valid_request.json")
MD_INTERVAL = _load(SCHEMAS / "MeterData" / "v0.6" / "examples" / "IntervalProfile.json")


def _set(path: list[str | int], value: Any) -> Callable[[Any], None]:
    def mutate(doc: Any) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _sdp_geo(value: Any) -> Callable[[Any], None]:
    return _set(["credentialSubject", "meterData", "serviceDeliveryPoints", 0, "geo"], value)


def _sdp_address(value: Any) -> Callable[[Any], None]:
    return _set(["credentialSubject", "meterData", "serviceDeliveryPoints", 0, "address"], value)


@pytest.mark.parametrize(
    ("name", "mutate", "rule", "path"),
    [
        # ElectricityCredential v1.2 negatives listed in the verdicts
        (
            "issuer is a bare string",
            _set(["issuer"], "did:web:example-utility.com"),
            "schema.type",
            "/issuer",
        ),
        (
            "credentialStatus.type is dedi",
            _set(["credentialStatus", "type"], "dedi"),
            "schema.const",
            "/credentialStatus/type",
        ),
        ("proof lacks created", lambda d: d["proof"].pop("created"), "schema.required", "/proof"),
        ("proof lacks proofValue", lambda d: d["proof"].pop("proofValue"), "schema.required", "/proof"),
        (
            "upper-case UUID hex",
            _set(["id"], "urn:uuid:E5F6A7B8-9012-34AB-CDEF-567890123456"),
            "schema.pattern",
            "/id",
        ),
        (
            "one-entry @context",
            _set(["@context"], ["https://www.w3.org/ns/credentials/v2"]),
            "schema.minItems",
            "/@context",
        ),
        # a real format checker
        ("validFrom is not a date-time", _set(["validFrom"], "13/01/2025"), "schema.format", "/validFrom"),
        (
            "validUntil has no offset",
            _set(["validUntil"], "2026-01-13T10:30:00"),
            "schema.format",
            "/validUntil",
        ),
        (
            "serviceConnectionDate is not a date",
            _set(["credentialSubject", "customerDetails", "serviceConnectionDate"], "2019-02-30"),
            "schema.format",
            "/credentialSubject/customerDetails/serviceConnectionDate",
        ),
        (
            "issuedBy is not a URI",
            _set(["issuer", "idRef", "issuedBy"], "not a uri"),
            "schema.format",
            "/issuer/idRef/issuedBy",
        ),
        # dates compared as instants
        (
            "validUntil before validFrom across offsets",
            _set(["validUntil"], "2025-01-13T14:00:00+05:30"),
            "vc.validity-window",
            "/validUntil",
        ),
    ],
)
def test_electricity_credential_v12_is_stricter(
    name: str, mutate: Callable[[Any], None], rule: str, path: str
) -> None:
    assert validate(EC12).valid
    report = validate(_mutated(EC12, mutate))
    assert [(f.rule, f.path) for f in report.errors] == [(rule, path)], name


def test_installation_geo_is_checked_as_geojson_on_the_electricity_credential() -> None:
    mutate = _set(
        ["credentialSubject", "customerDetails", "installationAddress", "geo"],
        {"type": "Point", "coordinates": [12.97, 177.6]},
    )
    report = validate(_mutated(EC12, mutate))
    assert report.rules() == {"geojson.position"}


@pytest.mark.parametrize(
    ("name", "mutate", "rule"),
    [
        (
            "latitude out of range",
            _sdp_geo({"type": "Point", "coordinates": [77.6, 95.0]}),
            "geojson.position",
        ),
        (
            "longitude out of range",
            _sdp_geo({"type": "Point", "coordinates": [181.0, 12.9]}),
            "geojson.position",
        ),
        ("one-number position", _sdp_geo({"type": "Point", "coordinates": [77.6]}), "geojson.position"),
        (
            "unknown geometry type",
            _sdp_geo({"type": "Circle", "coordinates": [77.6, 12.9]}),
            "geojson.structure",
        ),
        ("Point without coordinates", _sdp_geo({"type": "Point"}), "geojson.structure"),
        (
            "polygon ring not closed",
            _sdp_geo(
                {"type": "Polygon", "coordinates": [[[77.0, 12.0], [77.1, 12.0], [77.1, 12.1], [77.0, 12.2]]]}
            ),
            "geojson.linear-ring",
        ),
        (
            "polygon ring too short",
            _sdp_geo({"type": "Polygon", "coordinates": [[[77.0, 12.0], [77.1, 12.0], [77.0, 12.0]]]}),
            "geojson.linear-ring",
        ),
        ("address with an unknown member", _sdp_address({"street": "12 MG Road"}), "address.structure"),
        ("address member not a string", _sdp_address({"postalCode": 560001}), "address.structure"),
        ("empty address", _sdp_address({}), "address.structure"),
        # the VC 2.0 envelope of MeterDataCredential
        (
            "@context does not start with VC v2",
            _set(["@context", 0], "https://www.w3.org/2018/credentials/v1"),
            "vc.context",
        ),
        ("no issuer", lambda d: d.pop("issuer"), "vc.required"),
        ("no validFrom", lambda d: d.pop("validFrom"), "vc.required"),
        ("no credentialSubject", lambda d: d.pop("credentialSubject"), "vc.required"),
        ("type lacks VerifiableCredential", _set(["type"], ["MeterDataCredential"]), "vc.type"),
        ("issuer is a number", _set(["issuer"], 42), "vc.issuer"),
    ],
)
def test_stubbed_external_structures_are_checked_for_real(
    name: str, mutate: Callable[[Any], None], rule: str
) -> None:
    assert validate(MDC_CUSTOMER).valid
    report = validate(_mutated(MDC_CUSTOMER, mutate))
    assert rule in report.rules(), (name, [f.to_dict() for f in report.errors])
    assert {r.split(".")[0] for r in report.rules()} <= {rule.split(".")[0], "schema"}, name


def test_the_correct_geometries_pass() -> None:
    polygon = {"type": "Polygon", "coordinates": [[[77.0, 12.0], [77.1, 12.0], [77.1, 12.1], [77.0, 12.0]]]}
    collection = {
        "type": "GeometryCollection",
        "geometries": [{"type": "Point", "coordinates": [77.6, 12.9, 920]}, polygon],
    }
    for geometry in (
        polygon,
        collection,
        {"type": "LineString", "coordinates": [[77.0, 12.0], [77.1, 12.1]]},
    ):
        assert validate(_mutated(MDC_CUSTOMER, _sdp_geo(geometry))).valid, geometry


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "valid"),
    [
        # as strings "…05:00:00Z" < "…10:00:00+05:30", but 05:00Z is 10:30 IST: a forward window
        ("2026-05-18T10:00:00+05:30", "2026-05-18T05:00:00Z", True),
        # as strings "…12:00:00+05:30" > "…10:00:00Z", but 12:00 IST is 06:30Z: inverted
        ("2026-05-18T10:00:00Z", "2026-05-18T12:00:00+05:30", False),
    ],
)
def test_authorisation_dates_are_compared_as_instants(valid_from: str, valid_until: str, valid: bool) -> None:
    authorisation = _load(
        SCHEMAS
        / "MeterDataRequest"
        / "v0.6"
        / "validation"
        / "test_cases"
        / "invalid_authorisation_expired.json"
    )
    authorisation.update(validFrom=valid_from, validUntil=valid_until)
    report = validate(authorisation)
    assert report.valid is valid
    if not valid:
        assert report.rules() == {"mdr.authorisation-window"}


def test_meter_data_formats_are_checked() -> None:
    bad_start = copy.deepcopy(MD_INTERVAL)
    bad_start[1]["intervalPeriod"]["start"] = "2026-05-04 09:00"
    assert validate(bad_start).rules() == {"schema.format"}
    bad_duration = copy.deepcopy(MD_INTERVAL)
    bad_duration[1]["intervalPeriod"]["duration"] = "30 minutes"
    assert validate(bad_duration).rules() == {"schema.format"}


def test_arr_filing_roll_ups_are_warnings_then_errors_under_strict() -> None:
    doc = _load(SCHEMAS / "ArrFiling" / "v0.5" / "examples" / "arr_filings.json")
    lenient = validate(doc)
    assert lenient.valid
    unreconciled = [w for w in lenient.warnings if w.rule == "arr.formula-unreconciled"]
    assert len(unreconciled) == 25  # every roll-up in the shipped example, as upstream's own run found
    strict = validate(doc, strict=True)
    assert not strict.valid
    assert "arr.formula-unreconciled" in strict.rules()
