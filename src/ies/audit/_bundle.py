"""Export bundles: a range of entries a regulator can verify offline, with nothing but the file and our key.

Why this content: the entries alone prove nothing (whoever wrote the file could have written anything). The
bundle carries a tree head the node signed, an RFC 9162 inclusion proof of every entry against it, and every
earlier head the node signed with a consistency proof to the bundle's head, so the verifier checks (1) the
signature, (2) that each entry, rehashed from its content, is the leaf the signed tree holds at its
position, (3) that the range is complete and in order, and (4) that the earlier heads are prefixes of this
one: the log was only ever appended to. Positions of anything wrong are reported like `ies audit verify`
does for a database.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from ies.audit._diff import check_chain, content_hash
from ies.audit._entry import AuditEntry, format_time
from ies.audit._errors import InvalidProof, InvalidTreeHead
from ies.audit._findings import Findings
from ies.audit._log import AuditLog
from ies.audit._proofs import ConsistencyProof, InclusionProof
from ies.audit._sth import SignedTreeHead
from ies.errors import UsageError

__all__ = ["BUNDLE_FORMAT", "export_bundle", "verify_bundle"]

BUNDLE_FORMAT = "ies.audit.bundle/1"


def export_bundle(engine: Engine, start: int, end: int | None = None) -> dict[str, Any]:
    """Entries [start, end) with the newest signed tree head covering them and every proof needed offline."""
    log = AuditLog(engine)
    head = log.latest_tree_head()
    if head is None:
        raise UsageError("no signed tree head has been published yet: run `ies audit publish` first")
    end = head.tree_size if end is None else end
    if not 0 <= start <= end:
        raise UsageError(f"bad range: --from {start} --to {end}")
    if end > head.tree_size:
        raise UsageError(
            f"the newest signed tree head covers {head.tree_size} entries, fewer than --to {end}: "
            "publish a new tree head first"
        )
    entries = list(log.entries(start, end))
    proofs = [log.inclusion_proof(e.seq, head.tree_size) for e in entries]
    earlier = [h for h in log.tree_heads() if h.tree_size <= head.tree_size and h != head]
    consistency = [log.consistency_proof(h.tree_size, head.tree_size) for h in earlier]
    return {
        "format": BUNDLE_FORMAT,
        "created_at": format_time(datetime.now(UTC)),
        "range": {"from": start, "to": end},
        "tree_head": head.to_dict(),
        "entries": [e.to_dict() for e in entries],
        "inclusion_proofs": [p.to_dict() for p in proofs],
        "earlier_tree_heads": [h.to_dict() for h in earlier],
        "consistency_proofs": [c.to_dict() for c in consistency],
    }


def _list(bundle: dict[str, Any], name: str) -> list[Any]:
    value = bundle.get(name)
    if not isinstance(value, list):
        raise UsageError(f"bundle field {name!r} must be a list")
    return value


def verify_bundle(bundle: Any, trusted_key: bytes | None = None) -> tuple[SignedTreeHead, Findings]:
    """Check a bundle offline; returns its signed head and the findings (empty when the bundle is sound).

    Raises UsageError when the file is not a bundle at all (unusable input, not evidence of tampering).
    """
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise UsageError(f"not an audit bundle (format must be {BUNDLE_FORMAT!r})")
    findings = Findings()
    rng = bundle.get("range")
    if not isinstance(rng, dict) or not all(isinstance(rng.get(k), int) for k in ("from", "to")):
        raise UsageError("bundle field 'range' must be {'from': int, 'to': int}")
    start, end = rng["from"], rng["to"]
    # 1. The signed tree head.
    head = SignedTreeHead.from_dict(bundle.get("tree_head"))
    try:
        head.verify(trusted_key)
    except InvalidTreeHead as exc:
        findings.add("tree_head", None, exc.message)
        return head, findings
    if end > head.tree_size:
        findings.add("tree_head", head.tree_size, f"range ends at {end}, past the signed tree size")
    entries = [AuditEntry.from_dict(e) for e in _list(bundle, "entries")]
    proofs = [InclusionProof.from_dict(p) for p in _list(bundle, "inclusion_proofs")]
    if len(proofs) != len(entries):
        raise UsageError(f"bundle has {len(entries)} entries but {len(proofs)} inclusion proofs")
    # 2. Each entry, rehashed from its content at its own position, is the leaf the signed tree holds there.
    authentic: list[int] = []
    for entry, proof in zip(entries, proofs, strict=True):
        actual = content_hash(entry)
        ok = (
            actual is not None
            and proof.leaf_index == entry.seq
            and proof.tree_size == head.tree_size
            and start <= entry.seq < end
        )
        if ok and actual is not None:
            try:
                InclusionProof(entry.seq, head.tree_size, actual, proof.path).verify(head.root)
            except InvalidProof:
                ok = False
        if ok:
            authentic.append(entry.seq)
        elif start <= entry.seq < end and proof.leaf_index == entry.seq and _recorded(proof, head):
            findings.add("edited", entry.seq, "entry content is not the leaf the signed tree holds here")
        else:
            findings.add("inserted", entry.seq, "entry is not in the signed tree at this position")
    # 3. Every position of the range is present exactly once, in order.
    seen = set(authentic)
    flagged = {f.position for f in findings.items}
    for position in range(start, min(end, head.tree_size)):
        if position not in seen and position not in flagged:
            findings.add("deleted", position, "the signed tree holds an entry here that the bundle lacks")
    for prev, cur in itertools.pairwise(authentic):
        if cur == prev:
            findings.add("inserted", cur, f"entry {cur} appears twice")
        elif cur < prev:
            findings.add("reordered", cur, f"entry {cur} comes after entry {prev}")
    check_chain(entries, findings)
    # 4. Earlier heads: signed by the same key, and prefixes of this head.
    earlier = [SignedTreeHead.from_dict(h) for h in _list(bundle, "earlier_tree_heads")]
    consistency = [ConsistencyProof.from_dict(c) for c in _list(bundle, "consistency_proofs")]
    if len(consistency) != len(earlier):
        raise UsageError("bundle needs one consistency proof per earlier tree head")
    for old, link in zip(earlier, consistency, strict=True):
        try:
            old.verify(head.public_key_bytes)
            if (link.first, link.second) != (old.tree_size, head.tree_size):
                raise InvalidProof("consistency proof is for other tree sizes")
            link.verify(old.root, head.root)
        except (InvalidTreeHead, InvalidProof) as exc:
            findings.add("tree_head", None, f"earlier head of size {old.tree_size}: {exc.message}")
    return head, findings


def _recorded(proof: InclusionProof, head: SignedTreeHead) -> bool:
    """True when the proof (with the hash it carries) shows the signed tree holds an entry at its position."""
    try:
        proof.verify(head.root)
    except (InvalidProof, ValueError):
        return False
    return True
