# P2P network policy, evaluated by every node at the network edge on each contract message.
# Mirrors ies.usecases.p2p.market._rules.network_policy_violations; the rule ids are the same.
#
# Input (ies.usecases.p2p.market.network_policy_input):
#   roles      [{role, participantId}]   from DEGContract.roles
#   intervals  [{id, available_wh?, requested_wh?, buyer_alloc_wh?, seller_alloc_wh?, final_alloc_wh?}]
# Data: deg.network_settings.p2p_trading.utility_allow_list  (DISCOM participant ids of this network)
# Output: decision = {allow, violations}; violations = set of {rule, message, details}
package deg.network.p2p_trading

import rego.v1

settings := data.deg.network_settings.p2p_trading

contract_roles := ["buyerPlatform", "sellerPlatform", "buyerDiscom", "sellerDiscom"]

bound[role] := pid if {
	some entry in input.roles
	role := entry.role
	pid := entry.participantId
	is_string(pid)
	pid != ""
}

violations contains v if {
	some role in contract_roles
	not bound[role]
	v := {
		"rule": "ROLE_UNBOUND",
		"message": sprintf("role %s is not bound to a participant", [role]),
		"details": {"role": role},
	}
}

violations contains v if {
	some role in ["buyerDiscom", "sellerDiscom"]
	pid := bound[role]
	not pid in settings.utility_allow_list
	v := {
		"rule": "UTILITY_NOT_ALLOWED",
		"message": sprintf("%s %s is not on the utility allow-list", [role, pid]),
		"details": {"role": role, "participantId": pid},
	}
}

violations contains v if {
	some iv in input.intervals
	requested := iv.requested_wh
	not within_available(iv, requested)
	v := {
		"rule": "REQUESTED_EXCEEDS_AVAILABLE",
		"message": sprintf("interval %v: requested %v Wh > available %v Wh", [iv.id, requested, object.get(iv, "available_wh", null)]),
		"details": {"interval": iv.id},
	}
}

within_available(iv, requested) if requested <= iv.available_wh

violations contains v if {
	some iv in input.intervals
	final := iv.final_alloc_wh
	not final_within_sides(iv, final)
	v := {
		"rule": "FINAL_ALLOC_EXCEEDS_SIDES",
		"message": sprintf("interval %v: final allocation %v Wh exceeds min(buyer %v, seller %v) Wh", [iv.id, final, object.get(iv, "buyer_alloc_wh", null), object.get(iv, "seller_alloc_wh", null)]),
		"details": {"interval": iv.id},
	}
}

# Two comparisons, not min([...]): regopy 1.5's min/max/sort order numbers as text (min([2, 1000]) = 1000).
final_within_sides(iv, final) if {
	final <= iv.buyer_alloc_wh
	final <= iv.seller_alloc_wh
}

decision := {"allow": count(violations) == 0, "violations": violations}
