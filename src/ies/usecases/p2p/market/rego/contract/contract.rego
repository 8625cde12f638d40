# Revenue flows of one P2P trade. Mirrors ies.usecases.p2p.market._settlement.settle_trade line for line.
#
# Input (ies.usecases.p2p.market.contract_policy_input):
#   trade {trade_id, buyer_id, seller_id, buyer_discom_id, seller_discom_id,
#          blocks [{block, contracted_wh, price_paise_per_kwh, buyer_alloc_wh, seller_alloc_wh}]}
# Data: deg.contract_settings.p2p_trading = {charges {discom_id: {wheeling_paise_per_kwh,
#   cross_subsidy_paise_per_kwh, loss_basis_points, deviation_paise_per_kwh}}, policy {*_payer}}
# Output:
#   flows          set of {block, kind, payer_id, payer_role, payee_id, payee_role, energy_wh, rate, amount_paise}
#   net_by_role    {role: paise}, received minus paid; sums to zero
#   revenue_flows  [{role, value_paise}] sorted by role (DEG RevenueFlow, in paise)
#   violations     unknown DISCOMs, allocations above the contracted quantity
#
# Per line (trade, block, kind, payee), with F = min(buyer_alloc, seller_alloc):
#   ENERGY F × price buyer → seller; WHEELING F × each carrying DISCOM's rate; CROSS_SUBSIDY F × buyer
#   DISCOM's rate; LOSSES F × price × loss bp / 10⁴; UNDER_DELIVERY (contracted − seller_alloc) × seller
#   DISCOM's deviation rate, seller pays; UNDER_CONSUMPTION (contracted − buyer_alloc) × buyer DISCOM's
#   deviation rate, buyer pays. Amount = energy × rate / per rounded half up: (2·n + d) div (2·d).
package deg.contracts.p2p_trading

import rego.v1

settings := data.deg.contract_settings.p2p_trading

trade := input.trade

charges := settings.charges

policy := settings.policy

loss_basis := 10000

half_up(numerator, denominator) := (((2 * numerator) + denominator) - (((2 * numerator) + denominator) % (2 * denominator))) / (2 * denominator)

party := {
	"BUYER": {"id": trade.buyer_id, "role": "buyer"},
	"SELLER": {"id": trade.seller_id, "role": "seller"},
}

buyer_discom := {"id": trade.buyer_discom_id, "role": "buyerDiscom"}

seller_discom := {"id": trade.seller_discom_id, "role": "sellerDiscom"}

carriers := [seller_discom] if trade.buyer_discom_id == trade.seller_discom_id

carriers := [seller_discom, buyer_discom] if trade.buyer_discom_id != trade.seller_discom_id

# Not min([...]): regopy 1.5's min/max/sort order numbers as text (min([2, 1000]) = 1000).
smaller(x, y) := x if {
	x <= y
} else := y

final_wh(b) := smaller(b.buyer_alloc_wh, b.seller_alloc_wh)

line(b, kind, payer, payee, energy_wh, rate, per) := {
	"block": b.block,
	"kind": kind,
	"payer_id": payer.id,
	"payer_role": payer.role,
	"payee_id": payee.id,
	"payee_role": payee.role,
	"energy_wh": energy_wh,
	"rate": rate,
	"amount_paise": half_up(energy_wh * rate, per),
}

known if {
	charges[trade.buyer_discom_id]
	charges[trade.seller_discom_id]
}

flows contains l if {
	known
	some b in trade.blocks
	f := final_wh(b)
	f > 0
	l := line(b, "ENERGY", party.BUYER, party.SELLER, f, b.price_paise_per_kwh, 1000)
}

flows contains l if {
	known
	some b in trade.blocks
	f := final_wh(b)
	f > 0
	some c in carriers
	l := line(b, "WHEELING", party[policy.wheeling_payer], c, f, charges[c.id].wheeling_paise_per_kwh, 1000)
}

flows contains l if {
	known
	some b in trade.blocks
	f := final_wh(b)
	f > 0
	rate := charges[buyer_discom.id].cross_subsidy_paise_per_kwh
	l := line(b, "CROSS_SUBSIDY", party[policy.cross_subsidy_payer], buyer_discom, f, rate, 1000)
}

flows contains l if {
	known
	some b in trade.blocks
	f := final_wh(b)
	f > 0
	some c in carriers
	rate := b.price_paise_per_kwh * charges[c.id].loss_basis_points
	l := line(b, "LOSSES", party[policy.loss_payer], c, f, rate, 1000 * loss_basis)
}

flows contains l if {
	known
	some b in trade.blocks
	short := b.contracted_wh - b.seller_alloc_wh
	short > 0
	rate := charges[seller_discom.id].deviation_paise_per_kwh
	l := line(b, "UNDER_DELIVERY", party.SELLER, seller_discom, short, rate, 1000)
}

flows contains l if {
	known
	some b in trade.blocks
	short := b.contracted_wh - b.buyer_alloc_wh
	short > 0
	rate := charges[buyer_discom.id].deviation_paise_per_kwh
	l := line(b, "UNDER_CONSUMPTION", party.BUYER, buyer_discom, short, rate, 1000)
}

roles := {l.payer_role | some l in flows} | {l.payee_role | some l in flows}

net_by_role[role] := received - paid if {
	some role in roles
	received := sum([l.amount_paise | some l in flows; l.payee_role == role])
	paid := sum([l.amount_paise | some l in flows; l.payer_role == role])
}

revenue_flows := [{"role": role, "value_paise": net_by_role[role]} | some role in sort(roles)]

violations contains v if {
	some discom_id in {trade.buyer_discom_id, trade.seller_discom_id}
	not charges[discom_id]
	v := {"rule": "UNKNOWN_DISCOM", "message": sprintf("no charges for DISCOM %s in this policy", [discom_id]), "details": {"discom_id": discom_id}}
}

violations contains v if {
	some b in trade.blocks
	some side in [b.buyer_alloc_wh, b.seller_alloc_wh]
	side > b.contracted_wh
	v := {"rule": "ALLOCATION_EXCEEDS_CONTRACT", "message": sprintf("block %v: an allocation exceeds the contracted %v Wh", [b.block, b.contracted_wh]), "details": {"block": b.block}}
}
