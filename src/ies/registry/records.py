"""Wire models of the subscriber directory, and the two lookup answer shapes in use.

The IES guides spell record fields `subscriber_url` / `encryption_public_key`; beckn-onix parses `url` /
`encr_public_key`; Beckn v1 says `cb_url`. `SubscriptionRequest` accepts all of them, and answers always
carry the onix spelling (plus `subscriber_url` in the v1 form) so every reader finds what it expects.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ies.identity.keys import b64decode_strict

__all__ = [
    "KeyRecord",
    "KeyStatus",
    "LookupFilter",
    "Role",
    "SubscriberStatus",
    "SubscriptionRequest",
    "dedi_answer",
    "standing_record",
    "v1_subscription",
]

DEDI_WILDCARD = "subscribers.beckn.one"


class Role(StrEnum):
    BAP = "BAP"
    BPP = "BPP"
    BG = "BG"
    CDS = "CDS"
    LEDGER = "LEDGER"
    DISCOM = "DISCOM"
    ISSUER = "ISSUER"
    REGISTRY = "REGISTRY"
    REGULATOR = "REGULATOR"
    AGGREGATOR = "AGGREGATOR"
    CONSENT_MANAGER = "CONSENT_MANAGER"
    RESEARCHER = "RESEARCHER"
    SYSTEM_OPERATOR = "SYSTEM_OPERATOR"
    CERTIFIED_OT = "CERTIFIED_OT"


class SubscriberStatus(StrEnum):
    INITIATED = "INITIATED"
    UNDER_SUBSCRIPTION = "UNDER_SUBSCRIPTION"
    SUBSCRIBED = "SUBSCRIBED"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    UNSUBSCRIBED = "UNSUBSCRIBED"


class KeyStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


def _check_key(value: str, what: str) -> str:
    b64decode_strict(value, what=what, lengths=(32,))
    return value


class SubscriptionRequest(BaseModel):
    """Body of `POST /subscribe` (signed by the key being registered)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    subscriber_id: str = Field(min_length=1, max_length=255, pattern=r"^[^|\"\s]+$")
    key_id: str | None = Field(default=None, max_length=255, pattern=r"^[^|\"\s]+$")
    url: str = Field(min_length=1, max_length=2048)
    roles: list[Role] = Field(min_length=1)
    domains: list[str] = Field(default_factory=list)
    network_memberships: list[str] = Field(default_factory=list)
    signing_public_key: str
    encr_public_key: str
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for alias in ("subscriber_url", "cb_url"):
            if alias in data and "url" not in data:
                data["url"] = data.pop(alias)
        if "encryption_public_key" in data and "encr_public_key" not in data:
            data["encr_public_key"] = data.pop("encryption_public_key")
        if "type" in data and "roles" not in data:
            data["roles"] = [data.pop("type")]
        if "domain" in data and "domains" not in data:
            data["domains"] = [data.pop("domain")] if data["domain"] else []
        if "unique_key_id" in data and "key_id" not in data:
            data["key_id"] = data.pop("unique_key_id")
        return data

    @field_validator("roles", mode="before")
    @classmethod
    def _upper_roles(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v.upper() if isinstance(v, str) else v for v in value]
        return value

    @field_validator("signing_public_key")
    @classmethod
    def _signing(cls, value: str) -> str:
        return _check_key(value, "signing_public_key")

    @field_validator("encr_public_key")
    @classmethod
    def _encr(cls, value: str) -> str:
        return _check_key(value, "encr_public_key")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must be http(s)")
        return value.rstrip("/")

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps need a time zone (use Z for UTC)")
        return value

    def window(self, now: datetime, default_days: int = 365) -> tuple[datetime, datetime]:
        start = self.valid_from or now
        end = self.valid_until or start + timedelta(days=default_days)
        if end <= start:
            raise ValueError("valid_until must be after valid_from")
        return start.astimezone(UTC), end.astimezone(UTC)


