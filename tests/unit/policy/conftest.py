"""Fixtures for the policy tests: a publisher key, the default bundle signed with it, registry records."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ies.identity.keys import SigningKeyPair
from ies.policy.engine import CompiledPolicy
from ies.policy.sources import build_default_bundle
from ies.policy.store import BundleStore
from ies.policy.verify import load_bundle
from ies.registry.records import KeyRecord, standing_record

CREATED = datetime(2026, 11, 26, tzinfo=UTC)

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:  # make `policy_helpers` importable whatever the import mode
    sys.path.insert(0, _HERE)


@pytest.fixture(scope="session")
def publisher_key() -> SigningKeyPair:
    return SigningKeyPair.from_seed(bytes(range(32)))


@pytest.fixture(scope="session")
def default_archive(publisher_key: SigningKeyPair) -> bytes:
    return build_default_bundle(
        publisher_key, publisher="regulator.example", key_id="reg-k1", created=CREATED
    )


@pytest.fixture(scope="session")
def default_policy(default_archive: bytes, publisher_key: SigningKeyPair) -> CompiledPolicy:
    return CompiledPolicy(load_bundle(default_archive, [publisher_key.public_key]))


@pytest.fixture
def store(default_archive: bytes, publisher_key: SigningKeyPair) -> BundleStore:
    s = BundleStore()
    s.install(default_archive, [publisher_key.public_key])
    return s


RecordFactory = Callable[..., KeyRecord]


@pytest.fixture
def record() -> RecordFactory:
    """A registry KeyRecord as the exchange hands it to handlers (roles as the registry lists them)."""

    def make(
        subscriber_id: str = "requester.example",
        roles: tuple[str, ...] = ("BAP",),
        *,
        status: str = "SUBSCRIBED",
        key_status: str = "ACTIVE",
    ) -> KeyRecord:
        return standing_record(
            subscriber_id,
            f"{subscriber_id}-k1",
            SigningKeyPair.generate().public_key_b64,
            roles=roles,
            encr_public_key=SigningKeyPair.generate().public_key_b64,
            subscriber_status=status,
            key_status=key_status,
        )

    return make
