"""The consent artefact: schema, normal form, canonical bytes, purpose limits, published examples."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import rfc8785
from consent_helpers import MANAGER, example_artefact, example_documents, example_draft

from ies.consent.artefact import ConsentArtefact, artefact_digest, canonical_bytes
from ies.consent.errors import ArtefactInvalid
from ies.consent.purposes import purpose_catalogue
from ies.consent.store import new_artefact

EXAMPLES = resources.files("ies.consent").joinpath("schema/examples")


def _example(name: str) -> dict[str, Any]:
    return dict(json.loads(EXAMPLES.joinpath(name).read_text("utf-8")))


class TestPublishedExamples:
    def test_the_files_are_what_the_fixed_keys_produce(self) -> None:
        for name, doc in example_documents().items():
            assert _example(name) == doc, name

    @pytest.mark.parametrize(
        "name", ["consent-artefact-principal-signed.json", "consent-artefact-portal-attested.json"]
    )
    def test_artefact_examples_parse(self, name: str) -> None:
        artefact = ConsentArtefact.parse(_example(name))
        assert artefact.purpose.code == "energy-advisory"
        assert artefact.digest == artefact_digest(_example(name))

    def test_the_request_example_becomes_an_artefact(self) -> None:
        artefact = new_artefact(_example("consent-request.json"), manager_id=MANAGER, now=datetime.now(UTC))
        assert artefact.consent_manager == MANAGER and artefact.id.startswith("urn:uuid:")
        assert artefact.doc["purpose"]["catalogue"] == purpose_catalogue().ref


class TestCanonicalForm:
    def test_signatures_are_not_signed_and_everything_else_is(self) -> None:
        doc = example_artefact()
        signed = {**doc, "signatures": [{"anything": 1}]}
        assert canonical_bytes(doc) == canonical_bytes(signed) == rfc8785.dumps(doc)
        for path in (
            ("purpose", "code"),
            ("dataScope", "dataUntil"),
            ("frequency", "maxAccesses"),
            ("retention",),
        ):
            changed = copy.deepcopy(doc)
            holder = changed
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = "x" if isinstance(holder[path[-1]], str) else 99
            assert artefact_digest(changed) != artefact_digest(doc), path

    def test_instants_are_normalised_so_the_digest_does_not_depend_on_spelling(self) -> None:
        doc = example_artefact()
        respelled = copy.deepcopy(doc)
        respelled["validFrom"] = "2026-05-01T05:30:00+05:30"
        respelled["dataScope"]["dataFrom"] = "2025-05-01T00:00:00.000Z"
        # The schema asks for Z; offsets are refused rather than silently rewritten.
        with pytest.raises(ArtefactInvalid):
            ConsentArtefact.parse(respelled)
        respelled["validFrom"] = "2026-05-01T00:00:00Z"
        assert ConsentArtefact.parse(respelled).digest == ConsentArtefact.parse(doc).digest

    def test_parse_of_its_own_output_is_the_identity(self) -> None:
        artefact = ConsentArtefact.parse(example_artefact())
        assert ConsentArtefact.parse(artefact.to_dict()).to_dict() == artefact.to_dict()


class TestRefusals:
    @pytest.mark.parametrize(
        ("mutate", "path"),
        [
            (lambda d: d.pop("purpose"), "$"),
            (lambda d: d["dataScope"].update(resources=[]), "$.dataScope.resources"),
            (
                lambda d: d["dataScope"]["profiles"][0].update(profileType="WeeklyProfile"),
                "$.dataScope.profiles[0]",
            ),
            (lambda d: d["frequency"].update(maxAccesses=0), "$.frequency.maxAccesses"),
            (lambda d: d.update(retention="forever"), "$.retention"),
            (lambda d: d["dataPrincipal"].update(id="did:web:somebody"), "$.dataPrincipal.id"),
            (lambda d: d.update(extra=1), "$"),
            (lambda d: d.update(dataPrincipal={}), "$.dataPrincipal"),
        ],
    )
    def test_schema_refusals_name_the_path(self, mutate: Any, path: str) -> None:
        doc = example_artefact()
        mutate(doc)
        with pytest.raises(ArtefactInvalid) as err:
            ConsentArtefact.parse(doc)
        assert err.value.details["path"].startswith(path), err.value.details
        assert err.value.code == "CON_ARTEFACT_INVALID"

    def test_windows_must_run_forward(self) -> None:
        doc = example_artefact()
        doc["validUntil"] = doc["validFrom"]
        with pytest.raises(ArtefactInvalid, match="validUntil must be after validFrom"):
            ConsentArtefact.parse(doc)
        doc = example_artefact()
        doc["dataScope"]["dataUntil"] = "2025-04-01T00:00:00Z"
        with pytest.raises(ArtefactInvalid, match="dataUntil must be after dataFrom"):
            ConsentArtefact.parse(doc)

    def test_purpose_limits(self) -> None:
        doc = example_artefact()
        doc["purpose"]["code"] = "astrology"
        with pytest.raises(ArtefactInvalid, match="not in the purpose catalogue"):
            ConsentArtefact.parse(doc)
        doc = example_artefact()
        doc["purpose"]["code"] = "loan-underwriting"  # asks for IntervalProfile, which underwriting may not
        with pytest.raises(ArtefactInvalid) as err:
            ConsentArtefact.parse(doc)
        assert err.value.details["path"] == "$.dataScope.profiles[0].profileType"
        doc = example_artefact()
        doc["validUntil"] = "2027-06-01T00:00:00Z"  # energy advisory: one year at most
        with pytest.raises(ArtefactInvalid, match="validity of at most P1Y"):
            ConsentArtefact.parse(doc)
        doc = example_artefact()
        doc["retention"] = "P2Y"
        with pytest.raises(ArtefactInvalid, match="retention of at most P1Y"):
            ConsentArtefact.parse(doc)
        doc = example_artefact()
        doc["purpose"]["catalogue"] = "ies-consent-purposes/9.9"
        with pytest.raises(ArtefactInvalid, match="catalogue"):
            ConsentArtefact.parse(doc)

    def test_the_requester_cannot_assign_what_the_manager_assigns(self) -> None:
        for field in ("id", "consentManager", "createdAt", "signatures"):
            draft = {**example_draft(), field: "x"}
            with pytest.raises(ArtefactInvalid, match=field):
                new_artefact(draft, manager_id=MANAGER, now=datetime.now(UTC))

    def test_not_an_object(self) -> None:
        with pytest.raises(ArtefactInvalid):
            ConsentArtefact.parse(["not", "an", "artefact"])


def test_every_catalogued_purpose_resolves_by_code_title_and_alias() -> None:
    catalogue = purpose_catalogue()
    codes = {p.code for p in catalogue}
    assert {
        "billing",
        "loan-underwriting",
        "energy-advisory",
        "p2p-settlement",
        "demand-response-mv",
    } <= codes
    assert {"research-anonymised", "regulatory-reporting"} <= codes
    for purpose in catalogue:
        assert catalogue.resolve(purpose.code) is purpose
        assert catalogue.resolve(purpose.title.upper()) is purpose
        for alias in purpose.aliases:
            assert catalogue.resolve(alias) is purpose
    with pytest.raises(ArtefactInvalid):
        catalogue.resolve("selling your data")
