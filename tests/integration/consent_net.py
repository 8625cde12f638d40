"""A real network for the consent tests: registry, consent manager, DISCOM (data provider), data consumers.

Every node is its own OS process; the helpers below speak to them over HTTP exactly as a wallet, a data
consumer's back office or an operator would: participants sign with their registered Beckn keys, the
principal signs with their did:key, the operator uses the node's token.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from ies.consent.artefact import ConsentArtefact
from ies.consent.auth import get_signing_bytes, principal_authorization
from ies.consent.signatures import principal_did_of, sign_as_principal, sign_instruction
from ies.exchange.signing import build_authorization
from ies.identity.keys import NodeKeys, SigningKeyPair, load_node_keys
from ies.sandbox.network import NetworkSpec, NetworkState, NodeSpec


def principal_key(label: str) -> SigningKeyPair:
    return SigningKeyPair.from_seed(hashlib.sha256(f"consent integration {label}".encode()).digest())


ASHA = principal_key("asha")  # consumer CN-1001: two meters, a prosumer
RAVI = principal_key("ravi")  # consumer CN-2002: one meter
METER_A1 = "did:web:discom.ies.local:assets:meter:MTR-A1"
METER_A2 = "did:web:discom.ies.local:assets:meter:MTR-A2"
METER_R1 = "did:web:discom.ies.local:assets:meter:MTR-R1"
DATA_FROM = "2026-05-01T00:00:00Z"
DATA_UNTIL = "2026-05-11T00:00:00Z"


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def network_spec(base_port: int) -> NetworkSpec:
    customers = {
        "CN-1001": {"did": principal_did_of(ASHA), "meters": [METER_A1, METER_A2], "prosumer": True},
        "CN-2002": {"did": principal_did_of(RAVI), "meters": [METER_R1]},
    }
    provider = {
        "meter_exchange": {
            "role": "provider",
            "consent_managers": ["cm.ies.local"],
            "page_size": 96,
            "customers": customers,
        }
    }
    return NetworkSpec(
        nodes=(
            NodeSpec("registry", ("REGISTRY",)),
            NodeSpec("cm", ("CONSENT_MANAGER",), settings={"consent": {"expiry_sweep_s": 1}}),
            NodeSpec("discom", ("BPP", "DISCOM"), usecases=("meter_exchange",), settings=provider),
            NodeSpec(
                "advisor",
                ("BAP",),
                usecases=("meter_exchange",),
                settings={"meter_exchange": {"role": "consumer"}},
            ),
            NodeSpec("lender", ("BAP",)),
        ),
        base_port=base_port,
    )


@dataclass
class ConsentNet:
    state: NetworkState

    # -- plumbing --------------------------------------------------------------------------------------
    def url(self, name: str) -> str:
        return self.state.node(name).url

    def sub(self, name: str) -> str:
        return self.state.node(name).subscriber_id

    def keys(self, name: str) -> NodeKeys:
        return load_node_keys(Path(self.state.node(name).config).parent / "keys.json")

    def token(self, name: str) -> str:
        return self.state.admin_token(self.state.node(name))

    def signed_post(self, signer: str, url: str, body: dict[str, Any]) -> httpx.Response:
        raw = orjson.dumps(body)
        keys = self.keys(signer)
        created = int(time.time())
        header = build_authorization(
            raw, subscriber_id=self.sub(signer), key_id=keys.key_id, key=keys.signing, created=created
        )
        return httpx.post(url, content=raw, headers={"Authorization": header}, timeout=30)

    def signed_get(self, signer: str, base: str, path: str) -> httpx.Response:
        keys = self.keys(signer)
        header = build_authorization(
            get_signing_bytes(path),
            subscriber_id=self.sub(signer),
            key_id=keys.key_id,
            key=keys.signing,
            created=int(time.time()),
        )
        return httpx.get(base + path, headers={"Authorization": header}, timeout=30)

    # -- the consent manager ---------------------------------------------------------------------------
    def draft(
        self,
        *,
        consumer: str = "advisor",
        principal: dict[str, Any] | None = None,
        resources: tuple[str, ...] = (METER_A1, METER_A2),
        purpose: str = "energy-advisory",
        max_accesses: int = 10,
        valid_for: timedelta = timedelta(days=30),
        readings: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC).replace(microsecond=0)
        return {
            "dataPrincipal": principal or {"consumerNumber": "CN-1001", "id": principal_did_of(ASHA)},
            "dataProvider": {"id": self.sub("discom")},
            "dataConsumer": {"id": self.sub(consumer)},
            "purpose": {"code": purpose},
            "dataScope": {
                "resources": list(resources),
                "profiles": [
                    {
                        "profileType": "IntervalProfile",
                        "readings": readings or [{"value": "kWh imp block", "mode": "USAGE"}],
                    }
                ],
                "dataFrom": DATA_FROM,
                "dataUntil": DATA_UNTIL,
            },
            "frequency": {"maxAccesses": max_accesses, "period": "P1D"},
            "validFrom": iso(now - timedelta(minutes=1)),
            "validUntil": iso(now + valid_for),
            "retention": "P30D",
        }

    def request_consent(self, draft: dict[str, Any], consumer: str = "advisor") -> httpx.Response:
        return self.signed_post(consumer, f"{self.url('cm')}/consent/v1/consents", draft)

    def show(self, consent_id: str, key: SigningKeyPair = ASHA) -> httpx.Response:
        path = f"/consent/v1/consents/{consent_id}"
        header = principal_authorization(key, get_signing_bytes(path))
        return httpx.get(self.url("cm") + path, headers={"Authorization": header}, timeout=30)

    def approve(self, consent_id: str, key: SigningKeyPair = ASHA) -> httpx.Response:
        doc = self.show(consent_id, key).json()
        signature = sign_as_principal(ConsentArtefact.parse(doc["artefact"]), key)
        return httpx.post(
            f"{self.url('cm')}/consent/v1/consents/{consent_id}/approve",
            json={"signature": signature},
            timeout=30,
        )

    def act(self, consent_id: str, verb: str, key: SigningKeyPair = ASHA, reason: str = "") -> httpx.Response:
        doc = self.show(consent_id, key).json()
        instruction = {
            "consentId": consent_id,
            "action": verb.upper(),
            "seq": doc["seq"],
            "at": iso(datetime.now(UTC)),
        }
        if reason:
            instruction["reason"] = reason
        return httpx.post(
            f"{self.url('cm')}/consent/v1/consents/{consent_id}/{verb}",
            json=sign_instruction(instruction, key),
            timeout=30,
        )

    def active_consent(self, key: SigningKeyPair = ASHA, **draft_kw: Any) -> str:
        resp = self.request_consent(self.draft(**draft_kw), draft_kw.get("consumer", "advisor"))
        assert resp.status_code == 201, resp.text
        consent_id = str(resp.json()["id"])
        approved = self.approve(consent_id, key)
        assert approved.status_code == 200 and approved.json()["state"] == "ACTIVE", approved.text
        return consent_id

    # -- the exchange ----------------------------------------------------------------------------------
    def meter_request(
        self,
        consent_id: str | None,
        *,
        resources: tuple[str, ...] = (METER_A1,),
        start: str = "2026-05-02T00:00:00Z",
        duration: str = "P1D",
        readings: list[dict[str, Any]] | None = None,
        max_records: int | None = None,
    ) -> dict[str, Any]:
        mdr: dict[str, Any] = {
            "@context": "https://india-energy-stack.github.io/ies-accelerator/schemas/MeterDataRequest/v0.6/context.jsonld",
            "@type": "MeterDataRequest",
            "resources": list(resources),
            "scope": "ResourceOnly",
            "from": start,
            "duration": duration,
            "capabilitiesRequested": {
                "profiles": [
                    {
                        "profileType": "IntervalProfile",
                        "readings": readings or [{"value": "kWh imp block", "mode": "USAGE"}],
                    }
                ]
            },
        }
        if consent_id is not None:
            mdr["consumerConsent"] = [consent_id]
        if max_records is not None:
            mdr["maxRecordsShared"] = max_records
        return mdr

    def start(
        self,
        mdr: dict[str, Any],
        *,
        consumer: str = "advisor",
        purpose: str = "energy-advisory",
        txn: str | None = None,
    ) -> httpx.Response:
        message = {
            "contract": {
                "commitments": [
                    {"id": "c1", "resources": [{"id": "meter-data-transfer", "resourceAttributes": mdr}]}
                ],
                "contractAttributes": {
                    "@type": "MeterDataAccess",
                    "purpose": purpose,
                    "consentManager": self.sub("cm"),
                },
            }
        }
        spec: dict[str, Any] = {
            "bpp_id": self.sub("discom"),
            "bpp_uri": self.state.node("discom").beckn_url,
            "message": message,
            "timeout_s": 20,
        }
        if txn:
            spec["transaction_id"] = txn
        return httpx.post(
            f"{self.url(consumer)}/admin/caller/confirm",
            json=spec,
            headers={"Authorization": f"Bearer {self.token(consumer)}"},
            timeout=60,
        )

    def start_with_credential(
        self, credential: Any, *, consumer: str = "advisor", purpose: str = "energy-advisory"
    ) -> httpx.Response:
        message = {
            "contract": {
                "commitments": [{"id": "c1", "resources": [{"id": "meter-data-transfer"}]}],
                "contractAttributes": {
                    "@type": "MeterDataAccess",
                    "purpose": purpose,
                    "consentManager": self.sub("cm"),
                    "credential": credential,
                },
            }
        }
        spec = {
            "bpp_id": self.sub("discom"),
            "bpp_uri": self.state.node("discom").beckn_url,
            "message": message,
            "timeout_s": 20,
        }
        return httpx.post(
            f"{self.url(consumer)}/admin/caller/confirm",
            json=spec,
            headers={"Authorization": f"Bearer {self.token(consumer)}"},
            timeout=60,
        )

    def page(
        self, collection_id: str, page: int, *, consumer: str = "advisor", txn: str | None = None
    ) -> httpx.Response:
        spec: dict[str, Any] = {
            "bpp_id": self.sub("discom"),
            "bpp_uri": self.state.node("discom").beckn_url,
            "message": {
                "contract": {"id": collection_id, "contractAttributes": {"@type": "MeterDataAccess"}},
                "tags": {"pagination": {"collectionId": collection_id, "pageCursor": str(page)}},
            },
            "timeout_s": 20,
        }
        if txn:
            spec["transaction_id"] = txn
        return httpx.post(
            f"{self.url(consumer)}/admin/caller/status",
            json=spec,
            headers={"Authorization": f"Bearer {self.token(consumer)}"},
            timeout=60,
        )

    def accesses(self, principal: str, key: SigningKeyPair = ASHA) -> httpx.Response:
        path = f"/consent/v1/accesses?principal={principal}"
        header = principal_authorization(key, get_signing_bytes(path))
        return httpx.get(self.url("discom") + path, headers={"Authorization": header}, timeout=30)

    def messages(self, name: str) -> list[dict[str, Any]]:
        resp = httpx.get(
            f"{self.url(name)}/admin/messages",
            params={"limit": 5000},
            headers={"Authorization": f"Bearer {self.token(name)}"},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text
        return list(resp.json())


def nack_code(resp: httpx.Response) -> str | None:
    """The NACK's error code from an /admin/caller answer (None if it was ACKed)."""
    body = resp.json()
    error = (((body.get("ack") or {}).get("message") or {}).get("error")) or body.get("error")
    return error.get("code") if isinstance(error, dict) else None


def page_of(resp: httpx.Response) -> dict[str, Any]:
    """performanceAttributes of the callback carrying a page."""
    body = resp.json()
    assert resp.status_code == 200 and body.get("callback"), body
    return dict(body["callback"]["message"]["contract"]["performance"][0]["performanceAttributes"])
