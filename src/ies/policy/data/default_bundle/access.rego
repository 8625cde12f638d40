# Data access entitlements (IES strategy v0.2 §11.2 pillars 3 and 4; issue 8).
#
# Input (built by ies.policy.decision from verified facts only; never from what a message claims):
#   roles        the requester's roles as the registry lists them
#   dataset      {id, taxonomy, criticality, personal}
#   purpose      the declared purpose (see data.ies.policy.purposes)
#   granularity  "record" or "aggregate"
#   endpoint     "informational" or "operational" (the listener the request came in on)
#   certified    the requester holds a certified-interface credential (IT/OT)
#   custodian    the requester is the dataset's custodian
# Output: {effect: allow | allow_aggregated | deny, rule, code, reason, min_k, consent_required}
#
# data.ies.policy.entitlements is keyed by role class so that a decision looks at the few rules of the
# requester's classes only (rego-cpp evaluates ~4x faster than scanning every rule).
package ies.access

import rego.v1

policy := data.ies.policy

# Ranks stay single digits: rego-cpp 1.5 orders numbers in min/max as text (max([2, 10]) is 2).
rank := {"deny": 0, "allow_aggregated": 1, "allow": 2}

effect_of_rank := ["deny", "allow_aggregated", "allow"]

# Every rule of the requester's classes that covers this dataset, whatever the purpose.
candidates := [rule |
	some role in input.roles
	some c in policy.role_classes[role]
	some rule in policy.entitlements[c]
	input.dataset.taxonomy in rule.taxonomy
	input.dataset.criticality in rule.criticality
	object.get(rule, "personal", input.dataset.personal) == input.dataset.personal
]

# Pillar 3: non-critical, non-personal data is presumed open to every registered participant.
open_grant := [{"effect": "allow", "rule": "open-data-c0"} |
	input.dataset.criticality == "C0"
	input.dataset.personal == false
]

# Pillar 2 (federation): the custodian always reaches its own data.
custodian_grant := [{"effect": "allow", "rule": "custodian"} | input.custodian == true]

grants := array.concat(array.concat(open_grant, custodian_grant), [{"effect": rule.effect, "rule": rule.id} |
	some rule in candidates
	input.purpose in rule.purposes
])

granted if count(grants) > 0

best_rank := max([rank[g.effect] | some g in grants])

best_effect := effect_of_rank[best_rank]

# Deterministic choice among equally good grants: the smallest rule id.
best_rule := min([g.rule | some g in grants; rank[g.effect] == best_rank])

critical_operational if input.dataset.criticality == "C3"

trading_platform if {
	some role in input.roles
	some c in policy.role_classes[role]
	c in policy.ot.never_classes
}

# Record-level personal data needs the consumer's consent unless the requester is the custodian;
# aggregated, k-anonymous output is not personal data.
default consent_required := false

consent_required if {
	input.dataset.personal == true
	input.granularity == "record"
	input.custodian != true
}

refuse(rule, code, reason) := {
	"effect": "deny",
	"rule": rule,
	"code": code,
	"reason": reason,
	"min_k": policy.min_k,
	"consent_required": false,
}

default decision := {
	"effect": "deny",
	"rule": "default-deny",
	"code": "POL_ENTITLEMENT_DENIED",
	"reason": "no rule grants access",
	"min_k": 10,
	"consent_required": false,
}

decision := refuse(best_rule, "POL_AGGREGATED_ONLY", "this role may receive this dataset only aggregated and anonymised") if {
	best_effect == "allow_aggregated"
	input.granularity == "record"
} else := refuse("itot-operational-endpoint", "POL_OT_WRONG_ENDPOINT", "critical operational data is served only on the operational endpoint") if {
	granted
	critical_operational
	input.endpoint != "operational"
} else := refuse("itot-no-trading-platform", "POL_OT_TRADING_PLATFORM", "trading platforms never receive critical operational data") if {
	granted
	critical_operational
	trading_platform
} else := refuse("itot-certified-interface", "POL_OT_CREDENTIAL_REQUIRED", "critical operational data needs a certified-interface credential") if {
	granted
	critical_operational
	input.certified != true
} else := {
	"effect": best_effect,
	"rule": best_rule,
	"code": null,
	"reason": "granted",
	"min_k": policy.min_k,
	"consent_required": consent_required,
} if {
	granted
} else := refuse(min([r.id | some r in candidates]), "POL_PURPOSE_NOT_PERMITTED", "this role may not use this dataset for the declared purpose") if {
	count(candidates) > 0
} else := refuse("critical-operational-restricted", "POL_ENTITLEMENT_DENIED", "critical operational data is restricted to system operators and DISCOMs") if {
	critical_operational
} else := refuse("no-entitlement", "POL_ENTITLEMENT_DENIED", "no entitlement of these roles covers this dataset")
