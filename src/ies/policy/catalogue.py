"""The data catalogue: every dataset a node offers, classified as the data policy requires.

Each dataset is declared with its taxonomy class (Operational, Asset, Market, Consumer, Planning; strategy
v0.2 §11.2 pillar 3), its criticality (C0 open … C3 critical operational), whether it carries personal
data, its custodian (federation: data stays with its custodian), retention and update cadence. The access
decision point reads nothing else about a dataset, so a dataset that is not declared here cannot be served.

The same declarations are served as `GET /catalogue` and rendered as a Beckn catalogue that a node
publishes to the network's CDS (`catalog/publish`), so a requester discovers what exists, under which
class and criticality, before it asks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ies.errors import UsageError
from ies.policy.errors import UnknownDataset

__all__ = [
    "Criticality",
    "DataCatalogue",
    "DatasetDecl",
    "TaxonomyClass",
    "default_catalogue",
    "load_catalogue",
]


class TaxonomyClass(StrEnum):
    OPERATIONAL = "Operational"
    ASSET = "Asset"
    MARKET = "Market"
    CONSUMER = "Consumer"
    PLANNING = "Planning"


class Criticality(StrEnum):
    """C0 open (presumed open), C1 restricted, C2 confidential, C3 critical operational."""

    C0 = "C0"
    C1 = "C1"
    C2 = "C2"
    C3 = "C3"


_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
_CADENCES = {"static", "on_change", "realtime"}


class DatasetDecl(BaseModel):
    """One dataset a node offers. Frozen: a decision must see exactly what was declared."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,127}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    taxonomy: TaxonomyClass
    criticality: Criticality
    personal: bool = Field(description="carries data about an identifiable person (DPDP Act 2023)")
    custodian: str = Field(min_length=1, max_length=255, description="subscriber id holding the data")
    retention: str = Field(description="ISO 8601 duration the custodian keeps the data, e.g. P7Y")
    update_cadence: str = Field(description="ISO 8601 duration (PT15M, P1D) or static | on_change | realtime")
    schema_family: str | None = Field(default=None, description="IES schema family, e.g. MeterData")
    aggregate_of: str | None = Field(
        default=None, description="the dataset this one aggregates/anonymises (for derived open data)"
    )
    definitions: dict[str, str] = Field(default_factory=dict, description="field → meaning (open data)")

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        if not _ISO_DURATION.match(value):
            raise ValueError("retention must be an ISO 8601 duration such as P7Y or P90D")
        return value

    @field_validator("update_cadence")
    @classmethod
    def _cadence(cls, value: str) -> str:
        if value not in _CADENCES and not _ISO_DURATION.match(value):
            raise ValueError("update_cadence must be an ISO 8601 duration or static/on_change/realtime")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> DatasetDecl:
        # Pillar 3: only non-personal data is presumed open; C3 is by definition critical operational data.
        if self.criticality is Criticality.C0 and self.personal:
            raise ValueError("personal data is never C0 (open); anonymise it into a separate dataset")
        if self.criticality is Criticality.C3 and self.taxonomy is not TaxonomyClass.OPERATIONAL:
            raise ValueError("C3 (critical operational) applies to Operational datasets only")
        return self

    @property
    def presumed_open(self) -> bool:
        return self.criticality is Criticality.C0 and not self.personal

    def policy_facts(self) -> dict[str, Any]:
        """What the entitlement policy sees of the dataset (nothing else); a fresh dict each call."""
        return dict(self._facts)

    @cached_property
    def _facts(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "taxonomy": self.taxonomy.value,
            "criticality": self.criticality.value,
            "personal": self.personal,
        }

    @cached_property
    def facts_key(self) -> tuple[str, str, str, bool]:
        """The policy facts as a hashable key (for decision caches)."""
        return (self.id, self.taxonomy.value, self.criticality.value, self.personal)


