"""The demo's report: figures, the seed §12.6.2 metrics, CSV files, per-participant statements, a chart.

Money is summed in integer paise and printed in INR only at the end. The bill impact comes from
the DISCOMs' own bills (`GET /p2p/discom/bills`): per prosumer, what the day costs with its trades (the
DISCOM bill, which excludes traded volume and includes the P2P charges, less what it settled with other
parties) against the bill the DISCOM states for the same meter data without any trade; every bill is
also reconciled with the settlement statements to the paisa.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from ies.usecases.p2p.demo import DemoResult, money_by_role
from ies.usecases.p2p.market import TradeSettlement, settlement_statement, statement_csv
from ies.usecases.p2p.settle import record_from_blocks, settle

__all__ = ["build_report", "write_outputs"]


def _inr(paise: int) -> str:
    sign = "-" if paise < 0 else ""
    return f"{sign}₹{abs(paise) // 100:,}.{abs(paise) % 100:02d}"


def _settlements(result: DemoResult) -> list[TradeSettlement]:
    tariffs = {u: c.for_discom(u) for u, c in result.charges.items()}
    out: list[TradeSettlement] = []
    for trades in result.ledgers.values():
        for t in trades:
            if t["status"] != "COMPLETE" or t["seller"]["utility"] not in tariffs:
                continue
            if any(b["final_alloc_wh"] is None for b in t["blocks"]):
                continue
            if result.ledgers and t["contract_id"] in {s.trade_id for s in out}:
                continue
            record = record_from_blocks(
                t["contract_id"],
                buyer_id=t["buyer"]["id"],
                seller_id=t["seller"]["id"],
                buyer_utility=t["buyer"]["utility"],
                seller_utility=t["seller"]["utility"],
                blocks=t["blocks"],
            )
            out.append(settle(record, tariffs))
    return out


def bill_impacts(result: DemoResult) -> list[dict[str, Any]]:
    """Per prosumer, from its DISCOM's bill: what the day cost with P2P (the bill, which excludes traded
    energy and includes the P2P charges, less what it settled with other parties) against the bill the
    DISCOM states for the same meter data without any trade."""
    by_meter = {b["meter_id"]: b for bills in result.bills.values() for b in bills}
    rows = []
    for p in result.prosumers:
        bill = by_meter.get(p.meter_id)
        if bill is None or "error" in bill:
            continue
        cost = bill["total_paise"] - bill["settled_with_others_paise"]
        rows.append(
            {
                "participant_id": p.participant_id,
                "utility": bill["utility_id"],
                "platform": p.platform,
                "has_solar": bool(p.solar_w),
                "trades": len(bill["trades"]),
                "discom_bill_paise": bill["total_paise"],
                "settled_with_others_paise": bill["settled_with_others_paise"],
                "bill_without_p2p_paise": bill["without_p2p_total_paise"],
                "cost_with_p2p_paise": cost,
                "impact_paise": cost - bill["without_p2p_total_paise"],
            }
        )
    return rows


def reconcile_bills(result: DemoResult, settlements: list[TradeSettlement]) -> dict[str, Any]:
    """Check every DISCOM bill against the settlement statements, to the paisa: each charge line equals
    what the statements say the customer paid that DISCOM for that kind, the traded Wh equal the
    statements' energy bought and sold, and the rest of the statement is what was settled with others."""
    problems: list[str] = []
    checked = 0
    for utility, bills in result.bills.items():
        for bill in bills:
            if "error" in bill:
                problems.append(f"{bill['meter_id']}: {bill['error'].get('message')}")
                continue
            participant = bill["participant_id"]
            rows = settlement_statement(participant, settlements)
            owed: dict[str, int] = defaultdict(int)
            others = 0
            for r in rows:
                if r.counterparty_id == utility:
                    owed[r.kind] -= r.amount_paise
                else:
                    others += r.amount_paise
            energy = [f for s in settlements for f in s.flows if f.kind.value == "ENERGY"]
            # by direction, not by the sign of the amount: a few Wh can be worth 0 paise
            bought = sum(f.energy_wh for f in energy if f.payer_id == participant)
            sold = sum(f.energy_wh for f in energy if f.payee_id == participant)
            lines = {
                line["kind"]: line["amount_paise"]
                for line in bill["lines"]
                if line["kind"] not in ("IMPORT", "EXPORT_CREDIT", "FIXED")
            }
            checked += 1
            if (
                lines != {k: v for k, v in owed.items() if v or k in lines}
                or (bill["traded_import_wh"], bill["traded_export_wh"]) != (bought, sold)
                or bill["settled_with_others_paise"] != others
            ):
                problems.append(f"{bill['meter_id']}: the bill does not reconcile with the statements")
    return {"bills": checked, "reconciled": checked - len(problems), "problems": problems[:20]}


