"""Audit-log benchmarks (prints figures; run with `.venv/bin/python benchmarks/audit_bench.py`).

For logs of 10^4, 10^5 and 10^6 entries (SQLite by default, `--db-url` for PostgreSQL):

1. Appends per second through `ies.audit.append` (hash chain + RFC 9162 tree + head row lock), one
   transaction per append as the exchange layer does, all in one transaction, and through `append_many`
   (one lock and one head update for the whole batch), next to a baseline measured
   in the same run on the same database: inserting the same rows into a plain table with the same columns
   (no chain, no tree, no lock). The ratio is the cost of tamper evidence; it staying flat as the log grows
   100-fold is the O(log n) claim. The raw SHA-256 rate of the same entries is printed for scale.
2. Proof sizes (hashes and bytes) of inclusion and consistency proofs, and the time to build one from the
   stored nodes, as a ratio to a single primary-key read of one entry in the same run.

The log is pre-filled with a bulk loader that writes exactly the rows `append` would write (same entry
hashes, nodes and head; checked against `AuditLog.root` below), because appending 10^6 entries one by one
would take most of an hour and measure nothing new.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from ies.audit import AuditLog, append, append_many, check_log
from ies.audit._entry import GENESIS_PREV_HASH, canonical_payload, entry_hash
from ies.audit._merkle import frontier_append, frontier_root, leaf_hash
from ies.audit.tables import AuditEntryRow, AuditHeadRow, AuditNodeRow
from ies.store import migrate, open_engine, sqlite_url_for

T0 = "2026-11-26T00:00:00.000000Z"


def _payload(i: int) -> dict[str, object]:
    return {
        "action": "on_select",
        "messageId": f"2f9b8c1e-5d7a-4c4e-8f11-{i:012d}",
        "transactionId": "5b2f8a46-7d55-4f53-9ad7-1f3f8b3f1c55",
        "outcome": "ACK",
        "digest": hashlib.sha256(str(i).encode()).hexdigest(),
    }


def prefill(engine: Engine, n: int, chunk: int = 20_000) -> None:
    """Write the rows `append` would write for n entries, in bulk."""
    frontier: list[bytes] = []
    prev = GENESIS_PREV_HASH
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []

    def flush(conn: Connection) -> None:
        if entries:
            conn.execute(insert(AuditEntryRow), entries)
            conn.execute(insert(AuditNodeRow), nodes)
        entries.clear()
        nodes.clear()

    with engine.begin() as conn:
        for i in range(n):
            payload = canonical_payload(_payload(i))
            digest = entry_hash(i, T0, "message.in", "bap.example", f"m{i}", payload, prev)
            entries.append(
                {
                    "seq": i,
                    "recorded_at": T0,
                    "kind": "message.in",
                    "actor": "bap.example",
                    "subject": f"m{i}",
                    "payload": payload,
                    "prev_hash": prev,
                    "entry_hash": digest,
                }
            )
            for level, idx, h in frontier_append(frontier, i, leaf_hash(bytes.fromhex(digest))):
                nodes.append({"level": level, "idx": idx, "hash": h})
            prev = digest
            if len(entries) >= chunk:
                flush(conn)
        flush(conn)
        conn.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == 1)
            .values(
                tree_size=n,
                last_entry_hash=prev,
                frontier=b"".join(frontier),
                root_hash=frontier_root(frontier),
            )
        )


PLAIN = Table(
    "bench_plain_entries",
    MetaData(),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("recorded_at", String(27)),
    Column("kind", String(64)),
    Column("actor", String(255)),
    Column("subject", String(512)),
    Column("payload", Text),
)


def _rate(count: int, fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def bench_appends(engine: Engine, n: int, k: int) -> dict[str, float]:
    PLAIN.drop(engine, checkfirst=True)
    PLAIN.create(engine)

    def audit_each() -> None:
        for j in range(k):
            with Session(engine) as session, session.begin():
                append(session, "message.in", "bap.example", f"x{j}", _payload(n + j))

    def plain_each() -> None:
        for j in range(k):
            with engine.begin() as conn:
                conn.execute(insert(PLAIN), [_plain_row(n + j)])

    def audit_batch() -> None:
        with Session(engine) as session, session.begin():
            for j in range(k):
                append(session, "message.in", "bap.example", f"y{j}", _payload(n + k + j))

    def audit_many() -> None:
        records = [("message.in", "bap.example", f"z{j}", _payload(n + 2 * k + j)) for j in range(k)]
        with Session(engine) as session, session.begin():
            append_many(session, records)

    def plain_batch() -> None:
        with engine.begin() as conn:
            for j in range(k):
                conn.execute(insert(PLAIN), [_plain_row(n + k + j)])

    def raw_sha() -> None:
        for j in range(k):
            hashlib.sha256(canonical_payload(_payload(n + j)).encode()).digest()

    out = {
        "audit_each": _rate(k, audit_each),
        "plain_each": _rate(k, plain_each),
        "audit_batch": _rate(k, audit_batch),
        "plain_batch": _rate(k, plain_batch),
        "audit_many": _rate(k, audit_many),
        "raw_sha256": _rate(k, raw_sha),
    }
    PLAIN.drop(engine)
    return out


def _plain_row(i: int) -> dict[str, object]:
    return {
        "seq": i,
        "recorded_at": T0,
        "kind": "message.in",
        "actor": "bap.example",
        "subject": f"m{i}",
        "payload": canonical_payload(_payload(i)),
    }


def bench_proofs(engine: Engine, samples: int) -> dict[str, float]:
    log = AuditLog(engine)
    size = log.size()
    rng = random.Random(7)
    seqs = [rng.randrange(size) for _ in range(samples)]
    firsts = [rng.randrange(1, size) for _ in range(samples)]
    start = time.perf_counter()
    inclusion = [log.inclusion_proof(s, size) for s in seqs]
    t_inclusion = (time.perf_counter() - start) / samples
    start = time.perf_counter()
    consistency = [log.consistency_proof(m, size) for m in firsts]
    t_consistency = (time.perf_counter() - start) / samples
    start = time.perf_counter()
    with Session(engine) as session:
        for s in seqs:
            session.execute(select(AuditEntryRow.entry_hash).where(AuditEntryRow.seq == s)).one()
    t_read = (time.perf_counter() - start) / samples
    root = log.head().root_hash
    for p in inclusion[:50]:
        p.verify(root)
    return {
        "inclusion_max": max(len(p.path) for p in inclusion),
        "inclusion_mean": statistics.mean(len(p.path) for p in inclusion),
        "consistency_max": max(len(p.path) for p in consistency),
        "consistency_mean": statistics.mean(len(p.path) for p in consistency),
        "t_inclusion_ms": t_inclusion * 1e3,
        "t_consistency_ms": t_consistency * 1e3,
        "t_read_ms": t_read * 1e3,
    }


def bench_verify(engine: Engine) -> dict[str, float]:
    """`check_log` over the whole log, next to the floor any verifier pays: reading the rows and one SHA-256
    of each row's fields (no canonical JSON, no tree, no diff)."""
    start = time.perf_counter()
    report = check_log(engine)
    t_verify = time.perf_counter() - start
    assert report.ok, report.findings.to_list()[:3]
    start = time.perf_counter()
    with engine.connect() as conn:
        for row in conn.execute(select(AuditEntryRow.__table__)):
            hashlib.sha256("|".join(str(v) for v in row).encode()).digest()
    t_floor = time.perf_counter() - start
    return {"verify_per_s": report.entries / t_verify, "floor_per_s": report.entries / t_floor}


