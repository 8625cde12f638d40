"""End-to-end throughput and peak memory of the streaming bulk meter-data validator, with baselines.

    python benchmarks/meterdata_bench.py [--sizes 1000000 10000000] [--days 7] [--upstream PATH]

For each size (readings = meters × 96 reads × days, prosumers count import and export) a realistic file is
generated (not timed), then each contender runs in its own child process on one core, from the JSON file
to a verdict (imports done before the clock starts), and reports time and peak resident memory:

- `ies`       : `ies.meterdata.bulk.validate_file` (schema + every semantic rule, per-meter report);
- `read`      : raw read of the file in 1 MiB chunks (the I/O floor);
- `json+loop` : `json.load` of the whole file and a Python loop over every interval doing the two cheapest
                checks (ids increasing, value = closing − opening) — the obvious baseline; skipped above
                `--naive-limit` readings because it holds the whole document in memory;
- `ijson`     : `ijson.items` (yajl2_c backend) streaming every profile, no checks — why we do not stream
                with ijson; skipped above `--naive-limit`;
- `upstream`  : the upstream reference validator (`schemas/MeterData/v0.6/validation/validator.py` of an
                ies-accelerator checkout, never vendored) run as `python PATH FILE` when `--upstream` names
                it; it loads the whole file, so it is skipped above `--naive-limit` too.

Throughput is readings per CPU-second of the child (user + system time, so a busy machine does not
distort the per-core figure; wall time is printed too) and its ratio to `ies` measured in the same run;
peak memory is shown per size so that flatness in N (meters) can be read off directly.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READS_PER_DAY = 96
PROSUMER_SHARE = 0.3


def _child(mode: str, path: Path) -> None:
    """Run one contender in this process and print {seconds, readings, maxrss_mb} as JSON."""
    from ies.meterdata.bulk import validate_file  # imported before the clock starts: a one-off cost

    started = time.perf_counter()
    cpu_started = time.process_time()
    readings = 0
    if mode == "ies":
        report = validate_file(path, progress=False)
        readings = report.readings
    elif mode == "read":
        with path.open("rb") as handle:
            while handle.read(1024 * 1024):
                pass
    elif mode == "json+loop":
        with path.open("rb") as handle:
            doc = json.load(handle)
        readings = _naive_checks(doc)
    elif mode == "ijson":
        import ijson

        with path.open("rb") as handle:
            for profile in ijson.items(handle, "item", use_float=True):
                readings += len(profile.get("intervals") or [])
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "readings": readings, "maxrss_mb": maxrss_mb}))


def _naive_checks(doc: list[dict[str, object]]) -> int:
    readings = 0
    for profile in doc:
        rows = profile.get("intervals")
        if not isinstance(rows, list):
            continue
        last = -1
        for row in rows:
            payloads = row["payloads"]
            if row["id"] <= last:
                pass
            last = row["id"]
            if len(payloads) == 3 and abs(payloads[0] - (payloads[2] - payloads[1])) > 1e-5:
                pass
            readings += 1 if len(payloads) != 2 else 2
    return readings


def _run(mode: str, path: Path, upstream: Path | None = None) -> dict[str, float]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if mode == "upstream":
        assert upstream is not None
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(upstream), str(path)], capture_output=True, env=env, check=False
        )
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
        print(
            f"  upstream exit code {done.returncode}: {done.stdout.decode(errors='replace')[-200:].strip()}"
        )
        return {"seconds": seconds, "cpu": cpu, "readings": 0, "maxrss_mb": usage.ru_maxrss / 1024}
    cmd = ["taskset", "-c", "0"] if _has_taskset() else []
    cmd += [sys.executable, __file__, "--child", mode, str(path)]
    child = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _has_taskset() -> bool:
    return subprocess.run(["which", "taskset"], capture_output=True, check=False).returncode == 0


def _meters_for(readings: int, days: int) -> int:
    per_meter = READS_PER_DAY * days * (1 + PROSUMER_SHARE)
    return max(1, round(readings / per_meter))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--naive-limit", type=int, default=2_000_000)
    parser.add_argument("--upstream", type=Path, help="path of the upstream reference validator script")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return
    from ies.meterdata.synth import generate

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ies-md-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, one core per contender; files in {workdir}"
    )
    print(
        f"{'readings':>10} {'meters':>7} {'MB':>6}  {'contender':<10} {'wall s':>7} {'cpu s':>7} "
        f"{'readings/cpu-s':>15} {'×ies':>6} {'peak MB':>8}"
    )
    for size in args.sizes:
        meters = _meters_for(size, args.days)
        path = workdir / f"bulk-{size}.json"
        dataset = generate(
            path, meters=meters, days=args.days, seed=size % 9973, prosumer_share=PROSUMER_SHARE
        )
        readings = dataset.readings
        mb = path.stat().st_size / 1e6
        contenders = ["ies", "read"]
        if readings <= args.naive_limit:
            contenders += ["json+loop", "ijson"]
        if args.upstream and readings <= args.naive_limit:
            contenders.append("upstream")
        results = {mode: _run(mode, path, args.upstream) for mode in contenders}
        ies_rate = readings / results["ies"]["cpu"]
        for mode, r in results.items():
            rate = readings / max(r["cpu"], 1e-9)
            print(
                f"{readings:>10} {meters:>7} {mb:>6.0f}  {mode:<10} {r['seconds']:>7.2f} {r['cpu']:>7.2f} "
                f"{rate:>15,.0f} {rate / ies_rate:>6.2f} {r['maxrss_mb']:>8.0f}"
            )
        path.unlink()


if __name__ == "__main__":
    main()
