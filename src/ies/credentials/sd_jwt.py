"""SD-JWT credentials: the issuer signs digests of claims, the holder reveals a subset, bound to its key.

Why: a consumer shows a bank its sanctioned load and tariff category without name, address or government-id
reference (IES Consumer Energy Passport checklist: "SD profile agreed (SD-JWT-VC typical)"). We follow
IETF SD-JWT (RFC 9901 / draft-ietf-oauth-selective-disclosure-jwt) as profiled by W3C VC-JOSE-COSE for the
VC Data Model (`typ: vc+sd-jwt`): the payload is the credential, each disclosable claim is replaced by the
SHA-256 digest of a disclosure `[salt, name, value]` in its parent's `_sd` array, and holder binding is
`cnf.jwk` plus a key-binding JWT (`typ: kb+jwt`, with `nonce`, `aud`, `iat` and `sd_hash` over the
presented issuer JWT and disclosures).

Why forging fails: a disclosure is accepted only if its digest is one the issuer signed; a made-up claim has
a digest nobody signed and is refused with VC_DISCLOSURE_INVALID, as is a duplicate or a claim name that
collides with a visible one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ies.credentials.errors import (
    ChallengeMismatch,
    CredentialMalformed,
    DisclosureInvalid,
    DomainMismatch,
    UnsupportedProofFormat,
)
from ies.credentials.issuer_keys import PublicKey, public_key_from_jwk
from ies.credentials.jose import (
    TYP_KB_JWT,
    TYP_SD_JWT,
    CompactJWS,
    check_signature,
    parse_compact,
    sign_compact,
)
from ies.credentials.keys import IssuerKey
from ies.credentials.timeutil import from_numeric_date, to_numeric_date
from ies.errors import UsageError
from ies.identity.did_errors import MultibaseInvalid
from ies.identity.multibase import b64url_decode, b64url_encode

__all__ = [
    "KB_JWT_MAX_AGE_S",
    "NEVER_DISCLOSABLE",
    "SDJWT",
    "Reconstructed",
    "check_key_binding",
    "disclosable_paths",
    "issue_sd_jwt",
    "parse_sd_jwt",
    "reconstruct",
    "sd_present",
]

KB_JWT_MAX_AGE_S = 300
"""A key-binding JWT older than this (plus skew) is refused: the nonce proves freshness, this bounds it."""

NEVER_DISCLOSABLE = frozenset(
    {"@context", "type", "issuer", "validFrom", "validUntil", "credentialStatus", "cnf", "iss", "nbf", "exp"}
)
"""Top-level members a verifier needs to process the credential at all; they are always visible."""

_SALT_BYTES = 16


@dataclass(frozen=True)
class SDJWT:
    """A parsed SD-JWT: the issuer-signed JWT, the disclosures given, the optional key-binding JWT."""

    issuer_jwt: CompactJWS
    disclosures: tuple[str, ...]
    key_binding: CompactJWS | None
    presented: str
    """`<issuer-jwt>~<disclosure>~…~`: exactly what the key-binding JWT's `sd_hash` covers."""


@dataclass(frozen=True)
class Reconstructed:
    credential: dict[str, Any]
    disclosed: tuple[str, ...]
    undisclosed: int
    """Digests in the payload that no presented disclosure opened (withheld claims or decoys)."""


def _digest(disclosure: str) -> str:
    return b64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def _disclosure(name: str, value: Any) -> str:
    salt = b64url_encode(secrets.token_bytes(_SALT_BYTES))
    return b64url_encode(json.dumps([salt, name, value], ensure_ascii=False).encode("utf-8"))


def _split_path(path: str) -> list[str]:
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise UsageError(
            f"disclosable path {path!r} must be dotted member names, e.g. credentialSubject.name"
        )
    return parts


