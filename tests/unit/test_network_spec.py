"""Network specs: the shipped example loads; broken specs are refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from ies.errors import UsageError
from ies.sandbox.network import default_spec, load_spec

EXAMPLE = Path(__file__).parents[2] / "examples" / "network.toml"


def test_example_spec_loads() -> None:
    spec = load_spec(EXAMPLE)
    assert spec.registry.name == "registry"
    assert [n.name for n in spec.nodes] == ["registry", "cds", "consumer-app", "solar-coop", "discom-north"]
    assert spec.nodes[-1].roles == ("BPP", "DISCOM")


def test_default_spec_counts() -> None:
    spec = default_spec(baps=2, bpps=3)
    assert [n.name for n in spec.nodes][2:] == [
        "buyer-app-1",
        "buyer-app-2",
        "seller-app-1",
        "seller-app-2",
        "seller-app-3",
    ]
    with pytest.raises(UsageError):
        default_spec(baps=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[network]\n", "exactly one REGISTRY"),
        ('[[nodes]]\nname = "a"\nroles = ["WIZARD"]\n', "valid roles"),
        ('[[nodes]]\nname = "r"\nroles = ["REGISTRY"]\n[[nodes]]\nname = "r"\nroles = ["BAP"]\n', "twice"),
        ("[[nodes]\n", "network config"),
    ],
)
def test_broken_specs_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "n.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_spec(path)
    with pytest.raises(UsageError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")
