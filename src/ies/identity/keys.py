"""Signing (Ed25519) and encryption (X25519) key pairs, and their files.

Why PyNaCl: libsodium verifies Ed25519 about twice as fast as `cryptography` on this hardware, and signature
checks sit on the hot path of every Beckn message. Private material never appears in `repr`, logs or error
messages; key files are created with mode 0600 before any byte is written.

Beckn configs ship a private key either as a base64 32-byte seed (beckn-onix) or as 64 bytes seed‖public
(BECKN-006, ONDC); `SigningKeyPair.from_private_b64` accepts both and checks the public half when given.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.public import PrivateKey as _X25519PrivateKey
from nacl.signing import SigningKey as _SigningKey
from nacl.signing import VerifyKey as _VerifyKey

from ies.errors import UsageError

__all__ = [
    "EncryptionKeyPair",
    "NodeKeys",
    "SigningKeyPair",
    "b64",
    "b64decode_strict",
    "load_node_keys",
    "save_node_keys",
    "verify_ed25519",
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str, *, what: str = "value", lengths: tuple[int, ...] | None = None) -> bytes:
    """Decode standard base64, raising UsageError (never binascii.Error) with a message naming `what`."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UsageError(f"{what} is not valid base64") from exc
    if lengths is not None and len(raw) not in lengths:
        want = " or ".join(str(n) for n in lengths)
        raise UsageError(f"{what} must decode to {want} bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True)
class SigningKeyPair:
    """An Ed25519 key pair; `seed` is the 32-byte private seed."""

    seed: bytes = field(repr=False)
    public_key: bytes

    @classmethod
    def generate(cls) -> SigningKeyPair:
        key = _SigningKey.generate()
        return cls(seed=bytes(key), public_key=bytes(key.verify_key))

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKeyPair:
        if len(seed) != 32:
            raise UsageError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
        key = _SigningKey(seed)
        return cls(seed=seed, public_key=bytes(key.verify_key))

    @classmethod
    def from_private_b64(cls, text: str) -> SigningKeyPair:
        """Accept a base64 32-byte seed or 64-byte seed‖public key (the two forms Beckn configs use)."""
        raw = b64decode_strict(text, what="private key", lengths=(32, 64))
        pair = cls.from_seed(raw[:32])
        if len(raw) == 64 and raw[32:] != pair.public_key:
            raise UsageError("private key: the last 32 bytes are not the public key of the seed")
        return pair

    @property
    def public_key_b64(self) -> str:
        return b64(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return _signer(self.seed).sign(data).signature


_SIGNER_CACHE: dict[bytes, _SigningKey] = {}


def _signer(seed: bytes) -> _SigningKey:
    # Expanding a seed costs a scalar multiplication; cache it per seed (bounded: a node holds few keys).
    key = _SIGNER_CACHE.get(seed)
    if key is None:
        if len(_SIGNER_CACHE) > 64:
            _SIGNER_CACHE.clear()
        key = _SIGNER_CACHE[seed] = _SigningKey(seed)
    return key


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` under `public_key`."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        _VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class EncryptionKeyPair:
    """An X25519 key pair for the registry's encrypted subscription challenge and payload encryption."""

    private_key: bytes = field(repr=False)
    public_key: bytes

    @classmethod
    def generate(cls) -> EncryptionKeyPair:
        key = _X25519PrivateKey.generate()
        return cls(private_key=bytes(key), public_key=bytes(key.public_key))

    @classmethod
    def from_private(cls, private_key: bytes) -> EncryptionKeyPair:
        if len(private_key) != 32:
            raise UsageError(f"an X25519 private key is 32 bytes, got {len(private_key)}")
        return cls(private_key=private_key, public_key=bytes(_X25519PrivateKey(private_key).public_key))

    @property
    def public_key_b64(self) -> str:
        return b64(self.public_key)


@dataclass(frozen=True)
class NodeKeys:
    """What a node holds: its current signing key (with its registry key id) and its encryption key."""

    key_id: str
    signing: SigningKeyPair
    encryption: EncryptionKeyPair

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "Ed25519+X25519",
            "key_id": self.key_id,
            "seed_b64": b64(self.signing.seed),
            "public_key_b64": self.signing.public_key_b64,
            "encr_private_key_b64": b64(self.encryption.private_key),
            "encr_public_key_b64": self.encryption.public_key_b64,
        }

    @classmethod
    def generate(cls, key_id: str) -> NodeKeys:
        return cls(key_id=key_id, signing=SigningKeyPair.generate(), encryption=EncryptionKeyPair.generate())


def _write_private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def save_node_keys(path: Path, keys: NodeKeys) -> None:
    """Write a key file with mode 0600 (created with that mode, so it is never readable by others)."""
    _write_private_file(path, json.dumps(keys.to_json(), indent=2) + "\n")


def load_node_keys(path: Path) -> NodeKeys:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"key file {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise UsageError(f"key file {path} is not a readable JSON key file") from exc
    try:
        signing = SigningKeyPair.from_seed(b64decode_strict(data["seed_b64"], what="seed_b64", lengths=(32,)))
        encryption = EncryptionKeyPair.from_private(
            b64decode_strict(data["encr_private_key_b64"], what="encr_private_key_b64", lengths=(32,))
        )
        key_id = str(data["key_id"])
    except (KeyError, TypeError) as exc:
        raise UsageError(f"key file {path} lacks a field: {exc}") from exc
    if data.get("public_key_b64") and data["public_key_b64"] != signing.public_key_b64:
        raise UsageError(f"key file {path}: public_key_b64 does not match the seed")
    return NodeKeys(key_id=key_id, signing=signing, encryption=encryption)
