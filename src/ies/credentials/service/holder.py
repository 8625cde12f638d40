"""Holder binding at issue: proof of possession of a DID key, or a one-time code sent to a phone.

Why mandatory: the IES credential guide requires the issuer to bind a credential to its holder when it is
issued, so that a presentation can later prove the presenter is that holder. Two ways are offered:

- **did** — the holder signs a short JWT with the key of its DID (did:key for wallets; any DID whose
  document we can resolve). Shape as OpenID4VCI's proof JWT: header `{"alg":"EdDSA",
  "typ":"openid4vci-proof+jwt","kid":"<DID URL>"}`, payload `{"aud":<issuer DID>,"nonce":<nonce>,
  "iat":<unix time>}`. The nonce comes from `POST /credentials/nonce`, lives five minutes and is consumed
  by its first use, so a captured proof cannot be replayed. The credential's `credentialSubject.id` must
  be the DID that signed.
- **otp** — for holders without a wallet (`tel:+91…` subjects): the operator creates a code for the
  number (`POST /credentials/holder-otp`), delivers it by SMS, and the issue request carries the code
  back. Only a salted SHA-256 of the code is stored; five wrong attempts or ten minutes end it.

Each check runs in its own transaction, committed before issuance starts: a consumed nonce or a counted
wrong attempt stays consumed even if the issuance then fails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, Table, update
from sqlalchemy.orm import Session

from ies.credentials.tables import HolderNonceRow, HolderOtpRow
from ies.errors import IESError, UsageError
from ies.identity.keys import SigningKeyPair, verify_ed25519
from ies.identity.multibase import b64url_decode, b64url_encode
from ies.identity.resolver import DIDResolver
from ies.store import session_factory, utcnow

__all__ = [
    "NONCE_TTL",
    "OTP_MAX_ATTEMPTS",
    "OTP_TTL",
    "PROOF_JWT_TYP",
    "HolderBinding",
    "HolderBindingFailed",
    "check_otp",
    "check_possession",
    "create_otp",
    "holder_proof_jwt",
    "new_nonce",
]

NONCE_TTL = timedelta(minutes=5)
OTP_TTL = timedelta(minutes=10)
OTP_MAX_ATTEMPTS = 5
PROOF_JWT_TYP = "openid4vci-proof+jwt"
MAX_IAT_SKEW_S = 300
_TEL_RE = re.compile(r"^tel:\+[1-9][0-9]{6,14}$")


class HolderBindingFailed(IESError):
    """The holder did not prove it controls the subject of the credential (nothing was issued)."""

    code = "VC_HOLDER_BINDING_FAILED"
    http_status = 403


@dataclass(frozen=True)
class HolderBinding:
    """How the holder was bound: `method` (did | otp | digilocker) and the identifier it proved."""

    method: str
    holder: str


# -- did: proof of possession ------------------------------------------------------------------------------


def new_nonce(engine: Engine) -> tuple[str, str]:
    """A fresh one-time nonce and its expiry (ISO 8601), stored for `check_possession`."""
    nonce = secrets.token_urlsafe(24)
    now = utcnow()
    with session_factory(engine).begin() as session:
        session.add(HolderNonceRow(nonce=nonce, created_at=now, expires_at=now + NONCE_TTL))
    return nonce, (now + NONCE_TTL).isoformat()


def holder_proof_jwt(
    holder: SigningKeyPair, kid: str, *, audience: str, nonce: str, iat: int | None = None
) -> str:
    """The proof JWT a holder sends (what a wallet does; used by the CLI and the tests)."""
    header = {"alg": "EdDSA", "typ": PROOF_JWT_TYP, "kid": kid}
    payload = {"aud": audience, "nonce": nonce, "iat": int(time.time()) if iat is None else iat}
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    return signing_input + "." + b64url_encode(holder.sign(signing_input.encode("ascii")))


def _decode_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, IESError) as exc:
        raise HolderBindingFailed(f"holder proof: the {what} is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise HolderBindingFailed(f"holder proof: the {what} is not a JSON object")
    return value


def check_possession(
    engine: Engine, resolver: DIDResolver, proof_jwt: Any, *, audience: str, subject_id: Any
) -> HolderBinding:
    """Verify a holder's proof JWT and consume its nonce; HolderBindingFailed on any mismatch.

    Steps: (1) parse the compact JWS; (2) header alg EdDSA, typ, kid a DID URL; (3) resolve the kid for
    `authentication`; (4) check the signature; (5) aud is this issuer, iat within ±5 minutes; (6) the
    signer's DID is the credential subject; (7) consume the nonce (unknown, expired or used: refused).
    """
    if not isinstance(proof_jwt, str) or proof_jwt.count(".") != 2:
        raise HolderBindingFailed("holder proof must be a compact JWS (header.payload.signature)")
    head_b64, body_b64, sig_b64 = proof_jwt.split(".")
    header, payload = _decode_segment(head_b64, "header"), _decode_segment(body_b64, "payload")
    kid = header.get("kid")
    if header.get("alg") != "EdDSA" or header.get("typ") != PROOF_JWT_TYP:
        raise HolderBindingFailed(f"holder proof header must say alg EdDSA and typ {PROOF_JWT_TYP}")
    if not isinstance(kid, str) or not kid.startswith("did:") or "#" not in kid:
        raise HolderBindingFailed("holder proof `kid` must be a DID URL naming the holder's key")
    try:
        public_key = resolver.resolve_verification_method(kid, purpose="authentication")
        signature = b64url_decode(sig_b64)
    except IESError as exc:
        raise HolderBindingFailed(f"holder key {kid} cannot be used: {getattr(exc, 'message', exc)}") from exc
    if not verify_ed25519(public_key, f"{head_b64}.{body_b64}".encode("ascii"), signature):
        raise HolderBindingFailed("holder proof signature does not verify with the holder's key")
    if payload.get("aud") != audience:
        raise HolderBindingFailed(f"holder proof is addressed to {payload.get('aud')!r}, not to {audience}")
    iat = payload.get("iat")
    if not isinstance(iat, int) or abs(time.time() - iat) > MAX_IAT_SKEW_S:
        raise HolderBindingFailed("holder proof `iat` is missing or more than five minutes off")
    holder = kid.split("#", 1)[0]
    if subject_id != holder:
        raise HolderBindingFailed(f"credentialSubject.id must be the holder's DID {holder}")
    _consume_nonce(engine, payload.get("nonce"))
    return HolderBinding("did", holder)


def _consume_nonce(engine: Engine, nonce: Any) -> None:
    if not isinstance(nonce, str) or not nonce:
        raise HolderBindingFailed("holder proof carries no nonce")
    table = HolderNonceRow.__table__
    assert isinstance(table, Table)
    now = utcnow()
    with session_factory(engine).begin() as session:
        result = session.execute(
            update(table)
            .where(table.c.nonce == nonce, table.c.used_at.is_(None), table.c.expires_at > now)
            .values(used_at=now)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise HolderBindingFailed("holder proof nonce is unknown, expired or already used")


# -- otp -----------------------------------------------------------------------------------------------------


def _code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + code.encode("utf-8")).hexdigest()


def create_otp(engine: Engine, holder: Any) -> tuple[str, str, str]:
    """(otp id, six-digit code, expiry) for a `tel:` holder; the caller delivers the code by SMS."""
    if not isinstance(holder, str) or not _TEL_RE.fullmatch(holder):
        raise UsageError("an OTP holder is a tel: URI in E.164 form, e.g. tel:+919876543210")
    otp_id, code, salt = secrets.token_urlsafe(16), f"{secrets.randbelow(10**6):06d}", secrets.token_hex(16)
    now = utcnow()
    with session_factory(engine).begin() as session:
        session.add(
            HolderOtpRow(
                otp_id=otp_id,
                holder=holder,
                salt=salt,
                code_hash=_code_hash(salt, code),
                attempts=0,
                created_at=now,
                expires_at=now + OTP_TTL,
            )
        )
    return otp_id, code, (now + OTP_TTL).isoformat()


def check_otp(engine: Engine, otp_id: Any, code: Any, *, subject_id: Any) -> HolderBinding:
    """Check (and use up) an OTP for the credential's subject; HolderBindingFailed otherwise."""
    if not isinstance(otp_id, str) or not isinstance(code, str):
        raise HolderBindingFailed("OTP binding needs `otpId` and `code` strings")
    with session_factory(engine).begin() as session:
        row = _locked_otp(session, otp_id)
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            raise HolderBindingFailed("OTP is unknown, expired or already used")
        if row.attempts >= OTP_MAX_ATTEMPTS:
            raise HolderBindingFailed("OTP has had too many wrong attempts")
        row.attempts += 1
        good = hmac.compare_digest(row.code_hash, _code_hash(row.salt, code))
        if good:
            row.used_at = utcnow()
        holder = row.holder
    if not good:
        raise HolderBindingFailed("OTP code is wrong")
    if subject_id != holder:
        raise HolderBindingFailed(f"credentialSubject.id must be the OTP holder {holder}")
    return HolderBinding("otp", holder)


def _locked_otp(session: Session, otp_id: str) -> HolderOtpRow | None:
    """The OTP row, locked against a concurrent attempt (the attempt counter must not be raced)."""
    table = HolderOtpRow.__table__
    assert isinstance(table, Table)
    session.execute(update(table).where(table.c.otp_id == otp_id).values(attempts=table.c.attempts))
    return session.get(HolderOtpRow, otp_id, populate_existing=True)