class DataCatalogue:
    """The datasets of one node, by id."""

    def __init__(self, datasets: Iterable[DatasetDecl] = ()):
        self._datasets: dict[str, DatasetDecl] = {}
        for decl in datasets:
            self.add(decl)

    def add(self, decl: DatasetDecl) -> None:
        if decl.id in self._datasets:
            raise UsageError(f"dataset {decl.id!r} is declared twice")
        self._datasets[decl.id] = decl

    def get(self, dataset_id: str) -> DatasetDecl:
        try:
            return self._datasets[dataset_id]
        except KeyError:
            raise UnknownDataset(
                f"no dataset {dataset_id!r} in this node's catalogue", details={"dataset": dataset_id}
            ) from None

    def __contains__(self, dataset_id: object) -> bool:
        return dataset_id in self._datasets

    def __iter__(self) -> Iterator[DatasetDecl]:
        return iter(self._datasets.values())

    def __len__(self) -> int:
        return len(self._datasets)

    def to_json(self) -> dict[str, Any]:
        return {"datasets": [d.model_dump(mode="json", exclude_none=True) for d in self]}

    def beckn_catalog(self, provider_id: str, *, bundle: dict[str, str] | None = None) -> dict[str, Any]:
        """The catalogue as a Beckn v2 catalogue for `catalog/publish`: one DatasetItem resource and one
        access offer per dataset; the offer says whether a contract is needed (C0 needs none)."""
        resources, offers = [], []
        for d in self:
            resources.append(
                {
                    "id": d.id,
                    "descriptor": {"name": d.title, "shortDesc": d.description[:200]},
                    "resourceAttributes": {
                        "@type": "DatasetItem",
                        "accessMethod": "INLINE",
                        "datasetId": d.id,
                        "taxonomyClass": d.taxonomy.value,
                        "criticality": d.criticality.value,
                        "personalData": d.personal,
                        "custodian": d.custodian,
                        "retention": d.retention,
                        "updateCadence": d.update_cadence,
                        **({"schemaFamily": d.schema_family} if d.schema_family else {}),
                    },
                }
            )
            offer_policy: dict[str, Any] = {
                "presumedOpen": d.presumed_open,
                "contractRequired": not d.presumed_open,
                "consentRequired": d.personal,
                "operationalEndpointOnly": d.criticality is Criticality.C3,
            }
            if bundle is not None:
                offer_policy["entitlementBundle"] = bundle
            offers.append(
                {
                    "id": f"offer-{d.id}",
                    "resourceIds": [d.id],
                    "offerAttributes": {"@type": "DataAccessOffer", "policy": offer_policy},
                }
            )
        return {
            "id": f"data-catalogue-{provider_id}",
            "descriptor": {"name": f"Datasets offered by {provider_id}"},
            "provider": {"id": provider_id, "descriptor": {"name": provider_id}},
            "resources": resources,
            "offers": offers,
        }


