# IT/OT segmentation for operational-control commands (IES strategy v0.2 §11.2 pillar 1, §12.3 Security:
# "Platforms must not issue operational control commands unless certified via approved interfaces").
#
# Input: roles (from the registry), command (DISPATCH | CURTAILMENT | LOAD_CONTROL), endpoint
# ("informational" | "operational"), certified (holds a certified-interface credential).
# Output: {effect: allow | deny, rule, code, reason}
package ies.itot

import rego.v1

policy := data.ies.policy

classes contains c if {
	some role in input.roles
	some c in policy.role_classes[role]
}

trading_platform if {
	some c in classes
	c in policy.ot.never_classes
}

permitted if {
	some c in classes
	input.command in object.get(policy.ot.commands, c, [])
}

refuse(rule, code, reason) := {"effect": "deny", "rule": rule, "code": code, "reason": reason}

default decision := {
	"effect": "deny",
	"rule": "itot-default-deny",
	"code": "POL_OT_COMMAND_NOT_PERMITTED",
	"reason": "no rule permits this command",
}

decision := refuse("itot-operational-endpoint", "POL_OT_WRONG_ENDPOINT", "operational commands are accepted only on the operational endpoint") if {
	input.endpoint != "operational"
} else := refuse("itot-no-trading-platform", "POL_OT_TRADING_PLATFORM", "a trading platform never issues operational commands") if {
	trading_platform
} else := refuse("itot-certified-interface", "POL_OT_CREDENTIAL_REQUIRED", "operational commands need a certified-interface credential") if {
	input.certified != true
} else := refuse("itot-command-roles", "POL_OT_COMMAND_NOT_PERMITTED", "no role of the sender may issue this command") if {
	not permitted
} else := {"effect": "allow", "rule": "itot-certified-interface", "code": null, "reason": "certified operational interface"}
