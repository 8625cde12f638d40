"""Holding a peer to its log: check the signed tree heads we kept from it against what it serves now.

Why: a node cannot prove to itself that a peer did not rewrite its log, but it can keep the peer's signed
heads and later ask for consistency proofs from each of them to the peer's newest head. If any proof fails,
or the peer signed two different roots for one size, the peer rewrote history, and the two signatures prove
it. This only needs the peer's public HTTP API (`/audit/sth`, `/audit/proof/consistency`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from ies.audit._errors import InvalidProof, InvalidTreeHead
from ies.audit._findings import Findings
from ies.audit._proofs import ConsistencyProof
from ies.audit._sth import SignedTreeHead
from ies.errors import PeerUnreachable, UsageError

__all__ = ["check_peer"]


def _get_json(client: httpx.Client, path: str, params: dict[str, int] | None = None) -> Any:
    try:
        resp = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise PeerUnreachable(
            f"cannot reach the peer at {client.base_url}: {exc.__class__.__name__}"
        ) from exc
    if resp.status_code != 200:
        raise PeerUnreachable(f"the peer answered {resp.status_code} to {path}")
    try:
        return resp.json()
    except ValueError as exc:
        raise PeerUnreachable(f"the peer's answer to {path} is not JSON") from exc


def check_peer(
    client: httpx.Client, kept: Sequence[SignedTreeHead], trusted_key: bytes | None = None
) -> tuple[SignedTreeHead, Findings]:
    """Check kept heads of a peer's log against the peer's newest head; returns that head and the findings.

    1. The newest head is signed by the trusted key (or, if none is given, by the key of the kept heads).
    2. Each kept head is validly signed by the same key.
    3. No two heads sign different roots for one size.
    4. Each kept head is a prefix of the newest head: the peer's consistency proof verifies.
    """
    findings = Findings()
    try:
        current = SignedTreeHead.from_dict(_get_json(client, "/audit/sth"))
    except UsageError as exc:
        raise PeerUnreachable(f"the peer's signed tree head is malformed: {exc.message}") from exc
    key = trusted_key or (kept[0].public_key_bytes if kept else None)
    try:
        current.verify(key)
    except InvalidTreeHead as exc:
        findings.add("tree_head", None, f"the peer's newest head: {exc.message}")
        return current, findings
    key = current.public_key_bytes
    roots: dict[int, str] = {current.tree_size: current.root_hash}
    for head in kept:
        try:
            head.verify(key)
        except InvalidTreeHead as exc:
            findings.add("tree_head", None, f"kept head of size {head.tree_size}: {exc.message}")
            continue
        if roots.setdefault(head.tree_size, head.root_hash) != head.root_hash:
            findings.add("tree_head", None, f"the peer signed two different roots for size {head.tree_size}")
            continue
        if head.tree_size > current.tree_size:
            findings.add(
                "tree_head",
                None,
                f"the peer's log shrank: a kept head covers {head.tree_size} entries, it now serves "
                f"{current.tree_size}",
            )
            continue
        params = {"first": head.tree_size, "second": current.tree_size}
        try:
            proof = ConsistencyProof.from_dict(_get_json(client, "/audit/proof/consistency", params))
            if (proof.first, proof.second) != (head.tree_size, current.tree_size):
                raise InvalidProof("the peer sent a proof for other tree sizes")
            proof.verify(head.root, current.root)
        except (InvalidProof, UsageError) as exc:
            findings.add(
                "tree_head",
                None,
                f"the kept head of size {head.tree_size} is not a prefix of the peer's log of size "
                f"{current.tree_size}: {exc.message}",
            )
    return current, findings