def run(sizes: list[int], k: int, samples: int, db_url: str | None) -> None:
    backend = db_url or "SQLite (temp file)"
    print(f"appends measured: {k} per mode; proofs sampled: {samples}; backend: {backend}")
    each, batch = "one transaction per append", "one transaction for all"
    print(f"{'':>9} | {each:^26} | {batch:^41} |")
    cols = f"{'audit/s':>8} {'plain/s':>8} {'ratio':>6}"
    proofs = f"{'incl':>9} {'cons':>9} {'bytes':>5} | {'incl ms':>7} {'cons ms':>7} {'x read':>6}"
    print(f"{'entries':>9} | {cols} | {cols} {'many/s':>7} {'ratio':>6} | {'sha256/s':>9} | {proofs}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            engine = open_engine(db_url or sqlite_url_for(Path(tmp) / "bench.db"))
            if db_url:
                _reset_postgres(engine)
            migrate(engine)
            t = time.perf_counter()
            prefill(engine, n)
            fill_s = time.perf_counter() - t
            log = AuditLog(engine)
            assert log.root(n) == log.head().root_hash  # bulk rows are what append writes
            a = bench_appends(engine, n, k)
            p = bench_proofs(engine, samples)
            engine.dispose()
        r_each = a["audit_each"] / a["plain_each"]
        r_batch = a["audit_batch"] / a["plain_batch"]
        r_many = a["audit_many"] / a["plain_batch"]
        x_read = p["t_inclusion_ms"] / p["t_read_ms"]
        incl = f"{p['inclusion_max']:>3.0f}/{p['inclusion_mean']:>5.1f}"
        cons = f"{p['consistency_max']:>3.0f}/{p['consistency_mean']:>5.1f}"
        print(
            f"{n:>9} | {a['audit_each']:>8.0f} {a['plain_each']:>8.0f} {r_each:>6.2f} "
            f"| {a['audit_batch']:>8.0f} {a['plain_batch']:>8.0f} {r_batch:>6.2f} {a['audit_many']:>7.0f} "
            f"{r_many:>6.2f} | {a['raw_sha256']:>9.0f} "
            f"| {incl} {cons} {32 * p['inclusion_max']:>5.0f} "
            f"| {p['t_inclusion_ms']:>7.2f} {p['t_consistency_ms']:>7.2f} {x_read:>6.1f}"
            f"   (prefill {fill_s:.0f} s)",
            flush=True,
        )
    print(
        "ratio = audit appends/s ÷ plain inserts/s of the same rows (1.0 = free); many = append_many (one "
        "lock, one head update);\nincl/cons = proof length in hashes, max/mean; bytes = largest inclusion "
        "proof; x read = inclusion proof time ÷ one primary-key read of an entry."
    )


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        for t in ("audit_entries", "audit_nodes", "audit_tree_heads", "audit_head", "bench_plain_entries"):
            conn.execute(text(f"DROP TABLE IF EXISTS {t}"))
        if inspect(conn).has_table("alembic_version"):
            conn.execute(text("DELETE FROM alembic_version WHERE version_num LIKE 'audit%'"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated log sizes")
    parser.add_argument("--appends", type=int, default=2000, help="appends measured per mode and size")
    parser.add_argument("--samples", type=int, default=500, help="proofs sampled per size")
    parser.add_argument("--db-url", default=None, help="PostgreSQL URL (tables are dropped and recreated!)")
    parser.add_argument("--verify", action="store_true", help="measure `ies audit verify` throughput instead")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.verify:
        run_verify(sizes)
    else:
        run(sizes, args.appends, args.samples, args.db_url)


def run_verify(sizes: list[int]) -> None:
    print(f"{'entries':>9} | {'verified/s':>10} {'floor/s':>9} {'ratio':>6}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            engine = open_engine(sqlite_url_for(Path(tmp) / "bench.db"))
            migrate(engine)
            prefill(engine, n)
            v = bench_verify(engine)
            ratio = v["verify_per_s"] / v["floor_per_s"]
            print(f"{n:>9} | {v['verify_per_s']:>10.0f} {v['floor_per_s']:>9.0f} {ratio:>6.2f}", flush=True)
            engine.dispose()
    print("floor = read every row and SHA-256 its fields once; ratio = verify rate ÷ floor rate.")


if __name__ == "__main__":
    main()
