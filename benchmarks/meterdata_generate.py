"""Generate a realistic MultiMeterBulkDataset with injected faults recorded in a side file.

    python benchmarks/meterdata_generate.py OUT.json --meters 1000 --days 7 --faults 50 [--seed 0]

Writes OUT.json (MeterData v0.6: one DESCRIPTOR, then per meter a CUSTOMER and a PT15M INTERVAL profile of
96 reads × D days, load- and rooftop-PV-shaped with noise) and OUT.faults.json listing every injected fault
with the element and interval id where a validator must report it and the rule id it must name. The logic
lives in `ies.meterdata.synth` (also used by the tests and by `ies meterdata generate`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ies.meterdata.synth import FAULT_KINDS, generate, write_faults


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--faults", type=int, default=0, help="faults to inject, one per meter")
    parser.add_argument("--kinds", nargs="*", choices=sorted(FAULT_KINDS), help="fault kinds (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    dataset = generate(
        args.out, meters=args.meters, days=args.days, faults=args.faults, seed=args.seed, kinds=args.kinds
    )
    faults_path = args.out.with_suffix(".faults.json")
    write_faults(faults_path, dataset)
    print(
        f"{args.out}: {dataset.meters} meters × {dataset.days} days, {dataset.intervals} interval rows, "
        f"{dataset.readings} readings, {args.out.stat().st_size / 1e6:.1f} MB, {len(dataset.faults)} faults "
        f"→ {faults_path} ({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