def build_report(result: DemoResult) -> dict[str, Any]:
    settlements = _settlements(result)
    trades = {
        t["contract_id"]: t
        for ts in result.platforms.values()
        for t in ts
        if t["status"] in ("ACTIVE", "COMPLETE")
    }
    contracted = sum(b["requested_wh"] for t in trades.values() for b in t["blocks"])
    delivered = sum(b["final_alloc_wh"] or 0 for t in trades.values() for b in t["blocks"])
    money = money_by_role(result.platforms)
    deviations = {k: v for k, v in money.items() if "UNDER_" in k and v > 0}
    metered = {m for per in result.readings.values() for m in per}
    with_ids = sum(
        1 for t in trades.values() if t["seller"]["meter"] in metered and t["buyer"]["meter"] in metered
    )
    audit_ok = sum(1 for a in result.audit.values() if a.get("ok"))
    impacts = bill_impacts(result)
    adjustments: dict[str, int] = defaultdict(int)
    for t in trades.values():
        for adjustment in t.get("adjustments") or []:
            for line in adjustment["lines"]:
                adjustments[f"{line['role']}:{line['kind']}"] += int(line["valuePaise"])
    elapsed = result.timings.get("trading_s", 0.0)
    clearings = [c for run in result.trade_runs.values() for c in run.get("clearings") or []]
    prices = [c["price_paise_per_kwh"] for c in clearings]
    return {
        "day": result.day.isoformat(),
        "market": result.market,
        "auction": {
            "blocks_cleared": len(clearings),
            "cleared_kwh": round(sum(c["volume_wh"] for c in clearings) / 1000, 3),
            "clearing_price_paise_per_kwh": {"min": min(prices), "max": max(prices)} if prices else {},
        },
        "aggregator": {
            "prosumers": sum(1 for p in result.prosumers if p.aggregator),
            "trades": sum(1 for t in trades.values() if any((t.get("aggregators") or {}).values())),
        },
        "prosumers": len(result.prosumers),
        "trades": len(trades),
        "contracted_kwh": round(contracted / 1000, 3),
        "delivered_kwh": round(delivered / 1000, 3),
        "trades_per_s": round(len(trades) / elapsed, 2) if elapsed else 0.0,
        "money_by_role_paise": money,
        "deviations_paise": deviations,
        "refusals_by_rule": result.refusals,
        "rounds": result.rounds,
        "checks": result.checks.to_dict(),
        "disputes": result.disputes,
        "bills": reconcile_bills(result, settlements),
        "true_ups": {
            "trades_adjusted": sum(1 for t in trades.values() if t.get("adjustments")),
            "adjustments_paise": dict(sorted(adjustments.items())),
        },
        "curtailed_kwh": round(
            sum(b.get("curtailed_wh") or 0 for t in trades.values() for b in t["blocks"]) / 1000, 3
        ),
        "metrics": {
            "share_of_transactions_with_ies_identifiers": round(with_ids / len(trades), 4) if trades else 0.0,
            "audit_pass_rate": round(audit_ok / len(result.audit), 4) if result.audit else 0.0,
            "mean_net_bill_impact_paise": round(sum(r["impact_paise"] for r in impacts) / len(impacts))
            if impacts
            else 0,
            "prosumers_better_off": sum(1 for r in impacts if r["impact_paise"] < 0),
            "prosumers_worse_off": sum(1 for r in impacts if r["impact_paise"] > 0),
        },
        "timings_s": {k: round(v, 2) for k, v in result.timings.items()},
        "_impacts": impacts,
        "_settlements": settlements,
    }


