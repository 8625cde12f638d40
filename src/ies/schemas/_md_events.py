"""EVENT and ALARM profile rules: ids resolve in the registry's IS 15959 event and alarm tables, records
are in chronological order and inside the profile's period.

Why: an event id the registry does not know cannot be interpreted by the receiver (a tamper event read as
a power failure is worse than no event), and a record outside its period belongs to another report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._md_context import MeterDataContext, parse_instant, period_end

_TABLES = {
    "EVENT": ("events", "eventId", R.MD_EVENT_UNKNOWN),
    "ALARM": ("alarms", "alarmId", R.MD_ALARM_UNKNOWN),
}


def _period(profile: dict[str, Any]) -> tuple[dt.datetime, dt.datetime] | None:
    period = profile.get("timePeriod")
    if not isinstance(period, dict):
        return None
    start = parse_instant(period.get("start"))
    if start is None:
        return None
    end = period_end(start, period.get("duration"))
    return (start, end) if end is not None else None


def check_events(ctx: MeterDataContext, profile: dict[str, Any], p_idx: int, p_type: str) -> None:
    """Registry ids, chronological order and containment of EVENT/ALARM records."""
    if p_type not in _TABLES:
        return
    member, id_key, unknown_rule = _TABLES[p_type]
    known = ctx.registry.event_ids if p_type == "EVENT" else ctx.registry.alarm_ids
    window = _period(profile)
    last: dt.datetime | None = None
    records = profile.get(member)
    for i, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, dict):
            continue
        record_id = record.get(id_key)
        if isinstance(record_id, int) and str(record_id) not in known:
            ctx.add((p_idx, member, i, id_key), unknown_rule, f"{id_key} {record_id} is not in the registry")
        at = parse_instant(record.get("timestamp"))
        if at is None:
            continue
        if last is not None and at < last:
            ctx.add(
                (p_idx, member, i, "timestamp"),
                R.MD_TIMESTAMP_ORDER,
                f"{at.isoformat()} is before {last.isoformat()}",
            )
        if window is not None and not window[0] <= at < window[1]:
            ctx.add(
                (p_idx, member, i, "timestamp"),
                R.MD_TIMESTAMP_OUTSIDE_PERIOD,
                f"{at.isoformat()} is outside the profile period "
                f"{window[0].isoformat()} – {window[1].isoformat()}",
            )
        last = at if last is None else max(last, at)
