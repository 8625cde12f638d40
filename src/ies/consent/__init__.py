"""Consent: artefacts, their signed lifecycle at a consent manager, and the check a data provider runs.

    artefact = ConsentArtefact.parse(doc)              schema, purpose catalogue, JCS digest
    sign_as_principal(artefact, key)                   the principal's did:key approval
    attest_as_portal(artefact, key, provider_id=…)     a provider portal's approval with OTP evidence
    store = ConsentStore(engine, manager)              request / approve / act / expire: signed, chained,
                                                       audited transitions (one transaction each)
    check_access(artefact, state, request, at=…)       (1)–(7): live, parties, purpose, meters, registers,
                                                       period, frequency → a POL_CONSENT_* refusal or None
    bound_check(consent, request, at=…), ConsentGate   the policy decision point's `consent_check`
    to_authorisation / from_authorisation / to_meter_data_request / to_request_credential   IES mapping
    service.install(runtime)                           the CONSENT_MANAGER role (HTTP API, notifications)

See docs/consent.md. Modules are imported lazily (the table module is loaded by every node at start-up,
and must not pull in the rest).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AccessLedger",
    "AccessRequest",
    "ConsentArtefact",
    "ConsentGate",
    "ConsentRecord",
    "ConsentState",
    "ConsentStore",
    "ManagerIdentity",
    "attest_as_portal",
    "bound_check",
    "check_access",
    "from_authorisation",
    "purpose_catalogue",
    "sign_as_principal",
    "sign_instruction",
    "to_authorisation",
    "to_meter_data_request",
    "to_request_credential",
    "verify_approval",
    "verify_request_credential",
]

_WHERE = {
    "AccessLedger": "ledger",
    "AccessRequest": "enforcement",
    "ConsentArtefact": "artefact",
    "ConsentGate": "gate",
    "ConsentRecord": "store",
    "ConsentState": "lifecycle",
    "ConsentStore": "store",
    "ManagerIdentity": "store",
    "attest_as_portal": "signatures",
    "bound_check": "gate",
    "check_access": "enforcement",
    "from_authorisation": "mapping",
    "purpose_catalogue": "purposes",
    "sign_as_principal": "signatures",
    "sign_instruction": "signatures",
    "to_authorisation": "mapping",
    "to_meter_data_request": "mapping",
    "to_request_credential": "mapping",
    "verify_approval": "signatures",
    "verify_request_credential": "mapping",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ies.consent' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ies.consent.{module}"), name)
