"""ArrFiling roll-up reconciliation: a line item with a `formula` equals the signed sum of the items it names.

Why warnings by default: the published example's roll-ups do not reconcile (all 25 upstream), yet the
schema is WIP and regulators file what they file; a reviewer wants to see the gaps without the filing being
refused. Under `strict` they become errors. Amounts are compared as Decimals with a rounding allowance of
half a unit in the last reported place per term.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._findings import Finding, json_pointer

_ITEM_ID = re.compile(r"[A-Za-z0-9_.\-]+")


def parse_formula(formula: str) -> list[tuple[int, str]] | None:
    """`a + b - c` → [(1, 'a'), (1, 'b'), (-1, 'c')]; None when it is not a signed sum of item ids."""
    parts = re.split(r"\s+([+-])\s+", formula.strip())
    if len(parts) % 2 == 0 or not parts[0]:
        return None
    terms: list[tuple[int, str]] = [(1, parts[0])]
    for sign, name in zip(parts[1::2], parts[2::2], strict=True):
        terms.append((1 if sign == "+" else -1, name))
    if any(not _ITEM_ID.fullmatch(name) for _, name in terms):
        return None
    return terms


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def arr_findings(doc: Any) -> list[Finding]:
    filings = doc if isinstance(doc, list) else [doc]
    out: list[Finding] = []
    for f_idx, filing in enumerate(filings):
        base: tuple[str | int, ...] = (f_idx,) if isinstance(doc, list) else ()
        for y_idx, year in enumerate((filing or {}).get("fiscalYears", []) or []):
            items = (year or {}).get("lineItems", []) or []
            by_id = {i.get("lineItemId"): i for i in items if isinstance(i, dict)}
            for i_idx, item in enumerate(items):
                formula = (item or {}).get("formula")
                if not isinstance(formula, str):
                    continue
                path = json_pointer((*base, "fiscalYears", y_idx, "lineItems", i_idx, "formula"))
                terms = parse_formula(formula)
                if terms is None or any(name not in by_id for _, name in terms):
                    missing = [n for _, n in terms or [] if n not in by_id]
                    out.append(
                        Finding(
                            path,
                            R.ARR_FORMULA_INVALID,
                            f"formula {formula!r} is not a sum of known items {missing}",
                            "warning",
                        )
                    )
                    continue
                declared = _decimal(item.get("amount"))
                if declared is None:
                    continue
                total = Decimal(0)
                places = _places(declared)
                for sign, name in terms:
                    amount = _decimal(by_id[name].get("amount")) or Decimal(0)
                    places = max(places, _places(amount))
                    total += sign * amount
                allowance = Decimal(len(terms) + 1) * Decimal(5) / Decimal(10 ** (places + 1))
                if abs(total - declared) > allowance:
                    out.append(
                        Finding(
                            path,
                            R.ARR_FORMULA_UNRECONCILED,
                            f"{item.get('lineItemId')} is {declared} but {formula} = {total} "
                            "(null amounts count as 0)",
                            "warning",
                        )
                    )
    return out
