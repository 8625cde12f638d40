"""Inclusion and consistency proofs as values: what the HTTP API serves and what a bundle carries.

Why values with `verify`: a peer receives a proof over the wire and checks it against a signed tree head it
already trusts; the proof object knows how to check itself with the RFC 9162 algorithms and raises when it
does not hold. Hashes travel as lower-case hex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ies.audit._merkle import leaf_hash, verify_consistency, verify_inclusion
from ies.errors import UsageError

__all__ = ["ConsistencyProof", "InclusionProof", "hex_list"]


def hex_list(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise UsageError(f"{what} must be a list of hex hashes")
    try:
        return [bytes.fromhex(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{what} holds a value that is not hex") from exc


def _int(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UsageError(f"proof field {name!r} must be a non-negative integer")
    return value


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof of the entry `entry_hash` at `leaf_index` in a tree of `tree_size` leaves."""

    leaf_index: int
    tree_size: int
    entry_hash: str
    path: tuple[bytes, ...]

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(bytes.fromhex(self.entry_hash))

    def verify(self, root: bytes) -> None:
        verify_inclusion(self.leaf_index, self.tree_size, self.leaf_hash, self.path, root)

    def to_dict(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "entry_hash": self.entry_hash,
            "leaf_hash": self.leaf_hash.hex(),
            "inclusion_path": [p.hex() for p in self.path],
        }

    @classmethod
    def from_dict(cls, data: Any) -> InclusionProof:
        if not isinstance(data, dict) or not isinstance(data.get("entry_hash"), str):
            raise UsageError("an inclusion proof must be an object with entry_hash")
        return cls(
            _int(data, "leaf_index"),
            _int(data, "tree_size"),
            data["entry_hash"],
            tuple(hex_list(data.get("inclusion_path"), "inclusion_path")),
        )


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 consistency proof that the tree of `first` leaves is a prefix of the tree of `second`."""

    first: int
    second: int
    path: tuple[bytes, ...]

    def verify(self, first_root: bytes, second_root: bytes) -> None:
        verify_consistency(self.first, self.second, first_root, second_root, self.path)

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "consistency_path": [p.hex() for p in self.path]}

    @classmethod
    def from_dict(cls, data: Any) -> ConsistencyProof:
        if not isinstance(data, dict):
            raise UsageError("a consistency proof must be an object")
        return cls(
            _int(data, "first"),
            _int(data, "second"),
            tuple(hex_list(data.get("consistency_path"), "consistency_path")),
        )
