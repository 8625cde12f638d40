"""Shared helpers of the audit tests: build a log, run the `ies` CLI in process, raw-SQL snapshots."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ies.audit import append, publish_tree_head
from ies.cli.main import app

SEED = bytes(range(32))
AUDIT_TABLES = ("audit_entries", "audit_nodes", "audit_head", "audit_tree_heads")


def build_log(engine: Engine, n: int, *, sth_at: tuple[int, ...] = (), seed: bytes = SEED) -> None:
    """Append n entries of varied kinds, one transaction each, signing a tree head at the sizes given."""
    kinds = ["message.in", "message.out", "consent.transition", "policy.decision", "registry.change"]
    for i in range(n):
        with Session(engine) as session, session.begin():
            append(
                session,
                kinds[i % len(kinds)],
                f"actor-{i % 3}",
                f"subject-{i}",
                {"i": i, "tag": "x" * (i % 4)},
            )
            if i + 1 in sth_at:
                publish_tree_head(session, seed)


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def verify_json(db_url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out = run_cli("audit", "verify", "--db", db_url, "--json", *extra)
    start = out.index("{")
    report, _ = json.JSONDecoder().raw_decode(out[start:])
    return code, report


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {t: [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {t}"))] for t in AUDIT_TABLES}


def restore(engine: Engine, snap: dict[str, list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        for table in AUDIT_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
        for table in AUDIT_TABLES:
            rows = snap[table]
            if rows:
                cols = list(rows[0])
                conn.execute(
                    text(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
                    ),
                    rows,
                )
