"""`did:web`: where a DID's document lives, and the document a node publishes there.

Why: IES institutions (DISCOMs, issuers, Beckn participants) are `did:web` identities; a verifier
fetches `https://<host>/.well-known/did.json` (or `/<path>/did.json` for `did:web:<host>:<path>`) and
finds the node's keys in it. The mapping follows the W3C CCG did:web spec: `:` separates path
segments, a port is written `%3A`, the document must come back with 200 and no redirect. Path segments
stay percent-encoded in the URL exactly as in the DID (IES asset ids such as `…:assets:meter:A%2F1` keep
their encoding), and `.`/`..` segments are refused so a DID can never walk up a server's tree.

The document builder publishes every Ed25519 signing key in `verificationMethod`, `authentication` and
`assertionMethod`, and every X25519 key in `keyAgreement`, each under its own fragment; during a key
rotation the old and new keys are listed together, each with its own validity (`expires` and `revoked`
are the W3C Controlled Identifiers properties; `validFrom` is our extension, read by our resolver).
A revoked key stays listed, so old signatures can be explained, but is dropped from every relationship.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from ies.errors import UsageError
from ies.identity.did_errors import DIDInvalid
from ies.identity.did_syntax import parse_did
from ies.identity.keys import NodeKeys
from ies.identity.verification_method import KeyFormat, KeyType, context_for, make_method

__all__ = [
    "DIDWebLocation",
    "PublishedKey",
    "build_did_document",
    "did_web_for_subscriber",
    "did_web_from_url",
    "did_web_location",
    "format_did_time",
    "is_loopback_host",
    "node_did_document",
]

_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_FRAGMENT_RE = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@dataclass(frozen=True)
class DIDWebLocation:
    """Where a did:web document is served: host, optional port and the (still percent-encoded) path."""

    host: str
    port: int | None
    path_segments: tuple[str, ...]

    @property
    def authority(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def document_path(self) -> str:
        """`/.well-known/did.json` for a bare domain, else `/<segments>/did.json`."""
        if not self.path_segments:
            return "/.well-known/did.json"
        return "/" + "/".join(self.path_segments) + "/did.json"

    def document_url(self, *, scheme: str = "https") -> str:
        return f"{scheme}://{self.authority}{self.document_path}"


def did_web_location(did: str) -> DIDWebLocation:
    """Map a did:web to its host, port and path (the did:web "Read" step 1-4); DIDInvalid when it cannot."""
    parsed = parse_did(did)
    if parsed.method != "web":
        raise DIDInvalid(f"{did!r} is not a did:web")
    domain, *segments = parsed.method_specific_id.split(":")
    host, port = _split_host_port(unquote(domain), did)
    for segment in segments:
        decoded = unquote(segment)
        parts = decoded.split("/")
        if decoded == "" or any(p in (".", "..") for p in parts) or any(ord(c) < 0x20 for c in decoded):
            raise DIDInvalid(f"{did!r} has a path segment {segment!r} that would leave the DID's path")
    return DIDWebLocation(host=host, port=port, path_segments=tuple(segments))


def _split_host_port(domain: str, did: str) -> tuple[str, int | None]:
    host, colon, port_text = domain.partition(":")
    port: int | None = None
    if colon:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536 or port_text.startswith("0"):
            raise DIDInvalid(f"{did!r} has an invalid port {port_text!r} (write it as host%3APORT)")
        port = int(port_text)
    if not _is_host(host):
        raise DIDInvalid(f"{did!r}: {host!r} is not a domain name or IPv4 address")
    return host.lower(), port


def _is_host(host: str) -> bool:
    if not host or len(host) > 253:
        return False
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return all(_LABEL_RE.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and 127.0.0.0/8 (and ::1): hosts whose traffic never leaves the machine."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def did_web_from_url(url: str) -> str:
    """The did:web of a node reachable at `url`.

    `http://127.0.0.1:8001/users/a` becomes `did:web:127.0.0.1%3A8001:users:a`.

    The scheme is dropped (did:web always means https; the sandbox reaches plain-http nodes through the
    resolver's override map or its loopback rule), and `/.well-known` or a trailing `/did.json` is ignored.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url!r} is not an http(s) URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{url!r}: a node URL for did:web has no query, fragment or user info")
    domain = parts.hostname if parts.port is None else f"{parts.hostname}%3A{parts.port}"
    path = parts.path.rstrip("/")
    path = path.removesuffix("/did.json").removesuffix("/.well-known")
    segments = [s for s in path.split("/") if s]
    did = ":".join(["did:web", domain, *segments])
    did_web_location(did)  # validates host, port and segments with the same rules as resolution
    return did


def did_web_for_subscriber(subscriber_id: str) -> str:
    """The did:web of a Beckn participant: its subscriber id when that already is a did:web, else
    `did:web:<subscriber_id>` for a hostname-style id (`bap1.ies.local` → `did:web:bap1.ies.local`)."""
    did = subscriber_id if subscriber_id.startswith("did:web:") else f"did:web:{subscriber_id}"
    try:
        did_web_location(did)
    except DIDInvalid as exc:
        raise UsageError(f"subscriber id {subscriber_id!r} gives no did:web: {exc.message}") from exc
    return did


@dataclass(frozen=True)
class PublishedKey:
    """One key a node publishes in its DID document, with its validity window during a rotation."""

    fragment: str
    key_type: KeyType
    public_key: bytes
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if not _FRAGMENT_RE.fullmatch(self.fragment):
            raise UsageError(
                f"key fragment {self.fragment!r} must be 1-128 characters of letters, digits, "
                "'.', '_', '~' or '-'"
            )
        if len(self.public_key) != 32:
            raise UsageError(f"{self.key_type} public key {self.fragment!r} must be 32 bytes")
        for name in ("valid_from", "valid_until", "revoked_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise UsageError(f"key {self.fragment!r}: {name} must be timezone-aware")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise UsageError(f"key {self.fragment!r}: valid_until must be after valid_from")


def format_did_time(moment: datetime) -> str:
    """XML Schema dateTimeStamp in UTC with a 'Z', the form `expires` and `revoked` take."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_did_document(
    did: str,
    keys: Sequence[PublishedKey],
    *,
    key_format: KeyFormat = "Multikey",
    services: Iterable[dict[str, Any]] = (),
    also_known_as: Iterable[str] = (),
) -> dict[str, Any]:
    """The DID document publishing `keys` for `did` (any method, though did:web is what nodes serve)."""
    parse_did(did)
    fragments = [k.fragment for k in keys]
    if len(set(fragments)) != len(fragments):
        raise UsageError(f"key fragments must be unique, got {fragments}")
    doc: dict[str, Any] = {
        "@context": context_for(key_format, with_x25519=any(k.key_type == "X25519" for k in keys)),
        "id": did,
    }
    if aka := list(also_known_as):
        doc["alsoKnownAs"] = aka
    methods: list[dict[str, Any]] = []
    relations: dict[str, list[str]] = {"authentication": [], "assertionMethod": [], "keyAgreement": []}
    for key in keys:
        method_id = f"{did}#{key.fragment}"
        method = make_method(method_id, did, key.key_type, key.public_key, key_format)
        if key.valid_from is not None:
            method["validFrom"] = format_did_time(key.valid_from)
        if key.valid_until is not None:
            method["expires"] = format_did_time(key.valid_until)
        if key.revoked_at is not None:
            method["revoked"] = format_did_time(key.revoked_at)
        methods.append(method)
        if key.revoked_at is not None:
            continue
        targets = ("keyAgreement",) if key.key_type == "X25519" else ("authentication", "assertionMethod")
        for relation in targets:
            relations[relation].append(method_id)
    doc["verificationMethod"] = methods
    doc.update({name: ids for name, ids in relations.items() if ids})
    service_list = [dict(s) for s in services]
    for service in service_list:
        if (
            not isinstance(service.get("id"), str)
            or "type" not in service
            or "serviceEndpoint" not in service
        ):
            raise UsageError("each service needs an 'id', a 'type' and a 'serviceEndpoint'")
        if service["id"].startswith("#"):
            service["id"] = did + service["id"]
    if service_list:
        doc["service"] = service_list
    return doc


def node_did_document(
    did: str,
    node_keys: NodeKeys,
    *,
    signing_valid_from: datetime | None = None,
    signing_valid_until: datetime | None = None,
    previous_keys: Sequence[PublishedKey] = (),
    key_format: KeyFormat = "Multikey",
    services: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A node's document: its current signing key under `#<key_id>`, its encryption key under
    `#<key_id>-x25519`, and any keys still inside their rotation window (`previous_keys`)."""
    current = [
        PublishedKey(
            fragment=node_keys.key_id,
            key_type="Ed25519",
            public_key=node_keys.signing.public_key,
            valid_from=signing_valid_from,
            valid_until=signing_valid_until,
        ),
        PublishedKey(
            fragment=f"{node_keys.key_id}-x25519",
            key_type="X25519",
            public_key=node_keys.encryption.public_key,
        ),
    ]
    return build_did_document(did, [*current, *previous_keys], key_format=key_format, services=services)
