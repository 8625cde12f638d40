"""Building, signing and packing a policy bundle from a source folder.

A source folder holds `*.rego` modules, one `data.json` and a `bundle.toml` naming the bundle:

    [bundle]
    name = "ies-entitlements"
    version = "1.0.0"
    revision = 1                 # strictly increasing per name: nodes refuse rollbacks
    description = "…"
    entrypoints = ["ies/access/decision"]

Building compiles the policy first (a publisher must never sign a policy that does not compile), then
writes the manifest (every file's SHA-256), signs its RFC 8785 form with the publisher's Ed25519 key into a
detached `signature.json`, and packs everything as a deterministic .tar.gz (sorted members, zero times and
owners), so the same source and key give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ies.errors import UsageError
from ies.identity.keys import SigningKeyPair, b64
from ies.policy.errors import BundleMalformed
from ies.policy.manifest import (
    BUNDLE_FORMAT,
    DATA_FILE,
    MANIFEST_FILE,
    SIGNATURE_FILE,
    canonical_manifest,
    manifest_hash,
    parse_manifest,
)

__all__ = [
    "SOURCE_FILE",
    "BundleSource",
    "build_bundle",
    "pack_bundle",
    "read_source",
    "sign_manifest",
]

SOURCE_FILE = "bundle.toml"
MAX_FILES = 256
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class BundleSource:
    """The files of a bundle and the metadata the publisher gives it (not yet signed)."""

    name: str
    version: str
    revision: int
    description: str
    entrypoints: list[str]
    files: dict[str, bytes]


def read_source(folder: Path, **overrides: Any) -> BundleSource:
    """Read `bundle.toml`, every `*.rego` below the folder and `data.json`; keyword overrides win."""
    if not folder.is_dir():
        raise UsageError(f"bundle source {folder} is not a folder")
    meta: dict[str, Any] = {}
    toml_path = folder / SOURCE_FILE
    if toml_path.is_file():
        try:
            meta = dict(tomllib.loads(toml_path.read_text("utf-8")).get("bundle", {}))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{toml_path}: {exc}") from None
    meta.update({k: v for k, v in overrides.items() if v is not None})
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and (rel.endswith(".rego") or rel == DATA_FILE):
            files[rel] = path.read_bytes()
    if DATA_FILE not in files:
        raise UsageError(f"bundle source {folder} has no data.json")
    try:
        data = json.loads(files[DATA_FILE])
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{folder / DATA_FILE} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{folder / DATA_FILE} must hold one JSON object")
    missing = [k for k in ("name", "version", "revision", "entrypoints") if k not in meta]
    if missing:
        raise UsageError(f"bundle source {folder}: give {', '.join(missing)} in bundle.toml or as options")
    try:
        revision = int(meta["revision"])
    except (TypeError, ValueError):
        raise UsageError("revision must be a whole number") from None
    return BundleSource(
        name=str(meta["name"]),
        version=str(meta["version"]),
        revision=revision,
        description=str(meta.get("description", "")),
        entrypoints=[str(e) for e in meta["entrypoints"]],
        files=files,
    )


def sign_manifest(document: dict[str, Any], key: SigningKeyPair) -> dict[str, Any]:
    """The detached signature document: who signed, with which key, over which manifest digest."""
    manifest = parse_manifest(document)
    return {
        "alg": "Ed25519",
        "canonicalization": "RFC8785",
        "publisher": manifest.publisher.subscriber_id,
        "key_id": manifest.publisher.key_id,
        "public_key": key.public_key_b64,
        "manifest_sha256": manifest_hash(document),
        "signature": b64(key.sign(canonical_manifest(document))),
    }


def build_bundle(
    source: BundleSource,
    key: SigningKeyPair,
    *,
    publisher: str,
    key_id: str,
    created: datetime | None = None,
) -> bytes:
    """Compile-check, write the manifest, sign it and pack the bundle; returns the .tar.gz bytes."""
    from ies.policy.engine import compile_modules  # the engine needs regopy; keep this module light

    compile_modules(source.files, source.entrypoints)  # raises BundleCompileFailed
    document = parse_manifest(
        {
            "format": BUNDLE_FORMAT,
            "name": source.name,
            "version": source.version,
            "revision": source.revision,
            "created": (created or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "publisher": {"subscriber_id": publisher, "key_id": key_id},
            "description": source.description,
            "entrypoints": source.entrypoints,
            "files": {p: hashlib.sha256(b).hexdigest() for p, b in source.files.items()},
        }
    ).document()
    signature = sign_manifest(document, key)
    members = dict(source.files)
    members[MANIFEST_FILE] = json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"
    members[SIGNATURE_FILE] = json.dumps(signature, indent=2, sort_keys=True).encode() + b"\n"
    return pack_bundle(members)


def pack_bundle(members: dict[str, bytes]) -> bytes:
    """A deterministic tar.gz of the given members (sorted, mtime 0, root-owned, mode 0644)."""
    if len(members) > MAX_FILES + 2:
        raise BundleMalformed(f"a bundle holds at most {MAX_FILES} files")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(members):
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)
