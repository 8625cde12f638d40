"""The meter-data exchange on the Beckn wire: how a request, a page request and a page look.

Start a transfer (`confirm`, the data consumer as BAP, the data provider as BPP):

    {"contract": {
       "commitments": [{"id": "c1", "resources": [{"id": "meter-data-transfer",
                        "resourceAttributes": <MeterDataRequest v0.6, consumerConsent: [consent id]>}]}],
       "contractAttributes": {"@type": "MeterDataAccess", "purpose": "energy-advisory",
                              "consentId": "urn:uuid:…", "consentManager": "<manager subscriber id>"}}}

Instead of (or beside) the request resource, `contractAttributes.credential` may carry the consent as a
MeterDataRequestCredential from the consent manager (`GET /consent/v1/consents/{id}/credential`); the
provider then verifies it and serves the request it carries.

Ask for page k of a transfer (`status`, BAP-PULL pagination as the IES guides describe it):

    {"contract": {"id": "<collection id>", "contractAttributes": {"@type": "MeterDataAccess"}},
     "tags": {"pagination": {"collectionId": "<collection id>", "pageCursor": "k"}}}

Every answer (`on_confirm` carries page 0, `on_status` page k) is the contract with the page in
`contract.performance[0].performanceAttributes = {@type DatasetItem, accessMethod INLINE, dataPayload
<MeterData v0.6>, pageInfo {sequence, pageSize, total, totalPages, isLast, cursor, nextCursor,
collectionId}}`, and the data consumer's obligations in `contractAttributes` (`retention`, `retainUntil`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ies._types import as_object
from ies.consent._time import format_instant
from ies.errors import SchemaValidationFailed
from ies.schemas import require_valid

__all__ = ["ACCESS_TYPE", "POLICY_DATASET", "RESOURCE_ID", "MeterDataAsk", "answer", "parse_ask"]

ACCESS_TYPE = "MeterDataAccess"
RESOURCE_ID = "meter-data-transfer"
"""The resource a transfer names on the wire. Not a data-catalogue id on purpose: the policy layer's generic
data serving must not answer these messages; the provider asks the decision point itself (see provider)."""
POLICY_DATASET = "meter-data-interval"
"""The dataset of the policy layer's catalogue that meter data is, for the entitlement decision."""
DATASET_ITEM_CONTEXT = "https://schema.nfh.global/DatasetItem/v1.1/context.jsonld"


@dataclass(frozen=True)
class MeterDataAsk:
    """A meter-data message, parsed: a transfer to start, or a page of one to deliver."""

    kind: str  # "start" | "page"
    purpose: str | None = None
    consent_id: str | None = None
    manager_id: str | None = None
    request: dict[str, Any] | None = None  # the MeterDataRequest (start)
    credential: dict[str, Any] | str | None = None  # a MeterDataRequestCredential carrying it (start)
    collection_id: str | None = None  # page
    page: int = 0


def _bad(message: str, path: str) -> SchemaValidationFailed:
    return SchemaValidationFailed(message, details={"path": path})


def parse_ask(action: str, message: dict[str, Any]) -> MeterDataAsk | None:
    """The ask in a message, or None when the message is not a meter-data exchange at all."""
    contract = as_object(message.get("contract"))
    attrs = as_object(contract.get("contractAttributes"))
    if attrs.get("@type") != ACCESS_TYPE:
        return None
    if action == "confirm":
        mdr = None
        for commitment in contract.get("commitments") or []:
            for resource in as_object(commitment).get("resources") or []:
                candidate = as_object(as_object(resource).get("resourceAttributes"))
                if candidate.get("@type") == "MeterDataRequest":
                    mdr = candidate
        credential = attrs.get("credential")
        if credential is not None and not isinstance(credential, dict | str):
            raise _bad(
                "contractAttributes.credential is a credential", "$.message.contract.contractAttributes"
            )
        if mdr is None and credential is None:
            raise _bad("no MeterDataRequest in the contract's resources", "$.message.contract.commitments")
        if mdr is not None:
            require_valid(mdr, "MeterDataRequest", "0.6")
        purpose = attrs.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            raise _bad(
                "contractAttributes.purpose is required", "$.message.contract.contractAttributes.purpose"
            )
        consent_id = attrs.get("consentId")
        given = (mdr or {}).get("consumerConsent")
        if consent_id is None and isinstance(given, list) and given:
            consent_id = given[0]
        manager = attrs.get("consentManager")
        return MeterDataAsk(
            "start",
            purpose=purpose,
            consent_id=consent_id if isinstance(consent_id, str) else None,
            manager_id=manager if isinstance(manager, str) else None,
            request=mdr,
            credential=credential,
        )
    if action == "status":
        pagination = as_object(as_object(message.get("tags")).get("pagination"))
        collection = pagination.get("collectionId") or contract.get("id")
        cursor = pagination.get("pageCursor", "0")
        if not isinstance(collection, str) or not collection:
            raise _bad("tags.pagination.collectionId is required", "$.message.tags.pagination.collectionId")
        if isinstance(cursor, int) and not isinstance(cursor, bool):
            cursor = str(cursor)
        if not isinstance(cursor, str) or not cursor.isdigit() or len(cursor) > 9:
            raise _bad("pageCursor is a page number", "$.message.tags.pagination.pageCursor")
        return MeterDataAsk("page", collection_id=collection, page=int(cursor))
    raise _bad(f"a meter-data exchange uses confirm and status, not {action}", "$.context.action")


def answer(
    *,
    collection_id: str,
    consent_id: str,
    purpose: str,
    retention: str,
    retain_until: datetime,
    page: int,
    page_size: int,
    records_total: int,
    pages_total: int,
    payload: list[dict[str, Any]],
) -> dict[str, Any]:
    """The `message` of on_confirm / on_status carrying one page."""
    last = page + 1 >= pages_total
    return {
        "contract": {
            "id": collection_id,
            "status": "COMPLETE" if last else "ACTIVE",
            "contractAttributes": {
                "@type": ACCESS_TYPE,
                "consentId": consent_id,
                "purpose": purpose,
                "retention": retention,
                "retainUntil": format_instant(retain_until),
            },
            "commitments": [{"id": "c1", "status": "ACTIVE", "resources": [{"id": RESOURCE_ID}]}],
            "performance": [
                {
                    "id": f"page-{page}",
                    "performanceAttributes": {
                        "@context": DATASET_ITEM_CONTEXT,
                        "@type": "DatasetItem",
                        "accessMethod": "INLINE",
                        "dataPayload": payload,
                        "pageInfo": {
                            "sequence": page,
                            "pageSize": page_size,
                            "total": records_total,
                            "totalPages": pages_total,
                            "isLast": last,
                            "cursor": str(page),
                            "nextCursor": None if last else str(page + 1),
                            "collectionId": collection_id,
                        },
                    },
                }
            ],
        }
    }
