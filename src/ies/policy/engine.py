"""Evaluating Rego with `regopy`: compile a verified bundle once, evaluate its entrypoints many times.

Measured on this project's entitlement policy (benchmarks/policy_bench.py, same run, same machine): asking
an `Interpreter` to `query("data.…")` re-plans the query on every call; `build()` once and then
`query_bundle_entrypoint` runs the stored plan, about 20x faster; passing the input as a Python object
(`set_input`) beats a JSON term (`set_input_term`) by about 1.5x. That is the path used here. Even so one
evaluation costs about 0.5 ms (a plain-Python reading of the same table is ~100x faster).

Why a decision cache as well: an entitlement is a pure function of a handful of discrete facts (roles,
taxonomy class, criticality, purpose, …) and of the bundle, so the answer for the same facts under the
same bundle hash never changes. `evaluate_cached` keeps a bounded map from those facts to the answer;
the key includes nothing else, so a cached answer is exactly what Rego would say. A bundle may only use
this for rules that read no clock and no external data (the entitlement and IT/OT rules shipped here
do not).

One interpreter per compiled bundle, used under a lock: rego-cpp interpreters are not documented as
thread-safe, and a FastAPI node calls the decision point from its worker threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import regopy

from ies.policy.errors import BundleCompileFailed, PolicyEvaluationFailed
from ies.policy.manifest import DATA_FILE, BundleRef
from ies.policy.verify import VerifiedBundle

__all__ = ["CompiledPolicy", "compile_modules", "query_to_entrypoint"]

DEFAULT_CACHE_SIZE = 65_536
_COMPILE_LOCK = threading.Lock()
_ERRORMSG = re.compile(r"\(errormsg \d+:([^)]*)\)")
_ERRORLOC = re.compile(r"\(error \d+:([^|\s]+)\|(\d+)\|")


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """rego-cpp prints compile errors on the process's stdout; keep them off our own output (the error
    is raised with the same text). Redirection is process-wide, so it is held only while compiling."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _compile_error(exc: Exception) -> BundleCompileFailed:
    text = str(exc)
    messages = _ERRORMSG.findall(text) or [text.strip().splitlines()[0] if text.strip() else "error"]
    where = _ERRORLOC.search(text)
    location = f" in {where.group(1)}" if where else ""
    return BundleCompileFailed(
        f"the policy does not compile{location}: {'; '.join(m.strip() for m in messages[:3])}",
        details={"file": where.group(1)} if where else {},
    )


def compile_modules(files: dict[str, bytes], entrypoints: list[str]) -> regopy.Bundle:
    """Compile the `.rego` modules and data.json of a bundle into a regopy Bundle with these entrypoints."""
    with _COMPILE_LOCK, _quiet_stdout():
        interpreter = regopy.Interpreter()
        try:
            for path in sorted(files):
                if path.endswith(".rego"):
                    interpreter.add_module(path, files[path].decode("utf-8"))
            if DATA_FILE in files:
                interpreter.add_data_json(files[DATA_FILE].decode("utf-8"))
            compiled = interpreter.build(None, list(entrypoints))
        except (regopy.RegoError, UnicodeDecodeError) as exc:
            raise _compile_error(exc) from None
    if not compiled.ok():
        raise BundleCompileFailed("the policy does not compile")
    return compiled


def query_to_entrypoint(query: str) -> str | None:
    """`data.ies.access.decision` → `ies/access/decision` (None when the query is not a plain path)."""
    match = re.fullmatch(r"data((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", query.strip())
    return match.group(1)[1:].replace(".", "/") if match else None


class CompiledPolicy:
    """A verified bundle, compiled; `ref` is what every decision made with it records."""

    def __init__(self, bundle: VerifiedBundle, *, cache_size: int = DEFAULT_CACHE_SIZE):
        self.bundle = bundle
        self.ref: BundleRef = bundle.ref
        self.manifest = bundle.manifest
        self.entrypoints = frozenset(bundle.manifest.entrypoints)
        self._compiled = compile_modules(bundle.files, list(bundle.manifest.entrypoints))
        self._runner = regopy.Interpreter()
        self._lock = threading.Lock()
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._cache_size = cache_size

    def __repr__(self) -> str:
        return f"CompiledPolicy({self.ref.name} {self.ref.version} {self.ref.hash[:12]})"

    def evaluate(self, entrypoint: str, input_doc: dict[str, Any]) -> Any:
        """Run a compiled entrypoint (`pkg/path/rule`); None when the rule is undefined for this input."""
        if entrypoint not in self.entrypoints:
            raise PolicyEvaluationFailed(
                f"{entrypoint!r} is not an entrypoint of bundle {self.ref.name} {self.ref.version}"
            )
        with self._lock:
            try:
                self._runner.set_input(input_doc)
                output = self._runner.query_bundle_entrypoint(self._compiled, entrypoint)
            except regopy.RegoError as exc:
                raise PolicyEvaluationFailed(f"evaluating {entrypoint}: {str(exc)[:200]}") from None
            return _value(output, entrypoint)

    def evaluate_cached(
        self, entrypoint: str, key: Hashable, input_doc: dict[str, Any] | Callable[[], dict[str, Any]]
    ) -> Any:
        """`evaluate`, memoised on `key`, which must determine the input entirely (see module doc); the
        input may be given as a function, so a cache hit never builds it."""
        cache_key = (entrypoint, key)
        hit = self._cache.get(cache_key, _MISS)
        if hit is not _MISS:
            return hit
        value = self.evaluate(entrypoint, input_doc if isinstance(input_doc, dict) else input_doc())
        with self._lock:
            self._cache[cache_key] = value
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return value

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def query(self, query: str, input_doc: dict[str, Any] | None = None) -> Any:
        """Any Rego query (`data.x.y`, or an expression) against this bundle; compiled entrypoints take
        the fast path, anything else is planned per call (for the CLI and for exploration)."""
        entrypoint = query_to_entrypoint(query)
        if entrypoint in self.entrypoints:
            return self.evaluate(entrypoint, input_doc or {})
        # A fresh interpreter per ad-hoc query: rego-cpp 1.5 answers a query that fails to parse with the
        # previous query's result when the interpreter is reused, which would fail open.
        with _COMPILE_LOCK, _quiet_stdout():
            try:
                adhoc = regopy.Interpreter()
                for path, source in self.bundle.modules.items():
                    adhoc.add_module(path, source)
                adhoc.add_data_json(self.bundle.files[DATA_FILE].decode("utf-8"))
                adhoc.set_input(input_doc or {})
                output = adhoc.query(query)
            except regopy.RegoError as exc:
                raise PolicyEvaluationFailed(
                    f"query {query!r} failed: {_compile_error(exc).message}"
                ) from None
            return _value(output, query)


_MISS = object()


def _value(output: regopy.Output, what: str) -> Any:
    if not output.ok():
        raise PolicyEvaluationFailed(f"evaluating {what}: {str(output)[:200]}")
    if len(output) == 0:
        return None
    result = output[0]
    if result.bindings and not result.expressions:
        return dict(result.bindings)
    if not result.expressions:
        return None
    if len(result.expressions) == 1 and not result.bindings:
        return result.expressions[0]
    return json.loads(str(result))
