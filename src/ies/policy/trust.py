"""Whom a node trusts to publish policy bundles: configured keys, and the registry's regulators.

A regulator publishes a new bundle version by signing it with its registered key; every node checks
that the manifest's publisher is, at that moment, a subscribed participant whose registry record holds
the REGULATOR role and whose key is active. No node has to be reconfigured when a regulator rotates its
key, and a participant who merely claims to be a regulator is not trusted. Configured keys cover the
node's own local default and offline set-ups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ies.errors import IESError
from ies.exchange.verify import KeySource, check_key_usable
from ies.identity.keys import b64decode_strict
from ies.policy.errors import BundleUntrustedKey
from ies.policy.manifest import Manifest

__all__ = ["BundleTrust"]


@dataclass
class BundleTrust:
    static_keys: list[bytes] = field(default_factory=list)
    key_source: KeySource | None = None
    publisher_role: str = "REGULATOR"

    def add_key(self, key: bytes | str) -> None:
        self.static_keys.append(key if isinstance(key, bytes) else b64decode_strict(key, lengths=(32,)))

    async def keys_for(self, manifest: Manifest) -> list[bytes]:
        """The keys that may have signed this manifest: the configured ones plus, when the registry
        says so, the publisher's registered key. A registry failure trusts nothing extra."""
        keys = list(self.static_keys)
        if self.key_source is None:
            return keys
        pub = manifest.publisher
        try:
            record = await self.key_source(pub.subscriber_id, pub.key_id)
        except IESError:
            record = None
        if record is None or self.publisher_role not in record.roles:
            if not keys:
                raise BundleUntrustedKey(
                    f"{pub.subscriber_id} is not a registered {self.publisher_role} with key {pub.key_id}",
                    details={"publisher": pub.subscriber_id, "key_id": pub.key_id},
                )
            return keys
        try:
            check_key_usable(record, datetime.now(UTC))
        except IESError as err:
            raise BundleUntrustedKey(f"publisher key {pub.key_id} is not usable: {err.message}") from None
        keys.append(record.signing_key_bytes())
        return keys
