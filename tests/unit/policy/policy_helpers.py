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
