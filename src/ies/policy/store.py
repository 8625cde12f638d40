"""Installed policy bundles, every version side by side.

Why side by side: a contract is judged by the rules it was made under, so a P2P trade confirmed under
bundle 1.0.0 keeps being checked against 1.0.0 while new requests already use the regulator's 1.1.0.
`latest(name)` is what a fresh request uses; `get(name, version, hash)` is what a pinned contract uses.

Rollback protection: within one name, a new bundle must carry a higher `revision` than every bundle
installed before (re-installing the identical bundle is a no-op). A captured old bundle, validly signed,
can therefore never replace a newer one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from ies.identity.keys import b64decode_strict
from ies.policy.engine import CompiledPolicy
from ies.policy.errors import BundleNotFound, BundleRollback
from ies.policy.manifest import BundleRef
from ies.policy.tables import PolicyBundleRow
from ies.policy.verify import TrustedKeys, VerifiedBundle, load_bundle
from ies.store import session_factory, utcnow

__all__ = ["BundleStore"]


class BundleStore:
    """Verified, compiled bundles by name and version; optionally persisted in the node's database."""

    def __init__(self, engine: Engine | None = None):
        self._by_name: dict[str, dict[str, CompiledPolicy]] = {}
        self._by_hash: dict[str, CompiledPolicy] = {}
        self._latest: dict[str, CompiledPolicy] = {}
        self._lock = threading.Lock()
        self._sessions = session_factory(engine) if engine is not None else None
        if self._sessions is not None:
            self._reload()

    # -- installing ------------------------------------------------------------------------------------
    def install(self, source: bytes | Path | str, trusted_keys: TrustedKeys) -> CompiledPolicy:
        """Verify (signature, hashes), compile, check the revision order, persist; return the policy."""
        return self.add(load_bundle(source, trusted_keys))

    def add(self, bundle: VerifiedBundle) -> CompiledPolicy:
        with self._lock:
            known = self._by_hash.get(bundle.hash)
            if known is not None:
                return known
            self._check_order(bundle)
        compiled = CompiledPolicy(bundle)  # compile outside the lock: it takes milliseconds
        with self._lock:
            self._check_order(bundle)
            if self._sessions is not None:
                self._persist(bundle)
            self._remember(compiled)
        return compiled

    def _check_order(self, bundle: VerifiedBundle) -> None:
        m = bundle.manifest
        versions = self._by_name.get(m.name, {})
        if m.version in versions:
            raise BundleRollback(
                f"{m.name} {m.version} is already installed with different content",
                details={"installed_hash": versions[m.version].ref.hash, "offered_hash": bundle.hash},
            )
        newest = self._latest.get(m.name)
        if newest is not None and m.revision <= newest.manifest.revision:
            raise BundleRollback(
                f"{m.name} revision {m.revision} is not newer than installed revision "
                f"{newest.manifest.revision} ({newest.ref.version})",
                details={"installed_revision": newest.manifest.revision, "offered_revision": m.revision},
            )

    def _remember(self, compiled: CompiledPolicy) -> None:
        name = compiled.ref.name
        self._by_name.setdefault(name, {})[compiled.ref.version] = compiled
        self._by_hash[compiled.ref.hash] = compiled
        newest = self._latest.get(name)
        if newest is None or compiled.manifest.revision > newest.manifest.revision:
            self._latest[name] = compiled

    def _persist(self, bundle: VerifiedBundle) -> None:
        assert self._sessions is not None
        m = bundle.manifest
        with self._sessions.begin() as session:
            session.add(
                PolicyBundleRow(
                    bundle_hash=bundle.hash,
                    name=m.name,
                    version=m.version,
                    revision=m.revision,
                    publisher=m.publisher.subscriber_id,
                    key_id=m.publisher.key_id,
                    public_key=str(bundle.signature["public_key"]),
                    installed_at=utcnow(),
                    archive=bundle.archive,
                )
            )

    def _reload(self) -> None:
        """Re-verify every stored bundle against the key it was installed with (a row whose archive was
        altered no longer verifies and is refused loudly rather than skipped)."""
        assert self._sessions is not None
        with self._sessions() as session:
            rows = session.scalars(select(PolicyBundleRow).order_by(PolicyBundleRow.revision)).all()
            stored = [(r.archive, r.public_key) for r in rows]
        for archive, public_key in stored:
            bundle = load_bundle(archive, [b64decode_strict(public_key, lengths=(32,))])
            self._remember(CompiledPolicy(bundle))

    # -- reading ---------------------------------------------------------------------------------------
    def latest(self, name: str) -> CompiledPolicy:
        found = self._latest.get(name)
        if found is None:
            raise BundleNotFound(f"no policy bundle named {name!r} is installed")
        return found

    def get(self, name: str, version: str | None = None, bundle_hash: str | None = None) -> CompiledPolicy:
        """A specific version (and, when given, exactly the content with that hash)."""
        if version is None and bundle_hash is None:
            return self.latest(name)
        if bundle_hash is not None and version is None:
            found = self._by_hash.get(bundle_hash)
        else:
            found = self._by_name.get(name, {}).get(str(version))
        if (
            found is None
            or found.ref.name != name
            or (bundle_hash is not None and found.ref.hash != bundle_hash)
        ):
            raise BundleNotFound(
                f"policy bundle {name} {version or ''} {bundle_hash or ''} is not installed".replace(
                    "  ", " "
                )
            )
        return found

    def resolve(self, ref: BundleRef | None, name: str) -> CompiledPolicy:
        return self.latest(name) if ref is None else self.get(ref.name, ref.version, ref.hash)

    def versions(self, name: str | None = None) -> list[dict[str, Any]]:
        out = []
        for policy in sorted(self._by_hash.values(), key=lambda p: (p.ref.name, p.manifest.revision)):
            if name is not None and policy.ref.name != name:
                continue
            m = policy.manifest
            out.append(
                {
                    **policy.ref.to_dict(),
                    "revision": m.revision,
                    "created": m.created.isoformat().replace("+00:00", "Z"),
                    "publisher": m.publisher.model_dump(),
                    "latest": self._latest.get(m.name) is policy,
                }
            )
        return out

    def names(self) -> Iterable[str]:
        return sorted(self._latest)
