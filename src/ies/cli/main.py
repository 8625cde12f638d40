"""Entry point of the `ies` console script.

Sub-commands are discovered: every public module of `ies.cli` exposes `register(app)`. Heavy imports
(pandas, pandapower, pyld) stay inside command bodies so `ies --help` is fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import ies
import ies.cli

app = typer.Typer(
    name="ies",
    help="India Energy Stack reference node, sandbox and conformance kit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ies {ies.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """India Energy Stack reference node, sandbox and conformance kit."""


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(ies.cli.__path__), key=lambda m: m.name):
        if info.name == "main" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"ies.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