def issue_sd_jwt(
    credential: Mapping[str, Any],
    key: IssuerKey,
    *,
    disclosable: Sequence[str],
    cnf_jwk: dict[str, str] | None,
) -> str:
    """The SD-JWT of `credential` with the `disclosable` members replaced by digests (deepest first)."""
    payload: dict[str, Any] = copy.deepcopy(dict(credential))
    paths = sorted({p for p in disclosable}, key=lambda p: -p.count("."))
    disclosures: list[str] = []
    for path in paths:
        parts = _split_path(path)
        if (len(parts) == 1 and parts[0] in NEVER_DISCLOSABLE) or parts[-1] in ("_sd", "_sd_alg", "..."):
            raise UsageError(f"{path!r} cannot be selectively disclosable: verifiers need it")
        parent: Any = payload
        for name in parts[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or parts[-1] not in parent:
            raise UsageError(
                f"disclosable path {path!r} names no member of the credential (arrays are not walked)"
            )
        encoded = _disclosure(parts[-1], parent.pop(parts[-1]))
        disclosures.append(encoded)
        parent.setdefault("_sd", []).append(_digest(encoded))
    for node in _objects(payload):
        if "_sd" in node:
            node["_sd"].sort()  # order must not reveal which claim is which
    payload["_sd_alg"] = "sha-256"
    if cnf_jwk is not None:
        payload["cnf"] = {"jwk": cnf_jwk}
    token = sign_compact(payload, key, typ=TYP_SD_JWT, cty="vc")
    return "~".join([token, *disclosures]) + "~"


def _objects(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def parse_sd_jwt(text: str) -> SDJWT:
    """Split `<jwt>~<d1>~…~<dn>~[<kb-jwt>]`; CredentialMalformed when it is not an SD-JWT."""
    parts = text.strip().split("~")
    if len(parts) < 2:
        raise CredentialMalformed("an SD-JWT has the form <jwt>~<disclosure>~…~[<kb-jwt>]")
    issuer_jwt = parse_compact(parts[0], what="SD-JWT")
    typ = issuer_jwt.header.get("typ")
    if typ not in (TYP_SD_JWT, "dc+sd-jwt", "example+sd-jwt"):
        raise UnsupportedProofFormat(f"SD-JWT typ {typ!r} is not vc+sd-jwt")
    disclosures = tuple(parts[1:-1])
    if any(not d for d in disclosures):
        raise CredentialMalformed("SD-JWT has an empty disclosure (two '~' in a row)")
    kb = parse_compact(parts[-1], what="key-binding JWT") if parts[-1] else None
    presented = "~".join(parts[:-1]) + "~"
    return SDJWT(issuer_jwt, disclosures, kb, presented)


def _decode_disclosure(encoded: str) -> list[Any]:
    try:
        value = json.loads(b64url_decode(encoded))
    except (MultibaseInvalid, UnicodeDecodeError, ValueError) as exc:
        raise DisclosureInvalid("a disclosure is not base64url-encoded JSON") from exc
    if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
        raise DisclosureInvalid("a disclosure must be [salt, name, value] or [salt, value]")
    if len(value) == 3 and (not isinstance(value[1], str) or value[1] in ("_sd", "...")):
        raise DisclosureInvalid(f"a disclosure names an invalid claim {value[1]!r}")
    return value


def reconstruct(payload: Mapping[str, Any], disclosures: Sequence[str]) -> Reconstructed:
    """Put the presented disclosures back where the issuer signed their digests (SD-JWT §7.1)."""
    if payload.get("_sd_alg", "sha-256") != "sha-256":
        raise UnsupportedProofFormat(f"SD-JWT _sd_alg {payload.get('_sd_alg')!r} is not supported")
    by_digest: dict[str, list[Any]] = {}
    for encoded in disclosures:
        digest = _digest(encoded)
        if digest in by_digest:
            raise DisclosureInvalid("the same disclosure is presented twice")
        by_digest[digest] = _decode_disclosure(encoded)
    used: set[str] = set()
    disclosed: list[str] = []
    undisclosed = 0

    def walk(node: Any, path: tuple[str, ...]) -> Any:
        nonlocal undisclosed
        if isinstance(node, list):
            out_list: list[Any] = []
            for item in node:
                if isinstance(item, dict) and set(item) == {"..."}:
                    digest = item["..."]
                    if digest not in by_digest:
                        undisclosed += 1
                        continue
                    entry = _take(digest, 2)
                    out_list.append(walk(entry[1], path))
                else:
                    out_list.append(walk(item, path))
            return out_list
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {k: walk(v, (*path, k)) for k, v in node.items() if k not in ("_sd", "_sd_alg")}
        digests = node.get("_sd", [])
        if not isinstance(digests, list):
            raise CredentialMalformed("an _sd member is not an array of digests")
        for digest in digests:
            if digest not in by_digest:
                undisclosed += 1
                continue
            _, name, value = _take(digest, 3)
            if not path and name in NEVER_DISCLOSABLE:
                raise DisclosureInvalid(
                    f"{name!r} must never be selectively disclosable (a holder could hide it)"
                )
            if name in out:
                raise DisclosureInvalid(f"disclosed claim {name!r} collides with a visible claim")
            out[name] = walk(value, (*path, name))
            disclosed.append(".".join((*path, name)))
        return out

    def _take(digest: str, size: int) -> list[Any]:
        if digest in used:
            raise DisclosureInvalid("the issuer's payload references one digest twice")
        entry = by_digest[digest]
        if len(entry) != size:
            raise DisclosureInvalid("a disclosure has the wrong shape for where its digest sits")
        used.add(digest)
        return entry

    credential = walk(dict(payload), ())
    unreferenced = set(by_digest) - used
    if unreferenced:
        raise DisclosureInvalid(
            f"{len(unreferenced)} disclosure(s) match no digest the issuer signed (a claim was forged in)"
        )
    credential.pop("cnf", None)
    return Reconstructed(credential, tuple(sorted(disclosed)), undisclosed)


def _paths_and_disclosures(sd: SDJWT) -> dict[str, str]:
    """Dotted path of every disclosure the holder holds → the encoded disclosure."""
    by_digest = {_digest(d): d for d in sd.disclosures}
    found: dict[str, str] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for digest in node.get("_sd", []) if isinstance(node.get("_sd"), list) else []:
                encoded = by_digest.get(digest)
                if encoded is None:
                    continue
                entry = _decode_disclosure(encoded)
                if len(entry) == 3:
                    found[".".join((*path, entry[1]))] = encoded
                    walk(entry[2], (*path, entry[1]))
            for key, value in node.items():
                if key != "_sd":
                    walk(value, (*path, key))

    walk(sd.issuer_jwt.payload, ())
    return found


def disclosable_paths(sd_jwt: str) -> list[str]:
    """The claims a holder of this SD-JWT can choose to reveal, as dotted paths."""
    return sorted(_paths_and_disclosures(parse_sd_jwt(sd_jwt)))


def sd_present(
    sd_jwt: str,
    *,
    reveal: Sequence[str],
    holder_key: IssuerKey,
    nonce: str,
    aud: str,
    at: datetime | None = None,
) -> str:
    """The holder's presentation: the disclosures of `reveal` (with their parents) and a key-binding JWT."""
    sd = parse_sd_jwt(sd_jwt)
    cnf = sd.issuer_jwt.payload.get("cnf")
    if not isinstance(cnf, Mapping) or cnf.get("jwk") != holder_key.public_jwk():
        raise UsageError("this SD-JWT is not bound to the holder key given (cnf.jwk differs)")
    available = _paths_and_disclosures(sd)
    chosen: set[str] = set()
    for path in reveal:
        _split_path(path)
        matches = {p for p in available if p == path or p.startswith(path + ".") or path.startswith(p + ".")}
        if not matches and not _visible(sd.issuer_jwt.payload, path):
            raise UsageError(f"{path!r} is neither a disclosable claim nor a visible one of this SD-JWT")
        chosen |= matches
    presented = "~".join([sd.issuer_jwt.token, *(available[p] for p in sorted(chosen))]) + "~"
    moment = at or datetime.now(UTC)
    claims = {
        "iat": to_numeric_date(moment),
        "aud": aud,
        "nonce": nonce,
        "sd_hash": b64url_encode(hashlib.sha256(presented.encode("ascii")).digest()),
    }
    return presented + sign_compact(claims, holder_key, typ=TYP_KB_JWT, kid=False)


def _visible(payload: Mapping[str, Any], path: str) -> bool:
    node: Any = payload
    for name in path.split("."):
        if not isinstance(node, Mapping) or name not in node:
            return False
        node = node[name]
    return True


def check_key_binding(
    sd: SDJWT,
    *,
    at: datetime,
    skew_s: int,
    nonce: str | None = None,
    aud: str | None = None,
) -> PublicKey:
    """Verify the key-binding JWT against `cnf.jwk`; returns the holder key. Raises DisclosureInvalid."""
    cnf = sd.issuer_jwt.payload.get("cnf")
    if sd.key_binding is None:
        raise DisclosureInvalid("the SD-JWT carries no key-binding JWT, so the holder is not proven")
    if not isinstance(cnf, Mapping) or not isinstance(cnf.get("jwk"), Mapping):
        raise DisclosureInvalid("the SD-JWT names no holder key (cnf.jwk), so key binding cannot be checked")
    kb = sd.key_binding
    if kb.header.get("typ") != TYP_KB_JWT:
        raise DisclosureInvalid(f"key-binding JWT typ is {kb.header.get('typ')!r}, not kb+jwt")
    holder = public_key_from_jwk(cnf["jwk"], "cnf.jwk", "holder")
    check_signature(kb, holder, what="key-binding JWT")
    expected = b64url_encode(hashlib.sha256(sd.presented.encode("ascii")).digest())
    if kb.payload.get("sd_hash") != expected:
        raise DisclosureInvalid("key-binding JWT sd_hash does not cover the presented disclosures")
    issued = from_numeric_date(kb.payload.get("iat"), "key-binding JWT iat")
    if issued is None:
        raise DisclosureInvalid("key-binding JWT has no iat")
    age_s = (at - issued).total_seconds()
    if age_s < -skew_s or age_s > KB_JWT_MAX_AGE_S + skew_s:
        raise DisclosureInvalid(
            f"key-binding JWT was made {age_s:.0f} s from now (allowed 0…{KB_JWT_MAX_AGE_S})"
        )
    if nonce is not None and kb.payload.get("nonce") != nonce:
        raise ChallengeMismatch("key-binding JWT nonce differs from the challenge")
    if aud is not None and kb.payload.get("aud") != aud:
        raise DomainMismatch("key-binding JWT aud differs from the expected domain")
    return holder
