"""Helpers shared by CLI modules: console output and turning IESError into a message plus exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from ies.errors import IESError, to_exit_code

# Off a terminal (pipes, CI logs) rich would wrap tables at 80 columns; give them room instead.
console = Console() if sys.stdout.isatty() else Console(width=200)
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn an IESError raised inside a command into a one-line message and the mapped exit code."""
    try:
        yield
    except IESError as exc:
        err_console.print(f"[red]error[/red] [{exc.code}]: {exc.message}", highlight=False)
        raise typer.Exit(to_exit_code(exc)) from None


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with cli_errors():
            return fn(*args, **kwargs)

    return wrapper


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
