"""The package ships the published IES material unchanged, with its notice.

Compared against the checkout in ../shared/ies-spec (or $IES_SPEC_DIR) when it is present; skipped otherwise,
since an installed package has no upstream checkout next to it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ies.schemas import DATA_ROOT

SPEC = Path(os.environ.get("IES_SPEC_DIR", Path(__file__).resolve().parents[3] / "shared" / "ies-spec"))
COPIED = ("schemas", "use-cases", "scripts")


@pytest.mark.skipif(
    not (SPEC / "schemas").is_dir(), reason="no upstream ies-spec checkout next to the project"
)
def test_every_upstream_file_is_bundled_byte_for_byte() -> None:
    upstream = sorted(p.relative_to(SPEC) for top in COPIED for p in (SPEC / top).rglob("*") if p.is_file())
    assert len(upstream) > 100
    for relative in upstream:
        bundled = DATA_ROOT / relative
        assert bundled.is_file(), relative
        assert bundled.read_bytes() == (SPEC / relative).read_bytes(), relative
    bundled_files = sorted(
        p.relative_to(DATA_ROOT) for top in COPIED for p in (DATA_ROOT / top).rglob("*") if p.is_file()
    )
    assert bundled_files == upstream  # nothing added to or dropped from the upstream tree


def test_notice_carries_the_upstream_licence_and_commit() -> None:
    notice = (DATA_ROOT / "NOTICE").read_text(encoding="utf-8")
    assert "MIT License" in notice and "Copyright (c) 2026 India-Energy-Stack" in notice
    assert "e5fa8d5f06ffc74e533bfd5fdecb5754d7ef5c99" in notice
