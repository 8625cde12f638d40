"""The public namespace `ies.consent` resolves every name it lists, and nothing it does not."""

from __future__ import annotations

import pytest

import ies.consent


def test_every_exported_name_resolves() -> None:
    for name in ies.consent.__all__:
        assert getattr(ies.consent, name) is not None, name


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError):
        ies.consent.no_such_thing  # noqa: B018
