"""The signed manifest of a policy bundle, and the identity (`bundle hash`) every decision records.

Why a manifest rather than signing the archive bytes: a tar.gz is not canonical (member order, times, gzip
headers differ between tools), so two byte-different archives of the same policy would carry different
signatures. The manifest lists the SHA-256 of every file; its RFC 8785 (JCS) form is what the publisher
signs and what `bundle_hash` digests, so the hash names the policy content, whoever repacked it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ies.policy.errors import BundleMalformed

__all__ = [
    "BUNDLE_FORMAT",
    "MANIFEST_FILE",
    "SIGNATURE_FILE",
    "BundleRef",
    "Manifest",
    "Publisher",
    "canonical_manifest",
    "manifest_hash",
    "parse_manifest",
]

BUNDLE_FORMAT = "ies-policy-bundle/1"
MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "signature.json"
DATA_FILE = "data.json"

_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_VERSION = r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$"
_PATH = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_ENTRYPOINT = r"^[a-z_][a-z0-9_]*(/[a-z_][a-z0-9_]*)*$"


class Publisher(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subscriber_id: str = Field(min_length=1, max_length=255)
    key_id: str = Field(min_length=1, max_length=255)


class Manifest(BaseModel):
    """What the publisher vouches for. Unknown fields are refused: a verifier must understand all it signs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = Field(pattern=f"^{re.escape(BUNDLE_FORMAT)}$")
    name: str = Field(pattern=_NAME)
    version: str = Field(pattern=_VERSION)
    revision: int = Field(ge=1, le=2**53)
    created: datetime
    publisher: Publisher
    description: str = Field(default="", max_length=2000)
    entrypoints: list[str] = Field(min_length=1, max_length=64)
    files: dict[str, str] = Field(min_length=1, max_length=256)

    @field_validator("created")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("created needs a time zone (use Z for UTC)")
        return value.astimezone(UTC)

    @field_validator("entrypoints")
    @classmethod
    def _entrypoints(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.match(_ENTRYPOINT, entry):
                raise ValueError(f"entrypoint {entry!r} is not of the form package/path/rule")
        return value

    @field_validator("files")
    @classmethod
    def _files(cls, value: dict[str, str]) -> dict[str, str]:
        for path, digest in value.items():
            if not _PATH.match(path) or path in (MANIFEST_FILE, SIGNATURE_FILE):
                raise ValueError(f"file name {path!r} is not allowed in a bundle")
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise ValueError(f"file {path!r}: digest is not a lower-case hex SHA-256")
        if DATA_FILE not in value:
            raise ValueError("a bundle needs data.json")
        if not any(p.endswith(".rego") for p in value):
            raise ValueError("a bundle needs at least one .rego module")
        return value

    def document(self) -> dict[str, Any]:
        out = self.model_dump(mode="json")
        out["created"] = self.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        return out


class BundleRef(NamedTuple):
    """(name, version, hash): what a decision records and what a contract pins."""

    name: str
    version: str
    hash: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.hash}


def canonical_manifest(document: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of the manifest document exactly as shipped: what is signed and hashed.

    Always the shipped JSON object, never a re-serialised model, so a verifier never disagrees with the
    signer about defaults or time formats."""
    return bytes(rfc8785.dumps(document))


def manifest_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_manifest(document)).hexdigest()


def parse_manifest(data: Any) -> Manifest:
    if not isinstance(data, dict):
        raise BundleMalformed("manifest.json is not a JSON object")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "manifest"
        raise BundleMalformed(f"manifest.json: {where}: {first['msg']}", details={"path": where}) from None
