"""The coverage registry: packages declare what they implement, coverage discovers and joins them."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from ies.errors import UsageError
from ies.usecases import declarations, declare_usecase
from ies.usecases.catalogue import coverage_report, load_catalogue

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("ref", "kwargs", "message"),
    [
        (51, {"module": "x", "status": "done"}, "status 'done'"),
        (51, {"module": ""}, "module=__name__ is required"),
        (True, {"module": "x"}, "ref must be"),
        (0, {"module": "x"}, "start at 1"),
        ("  ", {"module": "x"}, "ref is empty"),
    ],
)
def test_malformed_declarations_fail_at_once(ref: object, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        declare_usecase(ref, **kwargs)  # type: ignore[arg-type]


def _package(root: Path, name: str, subpackages: dict[str, str]) -> str:
    """Write package `name` with the given subpackage __init__ bodies; return its import name."""
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("raise RuntimeError('plain modules are not use-case packages')\n")
    for sub, body in subpackages.items():
        (pkg / sub).mkdir()
        (pkg / sub / "__init__.py").write_text(textwrap.dedent(body))
    return name


def test_coverage_discovers_declarations_and_reports_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"fake_usecases_{uuid.uuid4().hex[:8]}"
    header = "from ies.usecases import declare_usecase\n"
    _package(tmp_path, name, {
        "p2p": header + 'declare_usecase(51, module=__name__, status="partial", notes="export settlement")\n'
                        'declare_usecase("peer-to-peer-and-local-prosumer-trading-pilots",'
                        ' module=__name__)\n',
        "der": header + 'declare_usecase("DER integration and prosumer settlement", module=__name__)\n',
        "consent": header + 'declare_usecase(3, module=__name__, status="planned")\n',
        "silent": "VALUE = 1\n",
        "broken": "import does_not_exist_anywhere\n",
        "typo": header + 'declare_usecase("consent-sharing", module=__name__)\n',
        "extra": header + 'declare_usecase("tariff-simulator", module=__name__, status="partial",'
                          ' title="Tariff sim")\n',
        "_private": "raise RuntimeError('private packages are skipped')\n",
    })  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    report = coverage_report(CATALOGUE, package=name)

    rows = {r.id: r for r in report.rows}
    der = rows["der-integration-and-prosumer-settlement"]
    assert der.status == "implemented"  # the strongest of "partial" (p2p) and "implemented" (der)
    assert der.modules == [f"{name}.der", f"{name}.p2p"] and der.notes == ["export settlement"]
    assert rows["peer-to-peer-and-local-prosumer-trading-pilots"].status == "implemented"
    assert rows["consent-based-data-sharing"].status == "planned"
    assert rows["hvdc-corridor-operations"].status == "not implemented"
    assert [(a.id, a.name, a.status) for a in report.additions] == [
        ("tariff-simulator", "Tariff sim", "partial")
    ]
    assert report.counts() == {"implemented": 2, "partial": 0, "planned": 1, "not implemented": 63}
    problems = "\n".join(report.problems)
    assert f"package {name}.broken failed to import: ModuleNotFoundError" in problems
    assert f"package {name}.silent declares no use case" in problems
    assert f"{name}.typo declares unknown use case 'consent-sharing'" in problems
    assert len(report.problems) == 3
    assert f"{name}._private" not in report.packages and f"{name}.helpers" not in report.packages


def test_the_project_tree_is_consistent() -> None:
    """Every package under ies.usecases imports and declares only known use cases (guards the registry)."""
    report = coverage_report(CATALOGUE)
    assert report.problems == []
    assert "ies.usecases.catalogue" in report.packages
    prioritisation = next(a for a in report.additions if a.id == "usecase-prioritisation")
    assert prioritisation.status == "implemented" and prioritisation.modules == ["ies.usecases.catalogue"]
    assert len(report.rows) == 66
    assert any(d.module == "ies.usecases.catalogue" for d in declarations(under="ies.usecases"))