def render_text(report: dict[str, Any]) -> list[str]:
    m = report["metrics"]
    lines = [
        f"P2P demo, {report['day']}: {report['prosumers']} prosumers, {report['trades']} trades, "
        f"{report['contracted_kwh']} kWh contracted, {report['delivered_kwh']} kWh delivered (FINAL_ALLOC)",
        f"end-to-end contracting: {report['trades_per_s']} trades/s ({report['market']} market)",
        *(
            [
                f"local exchange: {report['auction']['blocks_cleared']} (DISCOM, block) auctions cleared "
                f"{report['auction']['cleared_kwh']} kWh at uniform prices "
                f"{report['auction']['clearing_price_paise_per_kwh'].get('min')}–"
                f"{report['auction']['clearing_price_paise_per_kwh'].get('max')} paise/kWh"
            ]
            if report["auction"]["blocks_cleared"]
            else []
        ),
        f"aggregator: {report['aggregator']['prosumers']} prosumers enrolled and traded for by agg-1, "
        f"{report['aggregator']['trades']} of their trades",
        f"ex-post curtailment: {report['curtailed_kwh']} kWh",
        "money by role and flow (net, + received):",
        *[f"  {k:<40} {_inr(v):>14}" for k, v in report["money_by_role_paise"].items()],
        "deviations settled at DISCOM rates:",
        *([f"  {k:<40} {_inr(v):>14}" for k, v in report["deviations_paise"].items()] or ["  none"]),
        "refusals by rule:",
        *([f"  {k:<40} {v:>6}" for k, v in report["refusals_by_rule"].items()] or ["  none"]),
        "allocation rounds:",
        *[
            f"  {r['ledger']:<12} {r['kind']:<12} trades {r['trades']:>5}  changed {r['changed']:>5}  "
            f"blocks without data {r['blocks_missing']:>4}  settled {r['settled']:>5}"
            for r in report["rounds"]
        ],
        "checks: " + ", ".join(f"{k} {v}" for k, v in report["checks"].items() if k != "problems"),
        *[f"  problem: {p}" for p in report["checks"]["problems"][:10]],
        f"true-ups: {report['true_ups']['trades_adjusted']} trade(s) re-settled with explicit "
        "adjustment lines",
        *[f"  {k:<40} {_inr(v):>14}" for k, v in report["true_ups"]["adjustments_paise"].items()],
        f"DISCOM bills: {report['bills']['reconciled']} of {report['bills']['bills']} reconcile with the "
        "settlement statements to the paisa",
        *[f"  problem: {p}" for p in report["bills"]["problems"][:5]],
        f"dispute evidence: {report['disputes'].get('consistent', 0)} of "
        f"{report['disputes'].get('checked', 0)} "
        "sampled trades recomputed independently and consistent",
        *[f"  finding: {f}" for f in report["disputes"].get("findings", [])[:5]],
        "seed §12.6.2 metrics:",
        f"  transactions with IES identifiers  {m['share_of_transactions_with_ies_identifiers']:.1%}",
        f"  audit pass rate                    {m['audit_pass_rate']:.1%}",
        f"  mean net bill impact per prosumer  {_inr(m['mean_net_bill_impact_paise'])} "
        f"({m['prosumers_better_off']} better off, {m['prosumers_worse_off']} worse off)",
    ]
    return lines


