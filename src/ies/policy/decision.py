"""The one access decision point every data-serving handler goes through.

    decide(requester, dataset, purpose)
      (1) requester active in the registry          else POL_ENTITLEMENT_DENIED (rule requester-not-active)
      (2) entitlement: role × taxonomy × criticality × purpose, and IT/OT rules for C3 data, evaluated
          by the Rego bundle (`ies/access/decision`)  else the bundle's POL_* code and rule
      (3) personal data at record level: consent    else POL_CONSENT_REQUIRED
      → Decision(effect allow | allow_aggregated, rule, bundle name/version/hash), audited

Why the facts are built here and nowhere else: the roles come from the requester's registry record (the
KeyRecord the exchange verified the signature against), the endpoint from the listener the request came
in on, the credential from a CredentialCheck. Nothing a message says about itself reaches the policy, so
a role claimed in a message grants nothing.

Every decision, allow or refusal, is appended to the audit log as `policy.decision` with the bundle's
name, version and hash: refusals in their own transaction (a NACK writes nothing else, and must not lose
its audit line to a rollback), allows in the caller's session when given, so the data served and its
decision commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ies.errors import PolicyError
from ies.policy.catalogue import DatasetDecl
from ies.policy.errors import ConsentRequired, EntitlementDenied, PolicyEvaluationFailed, refusal_class
from ies.policy.manifest import BundleRef
from ies.policy.store import BundleStore
from ies.registry.records import KeyRecord, KeyStatus, SubscriberStatus
from ies.store import session_factory

__all__ = [
    "DEFAULT_BUNDLE",
    "ConsentCheck",
    "CredentialCheck",
    "Decision",
    "DecisionAudit",
    "DecisionPoint",
    "Endpoint",
    "Granularity",
    "RegistryRoleCredential",
]

DEFAULT_BUNDLE = "ies-entitlements"
ACCESS_ENTRYPOINT = "ies/access/decision"
COMMAND_ENTRYPOINT = "ies/itot/decision"

Granularity = Literal["record", "aggregate"]
Endpoint = Literal["informational", "operational"]


class ConsentCheck(Protocol):
    """The consent layer's hook: True when the requester holds a live consent for this dataset and
    purpose (it may also raise its own PolicyError with a more precise code)."""

    def __call__(self, requester: KeyRecord, dataset: DatasetDecl, purpose: str) -> bool: ...


class CredentialCheck(Protocol):
    """Does the requester hold a certified-interface (IT/OT) credential?"""

    def __call__(self, requester: KeyRecord) -> bool: ...


@dataclass(frozen=True)
class RegistryRoleCredential:
    """Until verifiable credentials land: the registry lists the role (e.g. CERTIFIED_OT) for the
    participant. A VC-based check (issuer = certification body, type = CertifiedInterfaceCredential)
    replaces it behind the same CredentialCheck call without touching the policy."""

    role: str = "CERTIFIED_OT"

    def __call__(self, requester: KeyRecord) -> bool:
        return self.role in requester.roles


@dataclass(frozen=True)
class Decision:
    """An allow. Refusals are raised, never returned, so nobody can forget to look."""

    effect: str
    rule: str
    bundle: BundleRef
    requester: str
    subject: str
    purpose: str
    granularity: str
    endpoint: str
    roles: tuple[str, ...]
    min_k: int = 10
    consent: bool | None = None
    decided_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def aggregated_only(self) -> bool:
        return self.effect == "allow_aggregated" or self.granularity == "aggregate"

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "rule": self.rule,
            "bundle": self.bundle.to_dict(),
            "requester": self.requester,
            "subject": self.subject,
            "purpose": self.purpose,
            "granularity": self.granularity,
            "endpoint": self.endpoint,
            "roles": list(self.roles),
            "min_k": self.min_k,
            "consent": self.consent,
        }


class DecisionAudit:
    """Appends `policy.decision` entries to the node's audit log."""

    def __init__(self, engine: Engine):
        from ies.audit import append

        self._append = append
        self._sessions = session_factory(engine)

    def record(
        self, actor: str, subject: str, payload: dict[str, Any], session: Session | None = None
    ) -> None:
        if session is not None:
            self._append(session, "policy.decision", actor, subject, payload)
            return
        with self._sessions.begin() as own:
            self._append(own, "policy.decision", actor, subject, payload)


