"""A small synchronous client of the consent API, as a data consumer, a provider portal, a principal's
wallet or an operator uses it (the CLI is built on it).

Who signs: `Signer.participant(config)` signs as a node with its registered Beckn key (data consumers,
provider portals); `Signer.principal(key)` with a principal's did:key; `Signer.operator(token)` sends the
node's bearer token. Refusals come back as `ConsentApiError` carrying the server's code (POL_*, CON_*,
AUT_*) and the exit code of the error class with that code, so a refusal reads the same in a terminal as
on the wire.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import orjson

from ies.consent._time import format_instant
from ies.consent.artefact import ConsentArtefact
from ies.consent.auth import get_signing_bytes, principal_authorization
from ies.consent.signatures import attest_as_portal, sign_as_principal, sign_instruction
from ies.errors import IESError, PeerUnreachable, UsageError, all_error_classes
from ies.exchange.signing import build_authorization
from ies.identity.keys import SigningKeyPair

__all__ = ["ConsentApiError", "ConsentClient", "Signer"]


class ConsentApiError(IESError):
    """An error the consent API answered with; `code` is the server's."""

    code = "CON_API_ERROR"

    def __init__(self, status: int, error: dict[str, Any]):
        super().__init__(str(error.get("message", f"HTTP {status}")), code=str(error.get("code", self.code)))
        self.details = error.get("details") or {}
        self.status = status
        known = next((c for c in all_error_classes() if c.code == self.code), None)
        self.exit_code = known.exit_code if known is not None else 1  # type: ignore[misc]


@dataclass(frozen=True)
class Signer:
    kind: str  # participant | principal | operator
    subscriber_id: str | None = None
    key_id: str | None = None
    key: SigningKeyPair | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def participant(cls, subscriber_id: str, key_id: str, key: SigningKeyPair) -> Signer:
        return cls("participant", subscriber_id, key_id, key)

    @classmethod
    def principal(cls, key: SigningKeyPair) -> Signer:
        return cls("principal", key=key)

    @classmethod
    def operator(cls, token: str) -> Signer:
        return cls("operator", token=token)

    def header(self, signed: bytes) -> str:
        if self.kind == "operator":
            return f"Bearer {self.token}"
        assert self.key is not None
        if self.kind == "principal":
            return principal_authorization(self.key, signed)
        assert self.subscriber_id is not None and self.key_id is not None
        created = int(time.time())
        return build_authorization(
            signed, subscriber_id=self.subscriber_id, key_id=self.key_id, key=self.key, created=created
        )


class ConsentClient:
    def __init__(self, base_url: str, signer: Signer | None = None, *, timeout_s: float = 30.0):
        self.base = base_url.rstrip("/")
        self.signer = signer
        self.timeout_s = timeout_s

    # -- transport -------------------------------------------------------------------------------------
    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        raw = orjson.dumps(body) if body is not None else b""
        headers = {"Content-Type": "application/json"}
        if self.signer is not None:
            headers["Authorization"] = self.signer.header(
                raw if method == "POST" else get_signing_bytes(path)
            )
        try:
            resp = httpx.request(
                method, self.base + path, content=raw or None, headers=headers, timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"{self.base} unreachable: {exc.__class__.__name__}") from None
        try:
            answer = resp.json()
        except ValueError:
            answer = {}
        if resp.status_code >= 400:
            error = answer.get("error") if isinstance(answer, dict) else None
            raise ConsentApiError(
                resp.status_code, error if isinstance(error, dict) else {"message": resp.text[:200]}
            )
        if not isinstance(answer, dict):
            raise UsageError(f"{self.base}{path} did not answer a JSON object")
        return answer

    # -- reading ---------------------------------------------------------------------------------------
    def purposes(self) -> dict[str, Any]:
        return self._send("GET", "/consent/v1/purposes")

    def show(self, consent_id: str) -> dict[str, Any]:
        return self._send("GET", f"/consent/v1/consents/{quote(consent_id, safe='')}")

    def list(self, **filters: str | None) -> list[dict[str, Any]]:
        given = {k: v for k, v in filters.items() if v}
        path = "/consent/v1/consents" + (f"?{urlencode(given)}" if given else "")
        return list(self._send("GET", path)["consents"])

    def accesses(self, principal: str) -> dict[str, Any]:
        return self._send("GET", f"/consent/v1/accesses?{urlencode({'principal': principal})}")

    # -- acting ----------------------------------------------------------------------------------------
    def request(self, draft: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", "/consent/v1/consents", draft)

    def approve(self, consent_id: str, *, evidence: dict[str, Any] | None = None) -> dict[str, Any]:
        """The principal signs the artefact; a provider portal (participant signer) attests with evidence."""
        artefact = ConsentArtefact.parse(self.show(consent_id)["artefact"])
        signer = self._need_signer()
        if signer.kind == "principal":
            assert signer.key is not None
            signature = sign_as_principal(artefact, signer.key)
        elif signer.kind == "participant" and evidence is not None:
            assert signer.key is not None and signer.subscriber_id and signer.key_id
            signature = attest_as_portal(
                artefact,
                signer.key,
                provider_id=signer.subscriber_id,
                key_id=signer.key_id,
                evidence=evidence,
            )
        else:
            raise UsageError(
                "approve as the principal (--key) or as the provider's portal (--config with --evidence)"
            )
        return self._send(
            "POST", f"/consent/v1/consents/{quote(consent_id, safe='')}/approve", {"signature": signature}
        )

    def act(
        self, consent_id: str, verb: str, *, reason: str | None = None, evidence: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        signer = self._need_signer()
        path = f"/consent/v1/consents/{quote(consent_id, safe='')}/{verb}"
        if signer.kind == "principal":
            assert signer.key is not None
            seq = self.show(consent_id)["seq"]
            instruction: dict[str, Any] = {
                "consentId": consent_id,
                "action": verb.upper(),
                "seq": seq,
                "at": format_instant(datetime.now(UTC)),
            }
            if reason:
                instruction["reason"] = reason
            return self._send("POST", path, sign_instruction(instruction, signer.key))
        if signer.kind == "participant":
            if evidence is None:
                raise UsageError("a provider portal acts for the principal only with --evidence")
            return self._send("POST", path, {"evidence": evidence, "reason": reason})
        raise UsageError(f"{verb} is signed by the principal (--key) or the provider's portal (--config)")

    def _need_signer(self) -> Signer:
        if self.signer is None:
            raise UsageError("this needs a signer: --key (principal), --config (participant) or --token")
        return self.signer
