"""Bundle versions side by side, rollback protection, persistence and re-verification after restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from policy_helpers import derived_bundle
from sqlalchemy import Engine, update

from ies.identity.keys import SigningKeyPair
from ies.policy.errors import BundleNotFound, BundleRollback, BundleSignatureInvalid, BundleUntrustedKey
from ies.policy.store import BundleStore
from ies.policy.tables import PolicyBundleRow
from ies.store import session_factory

DOC = {
    "roles": ["RESEARCHER"],
    "dataset": {"id": "d", "taxonomy": "Consumer", "criticality": "C2", "personal": True},
    "purpose": "research",
    "granularity": "aggregate",
    "endpoint": "informational",
    "certified": False,
    "custodian": False,
}


def _restrict(policy: dict[str, Any]) -> None:
    policy["entitlements"]["researcher"][0]["taxonomy"] = ["Planning"]


class TestVersions:
    def test_newest_for_new_requests_pinned_for_contracts(
        self, store: BundleStore, tmp_path: Path, publisher_key: SigningKeyPair
    ) -> None:
        v1 = store.latest("ies-entitlements")
        v2 = store.install(
            derived_bundle(tmp_path, publisher_key, version="1.1.0", revision=2, edit=_restrict),
            [publisher_key.public_key],
        )
        assert store.latest("ies-entitlements") is v2
        assert store.get("ies-entitlements", "1.0.0") is v1
        assert store.get("ies-entitlements", "1.0.0", v1.ref.hash) is v1
        assert store.resolve(v1.ref, "ies-entitlements") is v1
        assert v1.evaluate("ies/access/decision", DOC)["effect"] == "allow_aggregated"
        assert v2.evaluate("ies/access/decision", DOC)["effect"] == "deny"
        assert [v["version"] for v in store.versions()] == ["1.0.0", "1.1.0"]
        assert [v["latest"] for v in store.versions()] == [False, True]

    def test_a_pin_with_the_wrong_hash_is_not_found(self, store: BundleStore) -> None:
        with pytest.raises(BundleNotFound):
            store.get("ies-entitlements", "1.0.0", "0" * 64)
        with pytest.raises(BundleNotFound):
            store.get("ies-entitlements", "9.9.9")
        with pytest.raises(BundleNotFound):
            store.latest("other-bundle")

    def test_older_or_equal_revision_is_a_rollback(
        self, store: BundleStore, tmp_path: Path, publisher_key: SigningKeyPair
    ) -> None:
        store.install(
            derived_bundle(tmp_path, publisher_key, version="2.0.0", revision=5), [publisher_key.public_key]
        )
        for version, revision in (("1.5.0", 3), ("2.0.1", 5)):
            with pytest.raises(BundleRollback) as info:
                store.install(
                    derived_bundle(tmp_path, publisher_key, version=version, revision=revision),
                    [publisher_key.public_key],
                )
            assert info.value.details["installed_revision"] == 5

    def test_same_version_with_other_content_is_refused_identical_is_a_no_op(
        self, store: BundleStore, default_archive: bytes, tmp_path: Path, publisher_key: SigningKeyPair
    ) -> None:
        again = store.install(default_archive, [publisher_key.public_key])
        assert again is store.latest("ies-entitlements")
        with pytest.raises(BundleRollback, match="already installed"):
            store.install(
                derived_bundle(tmp_path, publisher_key, version="1.0.0", revision=7, edit=_restrict),
                [publisher_key.public_key],
            )

    def test_install_verifies_first(self, store: BundleStore, tmp_path: Path) -> None:
        stranger = SigningKeyPair.generate()
        with pytest.raises(BundleUntrustedKey):
            store.install(derived_bundle(tmp_path, stranger, version="3", revision=9), [b"\x01" * 32])
        assert [v["version"] for v in store.versions()] == ["1.0.0"]


class TestPersistence:
    def test_bundles_survive_a_restart(
        self, engine: Engine, default_archive: bytes, tmp_path: Path, publisher_key: SigningKeyPair
    ) -> None:
        first = BundleStore(engine)
        first.install(default_archive, [publisher_key.public_key])
        first.install(
            derived_bundle(tmp_path, publisher_key, version="1.1.0", revision=2), [publisher_key.public_key]
        )
        second = BundleStore(engine)
        assert [v["version"] for v in second.versions()] == ["1.0.0", "1.1.0"]
        assert second.latest("ies-entitlements").ref == first.latest("ies-entitlements").ref
        with pytest.raises(BundleRollback):  # the order is remembered across restarts
            second.install(
                derived_bundle(tmp_path, publisher_key, version="1.0.5", revision=2),
                [publisher_key.public_key],
            )

    def test_an_altered_stored_bundle_is_refused_on_reload(
        self, engine: Engine, default_archive: bytes, publisher_key: SigningKeyPair
    ) -> None:
        BundleStore(engine).install(default_archive, [publisher_key.public_key])
        with session_factory(engine).begin() as session:
            session.execute(
                update(PolicyBundleRow).values(public_key=SigningKeyPair.generate().public_key_b64)
            )
        with pytest.raises((BundleUntrustedKey, BundleSignatureInvalid)):
            BundleStore(engine)
