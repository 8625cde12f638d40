"""Helpers for policy tests: derive new bundle versions from the shipped default source."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ies.identity.keys import SigningKeyPair
from ies.policy.bundle import build_bundle, read_source
from ies.policy.sources import DEFAULT_BUNDLE_DIR


def derived_bundle(
    tmp: Path,
    key: SigningKeyPair,
    *,
    version: str,
    revision: int,
    edit: Callable[[dict[str, Any]], None] | None = None,
    publisher: str = "regulator.example",
    key_id: str = "reg-k1",
) -> bytes:
    """The default policy with `edit` applied to data.ies.policy, as a new signed version."""
    folder = tmp / f"src-{version}-{revision}"
    shutil.copytree(DEFAULT_BUNDLE_DIR, folder)
    data = json.loads((folder / "data.json").read_text())
    if edit is not None:
        edit(data["ies"]["policy"])
    (folder / "data.json").write_text(json.dumps(data))
    src = read_source(folder, version=version, revision=revision)
    return build_bundle(
        src, key, publisher=publisher, key_id=key_id, created=datetime(2026, 11, 27, tzinfo=UTC)
    )


def researchers_lose_consumer_data(policy: dict[str, Any]) -> None:
    """A regulator's change: researchers no longer receive Consumer data, even aggregated."""
    for rule in policy["entitlements"]["researcher"]:
        rule["taxonomy"] = [t for t in rule["taxonomy"] if t != "Consumer"]


class Participants:
    """Registry records with real keys, and signed requests from them (what a peer sends on the wire)."""

    def __init__(self) -> None:
        from ies.identity.keys import NodeKeys

        self._keys: dict[str, NodeKeys] = {}
        self.records: dict[tuple[str, str], Any] = {}
        self._NodeKeys = NodeKeys

    def add(self, subscriber_id: str, *roles: str) -> None:
        from ies.registry.records import standing_record

        keys = self._NodeKeys.generate(f"{subscriber_id}-k1")
        self._keys[subscriber_id] = keys
        self.records[(subscriber_id, keys.key_id)] = standing_record(
            subscriber_id,
            keys.key_id,
            keys.signing.public_key_b64,
            roles=roles,
            encr_public_key=keys.encryption.public_key_b64,
        )

    async def key_source(self, subscriber_id: str, key_id: str) -> Any:
        return self.records.get((subscriber_id, key_id))

    def request(
        self, sender: str, action: str, message: dict[str, Any], bpp: str = "discom.example"
    ) -> tuple[str, bytes]:
        """(Authorization header, raw body) of a signed request from `sender`."""
        import time
        import uuid

        import orjson

        from ies.exchange.signing import build_authorization

        body = {
            "context": {
                "action": action,
                "version": "2.0.0",
                "domain": "beckn.one:deg:energy",
                "bapId": sender,
                "bapUri": f"http://{sender}/beckn",
                "bppId": bpp,
                "bppUri": f"http://{bpp}/beckn",
                "transactionId": str(uuid.uuid4()),
                "messageId": str(uuid.uuid4()),
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "ttl": "PT30S",
            },
            "message": message,
        }
        raw = orjson.dumps(body)
        keys = self._keys[sender]
        header = build_authorization(
            raw, subscriber_id=sender, key_id=keys.key_id, key=keys.signing, created=int(time.time())
        )
        return header, raw


def data_request(*datasets: str, purpose: str, granularity: str = "record", **extra: Any) -> dict[str, Any]:
    return {
        "contract": {
            "commitments": [{"id": f"c{i}", "resources": [{"id": d}]} for i, d in enumerate(datasets)],
            "contractAttributes": {
                "@type": "DataAccessRequest",
                "purpose": purpose,
                "granularity": granularity,
                **extra,
            },
        }
    }


def command(kind: str = "DispatchInstruction") -> dict[str, Any]:
    return {
        "command": {
            "@type": kind,
            "commandId": "cmd-1",
            "target": "did:web:discom.example:assets:der:42",
            "setpointW": 5000,
        }
    }
