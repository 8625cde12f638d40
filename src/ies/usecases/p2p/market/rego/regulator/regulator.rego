# The regulator's rules on one trade request. Mirrors ies.usecases.p2p.market._rules.regulator_violations.
#
# Input (ies.usecases.p2p.market.regulator_input): participant_id, sanctioned_load_w, block_start_s,
#   block_seconds, requested_wh, already_traded_wh, requested_at_s  (instants in whole seconds since
#   the epoch: the rules compare integers, never parse dates)
# Data: ies.p2p_settings.regulator = {max_traded_percent_of_sanctioned_load, gate_closure_blocks}
# Output: decision = {allow, violations}
package ies.p2p.regulator

import rego.v1

settings := data.ies.p2p_settings.regulator

traded_wh := input.already_traded_wh + input.requested_wh

# Average power over the block (Wh × 3600 / block seconds) above cap % of sanctioned load, in integers.
violations contains v if {
	cap := settings.max_traded_percent_of_sanctioned_load
	# (a line must not start with "(": the parser would read it as a call on the line before)
	traded_wh * 3600 * 100 > cap * input.sanctioned_load_w * input.block_seconds
	v := {
		"rule": "TRADED_POWER_OVER_CAP",
		"message": sprintf("%s would trade %v Wh in the block, above %v %% of its sanctioned load of %v W", [input.participant_id, traded_wh, cap, input.sanctioned_load_w]),
		"details": {"traded_wh": traded_wh, "sanctioned_load_w": input.sanctioned_load_w, "cap_percent": cap},
	}
}

gate_s := input.block_start_s - settings.gate_closure_blocks * input.block_seconds

# Exactly at the gate is still on time; later changes are deviations, not trades.
violations contains v if {
	input.requested_at_s > gate_s
	v := {
		"rule": "GATE_CLOSED",
		"message": sprintf("gate closure for the block was %v blocks before its start", [settings.gate_closure_blocks]),
		"details": {"gate_closure_s": gate_s, "requested_at_s": input.requested_at_s},
	}
}

decision := {"allow": count(violations) == 0, "violations": violations}
