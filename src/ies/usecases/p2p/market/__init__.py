"""The P2P market engine: pure functions from books, meter actuals and tariffs to trades and money.

No I/O here (pandapower model → solver → results): the network layer of `ies.usecases.p2p` feeds these
functions from Beckn messages and the asset registry, and records what they return.

Units everywhere: energy `int` Wh, money `int` paise, prices `int` paise/kWh, time blocks `int`
(15-minute index since the epoch; 96 per IST day; see `_units`). Public surface:

- time blocks: `block_at`, `block_start`, `block_end`, `block_of_day`, `blocks_of_day`, `day_and_index`,
  `split_hour` (1-hour wire interval → four blocks), `split_evenly`, `energy_value_paise` (rounding rule);
- book: `Offer`, `Bid`, `Fill`, `SourceType`, `check_book`;
- matching (price-time, discriminatory, per TP): `match_orders`, `match_arrays`, `MatchResult`;
- uniform-price call auction (retail local exchange): `call_auction`, `clear_arrays`, `AuctionResult`,
  `ArrayClearing`; the same clearing as an LP: `clear_lp` (HiGHS, for checks and benchmarks);
- rules (mirrored by the Rego bundles in `rego/`): `network_policy_violations`, `regulator_violations`,
  their `*_input` documents and `*_data` bundle settings (also `contract_policy_input`/`_data`),
  `ContractFacts`, `ContractInterval`, `TradeRequestFacts`, `RegulatorSettings`,
  `Violation`, `CONTRACT_ROLES`; bundle sources: `REGO_DIR`, `policy_source`, `POLICY_ENTRYPOINTS`;
- feasibility: `FeederModel`, `DistributionTransformer`, `ServicePointModel`, `GridLimits`,
  `ProposedTrade`, `FeasibilityMode`, `assess_block`, `BlockAssessment`, `TradeDecision`, `Breach`,
  `FeederNetwork` (build a feeder's pandapower net once, pass it as `assess_block(..., network=)`),
  `FlowResult`;
- allocation: `TradeLeg`, `allocate_side`, `run_allocation_round`, `true_up`, `AllocationMethod`,
  `AllocationRound`, `AllocationRun`, `largest_remainder`;
- settlement: `DiscomCharges`, `SettlementPolicy`, `TradeBlock`, `TradeRecord`, `settle_trade`,
  `settlement_adjustment`, `TradeSettlement`, `MoneyFlow`, `FlowKind`, `contract_policy_input`;
- billing and statements: `monthly_bill`, `Bill`, `BillLine`, `BillLineKind`, `MeteredBlock`,
  `settlement_statement`, `statement_csv`, `StatementRow`.
"""

from __future__ import annotations

from ies.usecases.p2p.market._allocation import (
    AllocationMethod,
    AllocationRound,
    AllocationRun,
    LegKey,
    TradeLeg,
    allocate_side,
    largest_remainder,
    run_allocation_round,
    true_up,
)
from ies.usecases.p2p.market._auction import ArrayClearing, AuctionResult, call_auction, clear_arrays
from ies.usecases.p2p.market._billing import (
    Bill,
    BillLine,
    BillLineKind,
    MeteredBlock,
    StatementRow,
    monthly_bill,
    settlement_statement,
    statement_csv,
)
from ies.usecases.p2p.market._book import Bid, Fill, Offer, SourceType, check_book
from ies.usecases.p2p.market._feasibility import (
    BlockAssessment,
    FeasibilityMode,
    ProposedTrade,
    TradeDecision,
    assess_block,
)
from ies.usecases.p2p.market._feeder import (
    Breach,
    DistributionTransformer,
    FeederModel,
    GridLimits,
    ServicePointModel,
)
from ies.usecases.p2p.market._lp import clear_lp
from ies.usecases.p2p.market._matching import MatchResult, match_arrays, match_orders
from ies.usecases.p2p.market._policy_sources import POLICY_ENTRYPOINTS, REGO_DIR, policy_source
from ies.usecases.p2p.market._powerflow import FeederNetwork, FlowResult
from ies.usecases.p2p.market._rules import (
    CONTRACT_ROLES,
    ContractFacts,
    ContractInterval,
    RegulatorSettings,
    TradeRequestFacts,
    Violation,
    network_policy_data,
    network_policy_input,
    network_policy_violations,
    regulator_input,
    regulator_policy_data,
    regulator_violations,
)
from ies.usecases.p2p.market._settlement import (
    DiscomCharges,
    FlowKind,
    MoneyFlow,
    SettlementPolicy,
    TradeBlock,
    TradeRecord,
    TradeSettlement,
    contract_policy_data,
    contract_policy_input,
    settle_trade,
    settlement_adjustment,
)
from ies.usecases.p2p.market._units import (
    BLOCK_DURATION,
    BLOCK_SECONDS,
    BLOCKS_PER_DAY,
    BLOCKS_PER_HOUR,
    IST,
    Block,
    Paise,
    PaisePerKWh,
    Wh,
    block_at,
    block_end,
    block_of_day,
    block_start,
    blocks_of_day,
    day_and_index,
    energy_value_paise,
    split_evenly,
    split_hour,
)

__all__ = [
    "BLOCKS_PER_DAY",
    "BLOCKS_PER_HOUR",
    "BLOCK_DURATION",
    "BLOCK_SECONDS",
    "CONTRACT_ROLES",
    "IST",
    "POLICY_ENTRYPOINTS",
    "REGO_DIR",
    "AllocationMethod",
    "AllocationRound",
    "AllocationRun",
    "ArrayClearing",
    "AuctionResult",
    "Bid",
    "Bill",
    "BillLine",
    "BillLineKind",
    "Block",
    "BlockAssessment",
    "Breach",
    "ContractFacts",
    "ContractInterval",
    "DiscomCharges",
    "DistributionTransformer",
    "FeasibilityMode",
    "FeederModel",
    "FeederNetwork",
    "Fill",
    "FlowKind",
    "FlowResult",
    "GridLimits",
    "LegKey",
    "MatchResult",
    "MeteredBlock",
    "MoneyFlow",
    "Offer",
    "Paise",
    "PaisePerKWh",
    "ProposedTrade",
    "RegulatorSettings",
    "ServicePointModel",
    "SettlementPolicy",
    "SourceType",
    "StatementRow",
    "TradeBlock",
    "TradeDecision",
    "TradeLeg",
    "TradeRecord",
    "TradeRequestFacts",
    "TradeSettlement",
    "Violation",
    "Wh",
    "allocate_side",
    "assess_block",
    "block_at",
    "block_end",
    "block_of_day",
    "block_start",
    "blocks_of_day",
    "call_auction",
    "check_book",
    "clear_arrays",
    "clear_lp",
    "contract_policy_data",
    "contract_policy_input",
    "day_and_index",
    "energy_value_paise",
    "largest_remainder",
    "match_arrays",
    "match_orders",
    "monthly_bill",
    "network_policy_data",
    "network_policy_input",
    "network_policy_violations",
    "policy_source",
    "regulator_input",
    "regulator_policy_data",
    "regulator_violations",
    "run_allocation_round",
    "settle_trade",
    "settlement_adjustment",
    "settlement_statement",
    "split_evenly",
    "split_hour",
    "statement_csv",
    "true_up",
]