class KeyRecord(BaseModel):
    """What a verifier needs about one key: the joined participant and key records."""

    subscriber_id: str
    key_id: str
    url: str
    roles: list[str]
    domains: list[str]
    network_memberships: list[str]
    signing_public_key: str
    encr_public_key: str
    subscriber_status: str
    key_status: str
    valid_from: datetime
    valid_until: datetime
    created_at: datetime
    updated_at: datetime

    def signing_key_bytes(self) -> bytes:
        return b64decode_strict(self.signing_public_key, what="signing_public_key", lengths=(32,))


def standing_record(
    subscriber_id: str,
    key_id: str,
    signing_public_key: str,
    *,
    roles: tuple[str, ...] | list[str] = ("BAP",),
    url: str | None = None,
    encr_public_key: str | None = None,
    subscriber_status: str = "SUBSCRIBED",
    key_status: str = "ACTIVE",
) -> KeyRecord:
    """What a registry answers for a participant in good standing: subscribed, its key active from a day
    ago to a day ahead. For tests, benchmarks and offline tools that hold the keys instead of running a
    registry; a registry builds its answers from its own rows (`directory.get_key`)."""
    now = datetime.now(UTC)
    return KeyRecord(
        subscriber_id=subscriber_id,
        key_id=key_id,
        url=url or f"http://{subscriber_id}/beckn",
        roles=list(roles),
        domains=[],
        network_memberships=[],
        signing_public_key=signing_public_key,
        encr_public_key=encr_public_key or signing_public_key,
        subscriber_status=subscriber_status,
        key_status=key_status,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=1),
        created_at=now,
        updated_at=now,
    )


class LookupFilter(BaseModel):
    """Beckn v1 `POST /lookup` body: a partial Subscription; every given field must match."""

    model_config = ConfigDict(extra="ignore")

    subscriber_id: str | None = None
    key_id: str | None = None
    unique_key_id: str | None = None
    type: str | None = None
    domain: str | None = None
    status: str | None = None
    network_id: str | None = None


def dedi_answer(rec: KeyRecord) -> dict[str, Any]:
    """The DeDi lookup answer that beckn-onix's dediregistry plugin parses (it ignores our extra fields)."""
    return {
        "message": "Record found",
        "data": {
            "record_id": rec.key_id,
            "details": {
                "url": rec.url,
                "type": rec.roles[0] if rec.roles else "",
                "roles": rec.roles,
                "domain": rec.domains[0] if rec.domains else "",
                "subscriber_id": rec.subscriber_id,
                "signing_public_key": rec.signing_public_key,
                "encr_public_key": rec.encr_public_key,
                "status": rec.subscriber_status,
                "key_status": rec.key_status,
                "valid_from": _iso(rec.valid_from),
                "valid_until": _iso(rec.valid_until),
            },
            "network_memberships": rec.network_memberships,
            "created_at": _iso(rec.created_at),
            "updated_at": _iso(rec.updated_at),
        },
    }


def v1_subscription(rec: KeyRecord) -> dict[str, Any]:
    """One element of the Beckn v1 `POST /lookup` answer array."""
    return {
        "subscriber_id": rec.subscriber_id,
        "subscriber_url": rec.url,
        "url": rec.url,
        "type": rec.roles[0] if rec.roles else "",
        "roles": rec.roles,
        "domain": rec.domains[0] if rec.domains else "",
        "key_id": rec.key_id,
        "unique_key_id": rec.key_id,
        "signing_public_key": rec.signing_public_key,
        "encr_public_key": rec.encr_public_key,
        "valid_from": _iso(rec.valid_from),
        "valid_until": _iso(rec.valid_until),
        "status": rec.subscriber_status,
        "key_status": rec.key_status,
        "network_memberships": rec.network_memberships,
        "created": _iso(rec.created_at),
        "updated": _iso(rec.updated_at),
    }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
