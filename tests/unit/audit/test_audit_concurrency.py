"""Two OS processes appending to the same database at once keep the sequence gapless and the chain linear."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from ies.audit import AuditLog
from ies.audit._verify import check_log

WORKER = r"""
import pathlib, sys, time
from sqlalchemy.orm import Session
from ies.audit import append
from ies.store import open_engine

url, tag, count, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), pathlib.Path(sys.argv[4])
engine = open_engine(url)
(gate / f"{tag}.ready").touch()
while not (gate / "go").exists():        # start together, whatever the imports cost under load
    time.sleep(0.001)
n = 0
for i in range(count):
    with Session(engine) as session:
        session.begin()
        lines = 1 + i % 3                       # transactions of 1, 2 and 3 audit lines
        for _ in range(lines):
            append(session, "message.in", tag, f"{tag}-{n}", {"n": n, "tag": tag})
            n += 1
        time.sleep(0.002)                       # hold the lock a moment: the other process must wait
        if i % 7 == 6:                          # and some actions that roll back with their lines
            session.rollback()
            n -= lines
        else:
            session.commit()
    time.sleep(0.003)                           # and leave a gap (SQLite's lock is not fair)
print(n)
"""

COUNT = 40


def test_two_processes_appending_at_once(engine: Engine, db_url: str, tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, tag, str(COUNT), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("alpha", "beta")
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"{t}.ready").exists() for t in ("alpha", "beta")):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "workers did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    committed = {}
    for tag, proc in zip(("alpha", "beta"), procs, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        committed[tag] = int(out.strip())

    log = AuditLog(engine)
    entries = list(log.entries())
    assert [e.seq for e in entries] == list(range(sum(committed.values())))
    for tag, n in committed.items():
        mine = [e.payload_json["n"] for e in entries if e.actor == tag]
        assert mine == list(range(n)), f"{tag}'s lines are all there, once, in its own order"
    # The two writers really interleaved (otherwise this test would prove nothing about locking).
    switches = sum(1 for a, b in itertools.pairwise(entries) if a.actor != b.actor)
    assert switches > 2
    report = check_log(engine)
    assert report.ok, report.findings.to_list()
    assert report.root_hash == log.head().root_hash
