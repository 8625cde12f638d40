"""Loading a policy bundle: every check passes before a single rule is compiled or evaluated.

Steps, in order (each raises; there is no result a caller could forget to look at):
  (1) read the archive: regular files only, safe relative names, no duplicates, bounded sizes
                                                                     → POL_BUNDLE_MALFORMED
  (2) parse signature.json and manifest.json                         → POL_BUNDLE_MALFORMED
  (3) the signing key is one the caller trusts                       → POL_BUNDLE_UNTRUSTED_KEY
  (4) Ed25519 signature over the RFC 8785 manifest                   → POL_BUNDLE_SIGNATURE_INVALID
  (5) the archive holds exactly the manifest's files, each with its SHA-256
                                                                     → POL_BUNDLE_HASH_MISMATCH
  (6) the manifest is well formed and data.json is a JSON object     → POL_BUNDLE_MALFORMED
Trust is checked before the signature so an attacker's own well-signed bundle gets the precise answer
"untrusted key" rather than a misleading "valid signature".
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ies.errors import UsageError
from ies.identity.keys import b64decode_strict, verify_ed25519
from ies.policy.bundle import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES
from ies.policy.errors import (
    BundleHashMismatch,
    BundleMalformed,
    BundleSignatureInvalid,
    BundleUntrustedKey,
)
from ies.policy.manifest import (
    DATA_FILE,
    MANIFEST_FILE,
    SIGNATURE_FILE,
    BundleRef,
    Manifest,
    canonical_manifest,
    manifest_hash,
    parse_manifest,
)

__all__ = ["TrustedKeys", "VerifiedBundle", "load_bundle", "peek_manifest", "read_archive"]

TrustedKeys = Iterable[bytes | str]
"""Ed25519 public keys, raw 32 bytes or base64."""


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose signature and file hashes have been checked; only these are ever compiled."""

    manifest: Manifest
    document: dict[str, Any]
    signature: dict[str, Any]
    files: dict[str, bytes]
    archive: bytes

    @property
    def hash(self) -> str:
        return manifest_hash(self.document)

    @property
    def ref(self) -> BundleRef:
        return BundleRef(self.manifest.name, self.manifest.version, self.hash)

    @property
    def data(self) -> dict[str, Any]:
        return dict(json.loads(self.files[DATA_FILE]))

    @property
    def modules(self) -> dict[str, str]:
        return {p: b.decode("utf-8") for p, b in sorted(self.files.items()) if p.endswith(".rego")}


def _archive_bytes(source: bytes | Path | str) -> bytes:
    if isinstance(source, bytes):
        return source
    path = Path(source)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"bundle {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"bundle {path} is not readable: {exc.strerror}") from None


def read_archive(archive: bytes) -> dict[str, bytes]:
    """Step (1): the members of a bundle archive, refusing anything that is not a plain, safe file."""
    try:
        raw = gzip.decompress(archive) if archive[:2] == b"\x1f\x8b" else archive
    except (OSError, EOFError, zlib.error):
        raise BundleMalformed("bundle is not a readable gzip archive") from None
    if len(raw) > MAX_TOTAL_BYTES + 512 * (MAX_FILES + 8):
        raise BundleMalformed(f"bundle expands past {MAX_TOTAL_BYTES} bytes")
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for info in tar:
                name = info.name
                if not info.isfile():
                    raise BundleMalformed(f"bundle member {name!r} is not a regular file")
                if name.startswith(("/", "./")) or ".." in name.split("/") or "\\" in name:
                    raise BundleMalformed(f"bundle member {name!r} has an unsafe name")
                if name in members:
                    raise BundleMalformed(f"bundle member {name!r} appears twice")
                if info.size > MAX_FILE_BYTES or len(members) >= MAX_FILES + 2:
                    raise BundleMalformed("bundle has too many or too large files")
                fh = tar.extractfile(info)
                members[name] = fh.read() if fh is not None else b""
    except tarfile.TarError:
        raise BundleMalformed("bundle is not a tar archive") from None
    return members


