"""The default entitlement and IT/OT rules (Rego) against an independent Python reading of data.json.

The reference below re-implements the documented semantics of `access.rego`: most permissive grant across
the requester's role classes, open C0 data, custodian access, aggregated-only, IT/OT rules for C3 data,
purpose and consent. Hypothesis draws facts across the whole input domain; any divergence is either a bug
in the Rego or a change of semantics that the docs must follow.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.policy.engine import CompiledPolicy
from ies.policy.sources import DEFAULT_BUNDLE_DIR

POLICY = json.loads((DEFAULT_BUNDLE_DIR / "data.json").read_text())["ies"]["policy"]
RANK = {"deny": 0, "allow_aggregated": 1, "allow": 2}
ROLES = [
    "REGULATOR",
    "RESEARCHER",
    "DISCOM",
    "SYSTEM_OPERATOR",
    "AGGREGATOR",
    "LEDGER",
    "BAP",
    "BPP",
    "CDS",
    "CERTIFIED_OT",
    "UNKNOWN",
]
TAXONOMY = ["Operational", "Asset", "Market", "Consumer", "Planning"]
PURPOSES = [*POLICY["purposes"], "advertising"]


def reference(doc: dict[str, Any]) -> tuple[str, str | None, str]:
    """(effect, code, rule) per the documented semantics."""
    ds = doc["dataset"]
    classes = {c for r in doc["roles"] for c in POLICY["role_classes"].get(r, [])}
    candidates = [
        rule
        for c in classes
        for rule in POLICY["entitlements"].get(c, [])
        if ds["taxonomy"] in rule["taxonomy"]
        and ds["criticality"] in rule["criticality"]
        and rule.get("personal", ds["personal"]) == ds["personal"]
    ]
    grants = [(r["effect"], r["id"]) for r in candidates if doc["purpose"] in r["purposes"]]
    if ds["criticality"] == "C0" and not ds["personal"]:
        grants.append(("allow", "open-data-c0"))
    if doc["custodian"]:
        grants.append(("allow", "custodian"))
    if grants:
        best = max(RANK[e] for e, _ in grants)
        rule = min(r for e, r in grants if RANK[e] == best)
        effect = {2: "allow", 1: "allow_aggregated"}[best]
        if effect == "allow_aggregated" and doc["granularity"] == "record":
            return "deny", "POL_AGGREGATED_ONLY", rule
        if ds["criticality"] == "C3":
            if doc["endpoint"] != "operational":
                return "deny", "POL_OT_WRONG_ENDPOINT", "itot-operational-endpoint"
            if classes & set(POLICY["ot"]["never_classes"]):
                return "deny", "POL_OT_TRADING_PLATFORM", "itot-no-trading-platform"
            if not doc["certified"]:
                return "deny", "POL_OT_CREDENTIAL_REQUIRED", "itot-certified-interface"
        return effect, None, rule
    if candidates:
        return "deny", "POL_PURPOSE_NOT_PERMITTED", min(r["id"] for r in candidates)
    if ds["criticality"] == "C3":
        return "deny", "POL_ENTITLEMENT_DENIED", "critical-operational-restricted"
    return "deny", "POL_ENTITLEMENT_DENIED", "no-entitlement"


facts = st.fixed_dictionaries(
    {
        "roles": st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
        "dataset": st.fixed_dictionaries(
            {
                "id": st.just("ds"),
                "taxonomy": st.sampled_from(TAXONOMY),
                "criticality": st.sampled_from(["C0", "C1", "C2", "C3"]),
                "personal": st.booleans(),
            }
        ),
        "purpose": st.sampled_from(PURPOSES),
        "granularity": st.sampled_from(["record", "aggregate"]),
        "endpoint": st.sampled_from(["informational", "operational"]),
        "certified": st.booleans(),
        "custodian": st.booleans(),
    }
)


@settings(max_examples=250, deadline=None)
@given(doc=facts)
def test_rego_matches_the_reference_everywhere(default_policy: CompiledPolicy, doc: dict[str, Any]) -> None:
    got = default_policy.evaluate("ies/access/decision", doc)
    effect, code, rule = reference(doc)
    assert (got["effect"], got["code"], got["rule"]) == (effect, code, rule), doc
    expect_consent = effect == "allow" and doc["dataset"]["personal"] and doc["granularity"] == "record"
    assert got["consent_required"] == (expect_consent and not doc["custodian"])
    assert got["min_k"] == 10


@settings(max_examples=60, deadline=None)
@given(doc=facts)
def test_cached_answers_equal_fresh_evaluation(default_policy: CompiledPolicy, doc: dict[str, Any]) -> None:
    key = json.dumps(doc, sort_keys=True)
    first = default_policy.evaluate_cached("ies/access/decision", key, doc)
    assert first == default_policy.evaluate_cached("ies/access/decision", key, doc)
    assert first == default_policy.evaluate("ies/access/decision", doc)


def _cmd(
    policy: CompiledPolicy, roles: list[str], command: str, endpoint: str, certified: bool
) -> dict[str, Any]:
    return dict(
        policy.evaluate(
            "ies/itot/decision",
            {"roles": roles, "command": command, "endpoint": endpoint, "certified": certified},
        )
    )


@pytest.mark.parametrize(
    ("roles", "command", "endpoint", "certified", "code"),
    [
        (["SYSTEM_OPERATOR", "CERTIFIED_OT"], "DISPATCH", "operational", True, None),
        (["DISCOM"], "CURTAILMENT", "operational", True, None),
        (["AGGREGATOR"], "LOAD_CONTROL", "operational", True, None),
        (["AGGREGATOR"], "DISPATCH", "operational", True, "POL_OT_COMMAND_NOT_PERMITTED"),
        (["AGGREGATOR"], "LOAD_CONTROL", "operational", False, "POL_OT_CREDENTIAL_REQUIRED"),
        (["BAP", "CERTIFIED_OT"], "LOAD_CONTROL", "operational", True, "POL_OT_TRADING_PLATFORM"),
        (["BPP", "SYSTEM_OPERATOR"], "DISPATCH", "operational", True, "POL_OT_TRADING_PLATFORM"),
        (["SYSTEM_OPERATOR"], "DISPATCH", "informational", True, "POL_OT_WRONG_ENDPOINT"),
        (["RESEARCHER"], "DISPATCH", "operational", True, "POL_OT_COMMAND_NOT_PERMITTED"),
        ([], "DISPATCH", "operational", True, "POL_OT_COMMAND_NOT_PERMITTED"),
    ],
)
def test_itot_command_rules(
    default_policy: CompiledPolicy,
    roles: list[str],
    command: str,
    endpoint: str,
    certified: bool,
    code: str | None,
) -> None:
    got = _cmd(default_policy, roles, command, endpoint, certified)
    assert got["code"] == code
    assert got["effect"] == ("allow" if code is None else "deny")


def test_unknown_entrypoint_and_undefined_queries(default_policy: CompiledPolicy) -> None:
    from ies.policy.errors import PolicyEvaluationFailed

    with pytest.raises(PolicyEvaluationFailed, match="not an entrypoint"):
        default_policy.evaluate("ies/access/nothing", {})
    assert default_policy.query("data.ies.policy.min_k") == 10
    assert default_policy.query("data.ies.nothing_here") is None
    with pytest.raises(PolicyEvaluationFailed):
        default_policy.query("x := ")