def load_catalogue(path: Path) -> DataCatalogue:
    """A catalogue from a JSON file `{"datasets": [...]}`; any bad declaration is a UsageError."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"catalogue file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"catalogue file {path} is not JSON: {exc}") from None
    items = data.get("datasets") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise UsageError(f'catalogue file {path} must hold {{"datasets": [...]}}')
    out = DataCatalogue()
    for i, item in enumerate(items):
        try:
            out.add(DatasetDecl.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise UsageError(f"catalogue file {path}: datasets[{i}].{where}: {first['msg']}") from None
    return out


def default_catalogue(custodian: str) -> DataCatalogue:
    """The datasets a DISCOM-style node offers by default: each IES schema family it serves, the
    use-case datasets, the registry views, and the open (C0) derivatives published without a contract."""
    T, C = TaxonomyClass, Criticality

    def decl(i: str, title: str, t: TaxonomyClass, c: Criticality, personal: bool, **kw: Any) -> DatasetDecl:
        kw.setdefault("retention", "P7Y")
        kw.setdefault("update_cadence", "P1D")
        return DatasetDecl(
            id=i, title=title, taxonomy=t, criticality=c, personal=personal, custodian=custodian, **kw
        )

    load_defs = {
        "feederId": "Feeder identifier (asset registry)",
        "intervalStart": "Start of the 15-minute block, UTC",
        "consumers": "Number of consumers aggregated in the cell (always at least k)",
        "energyWh": "Energy imported in the block, Wh, summed over the cell",
    }
    return DataCatalogue(
        [
            decl(
                "meter-data-interval",
                "Consumer interval meter data (15-minute)",
                T.CONSUMER,
                C.C2,
                True,
                schema_family="MeterData",
                update_cadence="PT15M",
            ),
            decl(
                "meter-data-requests",
                "Meter data requests and authorisations",
                T.CONSUMER,
                C.C2,
                True,
                schema_family="MeterDataRequest",
                update_cadence="on_change",
            ),
            decl(
                "electricity-credentials",
                "Consumer electricity credentials issued",
                T.CONSUMER,
                C.C2,
                True,
                schema_family="ElectricityCredential",
                update_cadence="on_change",
            ),
            decl(
                "consumer-registry",
                "Consumers, service points and meters",
                T.CONSUMER,
                C.C2,
                True,
                update_cadence="on_change",
            ),
            decl(
                "asset-registry",
                "Network assets: substations, feeders, transformers",
                T.ASSET,
                C.C1,
                False,
                update_cadence="on_change",
            ),
            decl(
                "der-registry",
                "Distributed energy resources and their connection points",
                T.ASSET,
                C.C2,
                False,
                update_cadence="on_change",
            ),
            decl(
                "outage-notifications",
                "Planned and unplanned outage notifications",
                T.OPERATIONAL,
                C.C1,
                False,
                schema_family="OutageNotification",
                update_cadence="on_change",
            ),
            decl(
                "feeder-loading", "Feeder loading, hourly", T.OPERATIONAL, C.C2, False, update_cadence="PT1H"
            ),
            decl(
                "scada-telemetry",
                "Real-time SCADA telemetry and switching state",
                T.OPERATIONAL,
                C.C3,
                False,
                retention="P1Y",
                update_cadence="realtime",
            ),
            decl(
                "p2p-trades",
                "Peer-to-peer trades and their settlement",
                T.MARKET,
                C.C2,
                True,
                update_cadence="PT15M",
            ),
            decl(
                "tariff-schedules",
                "Approved tariff schedules",
                T.MARKET,
                C.C0,
                False,
                retention="P10Y",
                update_cadence="on_change",
            ),
            decl(
                "arr-filings",
                "Aggregate revenue requirement filings",
                T.MARKET,
                C.C0,
                False,
                schema_family="ArrFiling",
                retention="P10Y",
                update_cadence="P1Y",
            ),
            decl(
                "network-plans", "Network reinforcement plans", T.PLANNING, C.C1, False, update_cadence="P1Y"
            ),
            decl(
                "hosting-capacity",
                "DER hosting capacity by feeder",
                T.PLANNING,
                C.C0,
                False,
                update_cadence="P1M",
            ),
            decl(
                "feeder-load-aggregates",
                "Feeder-level consumption per 15-minute block (k-anonymous)",
                T.CONSUMER,
                C.C0,
                False,
                update_cadence="P1D",
                aggregate_of="meter-data-interval",
                definitions=load_defs,
            ),
            decl(
                "anonymised-load-profiles",
                "Anonymised load profiles by feeder and category (k-anonymous)",
                T.CONSUMER,
                C.C0,
                False,
                update_cadence="P1M",
                aggregate_of="meter-data-interval",
                definitions={
                    "feederId": "Feeder identifier",
                    "category": "Tariff category (generalised)",
                    "consumers": "Consumers in the class (always at least k)",
                    "profileWh": "Mean energy per 15-minute block of the day, Wh",
                },
            ),
            decl(
                "outage-statistics",
                "Outage counts and durations by feeder (SAIFI/SAIDI inputs)",
                T.OPERATIONAL,
                C.C0,
                False,
                update_cadence="P1M",
                aggregate_of="outage-notifications",
            ),
        ]
    )