def write_outputs(report: dict[str, Any], result: DemoResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    trades = {t["contract_id"]: t for ts in result.ledgers.values() for t in ts}
    path = out / "trades.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "contract_id",
                "status",
                "seller",
                "seller_utility",
                "buyer",
                "buyer_utility",
                "blocks",
                "contracted_wh",
                "final_alloc_wh",
                "net_paise_seller",
                "policy",
                "policy_version",
                "policy_hash",
                "market",
                "aggregator",
                "curtailed_wh",
                "settlement_version",
            ]
        )
        for cid, t in sorted(trades.items()):
            seller_net = sum(
                int(f["valuePaise"]) for f in t["revenue_flows"] if f["role"] == "sellerPlatform"
            )
            w.writerow(
                [
                    cid,
                    t["status"],
                    t["seller"]["id"],
                    t["seller"]["utility"],
                    t["buyer"]["id"],
                    t["buyer"]["utility"],
                    len(t["blocks"]),
                    sum(b["requested_wh"] for b in t["blocks"]),
                    sum(b["final_alloc_wh"] or 0 for b in t["blocks"]),
                    seller_net,
                    t["policy"]["name"],
                    t["policy"]["version"],
                    t["policy"]["hash"],
                    t.get("market", ""),
                    "/".join(a for a in (t.get("aggregators") or {}).values() if a),
                    sum(b.get("curtailed_wh") or 0 for b in t["blocks"]),
                    t.get("settlement_version", 0),
                ]
            )
    written.append(path)
    path = out / "bill_impact.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        rows = report["_impacts"]
        w2 = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["participant_id"])
        w2.writeheader()
        w2.writerows(rows)
    written.append(path)
    statements = out / "statements"
    statements.mkdir(exist_ok=True)
    everyone = sorted(
        {f.payer_id for s in report["_settlements"] for f in s.flows}
        | {f.payee_id for s in report["_settlements"] for f in s.flows}
    )
    for participant in everyone:
        rows_ = settlement_statement(participant, report["_settlements"])
        (statements / f"{participant}.csv").write_text(statement_csv(rows_), "utf-8")
        (statements / f"{participant}.json").write_text(
            json.dumps(
                {
                    "participant": participant,
                    "total_paise": sum(r.amount_paise for r in rows_),
                    "rows": [r.as_dict() for r in rows_],
                },
                indent=1,
            ),
            "utf-8",
        )
    written.append(statements)
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    path = out / "report.json"
    path.write_text(json.dumps(public, indent=2, default=str), "utf-8")
    written.append(path)
    written.append(_chart(result, report, out / "p2p_day.png"))
    return written


def _chart(result: DemoResult, report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ies.usecases.p2p.market import blocks_of_day

    blocks = list(blocks_of_day(result.day))
    contracted: dict[int, int] = defaultdict(int)
    delivered: dict[int, int] = defaultdict(int)
    prices: dict[int, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for trades in result.ledgers.values():
        for t in trades:
            if t["contract_id"] in seen or t["status"] not in ("ACTIVE", "COMPLETE"):
                continue
            seen.add(t["contract_id"])
            for b in t["blocks"]:
                contracted[b["block"]] += b["requested_wh"]
                delivered[b["block"]] += b["final_alloc_wh"] or 0
                prices[b["block"]].append(b["price_paise_per_kwh"])
    hours = [(i + 0.5) / 4 for i in range(len(blocks))]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7.5))
    ax1.bar(
        hours, [contracted[b] / 1000 for b in blocks], width=0.24, label="contracted (kWh)", color="#9ecae1"
    )
    ax1.bar(
        hours, [delivered[b] / 1000 for b in blocks], width=0.12, label="FINAL_ALLOC (kWh)", color="#3182bd"
    )
    ax1.set_xlim(0, 24)
    ax1.set_xlabel("hour of day (IST)")
    ax1.set_ylabel("energy per 15-minute block (kWh)")
    ax1.set_title(
        f"P2P trades on {result.day.isoformat()}: {report['trades']} contracts, "
        f"{report['prosumers']} prosumers"
    )
    twin = ax1.twinx()
    mean_price = [sum(prices[b]) / len(prices[b]) / 100 if prices[b] else None for b in blocks]
    twin.plot(
        [h for h, p in zip(hours, mean_price, strict=True) if p],
        [p for p in mean_price if p],
        color="#e6550d",
        label="mean agreed price (₹/kWh)",
    )
    twin.set_ylabel("₹/kWh")
    ax1.legend(loc="upper left")
    twin.legend(loc="upper right")
    impacts = [r["impact_paise"] / 100 for r in report["_impacts"] if r["trades"]]
    ax2.hist(impacts, bins=30, color="#31a354")
    ax2.axvline(0, color="black", linewidth=0.8)
    ax2.set_xlabel("net bill impact of the day's P2P trades per trading prosumer (₹, negative = saves)")
    ax2.set_ylabel("prosumers")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
