"""Bulk meter data: streaming validation of MultiMeterBulkDataset files and VEE.

    from ies.meterdata import validate_file, run_vee
    report = validate_file("bulk.json")          # constant memory; report.valid, report.findings, per meter
    summary = run_vee("bulk.json", "clean.json")  # validate, estimate, edit; summary.output_valid

Rule ids are the project-wide ones of `ies.schemas.rule_ids`; the per-document validator (`ies.schemas`)
and this streaming one give a fault the same id. See docs/meterdata.md.
"""

from __future__ import annotations

from ies.meterdata.bulk import validate_file
from ies.meterdata.report import BulkFinding, BulkReport, MeterSummary
from ies.meterdata.synth import FAULT_KINDS, GeneratedDataset, InjectedFault, generate
from ies.meterdata.vee import VeeSummary, run_vee

__all__ = [
    "FAULT_KINDS",
    "BulkFinding",
    "BulkReport",
    "GeneratedDataset",
    "InjectedFault",
    "MeterSummary",
    "VeeSummary",
    "generate",
    "run_vee",
    "validate_file",
]
