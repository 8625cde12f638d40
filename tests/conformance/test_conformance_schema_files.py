"""The schema and context files themselves: every schema.json is a valid Draft 2020-12 schema, and every
context.jsonld is processed by the offline loader — except three upstream contexts that are not valid
JSON-LD 1.1, which we record here (payloads using them get a `jsonld.expansion-error` warning)."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from pyld.jsonld import JsonLdError

from ies.schemas import SchemaVersion, catalogue, validate
from ies.schemas._catalogue import load_json
from ies.schemas.jsonld import expand

#: ArrFiling and OutageNotification define a term named "@context" inside a scoped context; the
#: ElectricityCredential v1.2 context nests a scoped context JSON-LD 1.1 rejects. Upstream defects.
INVALID_UPSTREAM_CONTEXTS = {"ArrFiling@0.5", "ElectricityCredential@1.2", "OutageNotification@0.1"}


@pytest.mark.parametrize("entry", catalogue(), ids=lambda e: e.key)
def test_schema_is_a_valid_draft_2020_12_schema(entry: SchemaVersion) -> None:
    Draft202012Validator.check_schema(load_json(entry.schema_path))


@pytest.mark.parametrize("entry", catalogue(), ids=lambda e: e.key)
def test_context_processes_offline_unless_a_known_upstream_defect(entry: SchemaVersion) -> None:
    probe = {"@context": entry.context_url, "@id": "urn:ies:probe", "@type": "urn:ies:Probe"}
    if entry.key in INVALID_UPSTREAM_CONTEXTS:
        with pytest.raises(JsonLdError, match="invalid scoped context"):
            expand(probe)
        for example in entry.examples():
            warnings = validate(load_json(example)).warnings
            assert "jsonld.expansion-error" in {w.rule for w in warnings}
    else:
        assert expand(probe) == [{"@id": "urn:ies:probe", "@type": ["urn:ies:Probe"]}]