DecisionSink = Callable[[str, str | None], None]
"""(outcome, code) → None: where metrics hear about each decision."""


class DecisionPoint:
    """Entitlement AND consent AND IT/OT, evaluated with the newest (or a pinned) bundle."""

    def __init__(
        self,
        bundles: BundleStore,
        *,
        bundle_name: str = DEFAULT_BUNDLE,
        audit: DecisionAudit | None = None,
        credential: CredentialCheck | None = None,
        on_decision: DecisionSink | None = None,
        cache: bool = True,
    ):
        self.bundles = bundles
        self.bundle_name = bundle_name
        self.audit = audit
        self.credential: CredentialCheck = credential or RegistryRoleCredential()
        self.on_decision = on_decision
        self.cache = cache
        self._role_sets: dict[tuple[str, ...], tuple[str, ...]] = {}

    # -- data ------------------------------------------------------------------------------------------
    def decide(
        self,
        requester: KeyRecord,
        dataset: DatasetDecl,
        purpose: str,
        *,
        consent_check: ConsentCheck | None = None,
        operational: bool = False,
        granularity: Granularity = "record",
        bundle: BundleRef | None = None,
        session: Session | None = None,
    ) -> Decision:
        """Allow (returning the Decision) or raise a PolicyError naming the code and refusing rule."""
        policy = self.bundles.resolve(bundle, self.bundle_name)
        endpoint: Endpoint = "operational" if operational else "informational"
        roles = _active_roles(requester, self._role_sets)
        certified = bool(roles) and self.credential(requester)
        custodian = requester.subscriber_id == dataset.custodian

        def refuse(rule: str, code: str, reason: str) -> NoReturn:
            base = {
                "dataset": dataset.id,
                "purpose": purpose,
                "granularity": granularity,
                "endpoint": endpoint,
                "roles": list(roles),
                "certified": certified,
                "bundle": policy.ref.to_dict(),
            }
            self._refuse(requester, f"dataset:{dataset.id}", base, rule, code, reason, policy.ref)

        if not roles:
            refuse(
                "requester-not-active", EntitlementDenied.code, "the requester has no active registry record"
            )

        def facts_doc() -> dict[str, Any]:
            return {
                "roles": list(roles),
                "dataset": dataset.policy_facts(),
                "purpose": purpose,
                "granularity": granularity,
                "endpoint": endpoint,
                "certified": certified,
                "custodian": custodian,
            }

        try:
            if self.cache:  # the key determines the input entirely (dataset facts are frozen per declaration)
                key = (roles, dataset.facts_key, purpose, granularity, endpoint, certified, custodian)
                verdict = _verdict(policy.evaluate_cached(ACCESS_ENTRYPOINT, key, facts_doc))
            else:
                verdict = _verdict(policy.evaluate(ACCESS_ENTRYPOINT, facts_doc()))
        except PolicyEvaluationFailed as err:
            refuse("evaluation-failed", err.code, err.message)
        effect = verdict["effect"]
        if effect != "allow" and effect != "allow_aggregated":
            refuse(
                str(verdict["rule"]),
                str(verdict.get("code") or EntitlementDenied.code),
                str(verdict.get("reason", "")),
            )
        consent: bool | None = None
        if verdict.get("consent_required"):
            if consent_check is None:
                refuse(
                    "consent-required",
                    ConsentRequired.code,
                    "personal data needs the consumer's consent and no consent layer is configured",
                )
            try:
                consent = bool(consent_check(requester, dataset, purpose))
            except PolicyError as err:
                refuse(str(err.details.get("rule", "consent")), err.code, err.message)
            if not consent:
                refuse(
                    "consent-required",
                    ConsentRequired.code,
                    "no live consent covers this dataset and purpose",
                )
        decision = Decision(
            effect=effect,
            rule=str(verdict["rule"]),
            bundle=policy.ref,
            requester=requester.subscriber_id,
            subject=f"dataset:{dataset.id}",
            purpose=purpose,
            granularity=granularity,
            endpoint=endpoint,
            roles=roles,
            min_k=int(verdict.get("min_k") or 10),
            consent=consent,
        )
        self._allowed(decision, session)
        return decision

    # -- operational commands --------------------------------------------------------------------------
    def decide_command(
        self,
        requester: KeyRecord,
        command: str,
        *,
        operational: bool,
        bundle: BundleRef | None = None,
        session: Session | None = None,
    ) -> Decision:
        """IT/OT segmentation for an operational-control command (DISPATCH, CURTAILMENT, LOAD_CONTROL)."""
        policy = self.bundles.resolve(bundle, self.bundle_name)
        endpoint: Endpoint = "operational" if operational else "informational"
        roles = _active_roles(requester, self._role_sets)
        certified = bool(roles) and self.credential(requester)
        subject = f"command:{command}"
        base = {
            "command": command,
            "endpoint": endpoint,
            "roles": list(roles),
            "certified": certified,
            "bundle": policy.ref.to_dict(),
        }
        doc = {"roles": list(roles), "command": command, "endpoint": endpoint, "certified": certified}
        try:
            verdict = _verdict(
                policy.evaluate_cached(COMMAND_ENTRYPOINT, (roles, command, endpoint, certified), doc)
            )
        except PolicyEvaluationFailed as err:
            self._refuse(requester, subject, base, "evaluation-failed", err.code, err.message, policy.ref)
        if verdict["effect"] != "allow":
            self._refuse(
                requester,
                subject,
                base,
                str(verdict["rule"]),
                str(verdict.get("code") or EntitlementDenied.code),
                str(verdict.get("reason", "")),
                policy.ref,
            )
        decision = Decision(
            effect="allow",
            rule=str(verdict["rule"]),
            bundle=policy.ref,
            requester=requester.subscriber_id,
            subject=subject,
            purpose="grid_operations",
            granularity="record",
            endpoint=endpoint,
            roles=roles,
        )
        self._allowed(decision, session)
        return decision

    # -- recording -------------------------------------------------------------------------------------
    def _allowed(self, decision: Decision, session: Session | None) -> None:
        if self.audit is not None:
            self.audit.record(decision.requester, decision.subject, decision.to_dict(), session)
        if self.on_decision is not None:
            self.on_decision(decision.effect, None)

    def _refuse(
        self,
        requester: KeyRecord,
        subject: str,
        base: dict[str, Any],
        rule: str,
        code: str,
        reason: str,
        ref: BundleRef,
    ) -> NoReturn:
        details = {"rule": rule, "bundle": ref.to_dict(), "subject": subject}
        if self.audit is not None:
            self.audit.record(
                requester.subscriber_id, subject, {**base, "effect": "deny", "rule": rule, "code": code}
            )
        if self.on_decision is not None:
            self.on_decision("deny", code)
        cls = refusal_class(code) if code != PolicyEvaluationFailed.code else PolicyEvaluationFailed
        raise cls(f"{reason} (rule {rule}, bundle {ref.name} {ref.version})", code=code, details=details)


def _active_roles(requester: KeyRecord, interned: dict[tuple[str, ...], tuple[str, ...]]) -> tuple[str, ...]:
    """The registry's roles, but only for a subscribed participant with an active key: a suspended
    participant's roles grant nothing even while a cached key record says otherwise. Normalised role
    sets are interned per decision point (a network has a handful of distinct ones)."""
    if requester.subscriber_status != SubscriberStatus.SUBSCRIBED or requester.key_status != KeyStatus.ACTIVE:
        return ()
    given = tuple(requester.roles)
    found = interned.get(given)
    if found is None:
        if len(interned) > 4096:
            interned.clear()
        found = interned[given] = tuple(sorted({r.upper() for r in given}))
    return found


def _verdict(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or "effect" not in raw or "rule" not in raw:
        raise PolicyEvaluationFailed("the policy returned no decision object (fail closed)")
    return raw