def _json_member(members: dict[str, bytes], name: str) -> dict[str, Any]:
    if name not in members:
        raise BundleMalformed(f"bundle has no {name}")
    try:
        value = json.loads(members[name])
    except (UnicodeDecodeError, ValueError):
        raise BundleMalformed(f"{name} is not JSON") from None
    if not isinstance(value, dict):
        raise BundleMalformed(f"{name} is not a JSON object")
    return value


def _trusted_set(trusted_keys: TrustedKeys) -> set[bytes]:
    out = set()
    for key in trusted_keys:
        raw = key if isinstance(key, bytes) else b64decode_strict(key, what="trusted key", lengths=(32,))
        if len(raw) != 32:
            raise UsageError("a trusted key is a 32-byte Ed25519 public key")
        out.add(raw)
    return out


def peek_manifest(source: bytes | Path | str) -> Manifest:
    """The manifest of a bundle WITHOUT any verification: only to find out whom to ask for the publisher
    key (e.g. the registry). Never act on it otherwise."""
    members = read_archive(_archive_bytes(source))
    return parse_manifest(_json_member(members, MANIFEST_FILE))


def load_bundle(source: bytes | Path | str, trusted_keys: TrustedKeys) -> VerifiedBundle:
    """Verify a bundle (bytes or a path to a .tar.gz) against the trusted publisher keys; fail closed."""
    archive = _archive_bytes(source)
    members = read_archive(archive)  # (1)
    signature = _json_member(members, SIGNATURE_FILE)  # (2)
    document = _json_member(members, MANIFEST_FILE)
    try:
        public_key = b64decode_strict(str(signature["public_key"]), what="public_key", lengths=(32,))
        sig = b64decode_strict(str(signature["signature"]), what="signature", lengths=(64,))
    except (KeyError, UsageError) as exc:
        raise BundleMalformed(f"signature.json is malformed: {exc}") from None
    if signature.get("alg") != "Ed25519":
        raise BundleMalformed(f"signature.json: unsupported alg {signature.get('alg')!r}")
    if public_key not in _trusted_set(trusted_keys):  # (3)
        raise BundleUntrustedKey(
            f"bundle signed by key {signature.get('key_id')!r} of {signature.get('publisher')!r}, "
            "which is not a trusted publisher key",
            details={"publisher": str(signature.get("publisher")), "key_id": str(signature.get("key_id"))},
        )
    if not verify_ed25519(public_key, canonical_manifest(document), sig):  # (4)
        raise BundleSignatureInvalid("the manifest's signature does not verify")
    manifest = parse_manifest(document)  # (6, structure; signed, so the publisher wrote it)
    if (manifest.publisher.subscriber_id, manifest.publisher.key_id) != (
        signature.get("publisher"),
        signature.get("key_id"),
    ):
        raise BundleSignatureInvalid("signature.json names a different publisher than the manifest")
    listed = set(manifest.files)  # (5)
    present = set(members) - {MANIFEST_FILE, SIGNATURE_FILE}
    if listed != present:
        extra, missing = sorted(present - listed), sorted(listed - present)
        raise BundleHashMismatch(
            f"bundle files differ from the manifest (extra: {extra}, missing: {missing})",
            details={"extra": extra, "missing": missing},
        )
    for path, digest in sorted(manifest.files.items()):
        if hashlib.sha256(members[path]).hexdigest() != digest:
            raise BundleHashMismatch(
                f"{path} does not match its SHA-256 in the manifest", details={"file": path}
            )
    files = {p: members[p] for p in manifest.files}
    try:  # (6, content)
        data = json.loads(files[DATA_FILE])
        for path, raw in files.items():
            if path.endswith(".rego"):
                raw.decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        raise BundleMalformed("data.json is not JSON or a module is not UTF-8") from None
    if not isinstance(data, dict):
        raise BundleMalformed("data.json is not a JSON object")
    return VerifiedBundle(manifest, document, signature, files, archive)
