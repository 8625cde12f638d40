"""Presumed-open publishing: C0 datasets released without a contract, signed, versioned, with history.

Pillar 3 of the data policy (strategy v0.2 §11.2) presumes non-critical, non-personal data open, and seed
use case 63 (transparency portals) asks for releases a reader can trust and cite. Each release is:
- signed by the custodian node's Ed25519 key over its RFC 8785 form (`proof`), so a mirror cannot alter it;
- versioned: revision 1, 2, … per dataset, each kept forever and fetchable by number;
- chained: a release names the SHA-256 of the previous revision, so the history cannot be rewritten
  without breaking every later link;
- self-describing: it carries the dataset's declaration and field definitions.
Only C0, non-personal datasets are accepted (`POL_NOT_OPEN_DATA` otherwise); a dataset derived from
personal data (`aggregate_of` a personal dataset) must pass the k-anonymity check before it is signed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from ies.errors import ConflictError, IESError, NotFoundError, UsageError, to_http
from ies.identity.keys import SigningKeyPair, b64, b64decode_strict, verify_ed25519
from ies.policy.anonymise import DEFAULT_K, assert_k_anonymous
from ies.policy.catalogue import DataCatalogue
from ies.policy.errors import NotOpenData
from ies.policy.tables import OpenReleaseRow
from ies.store import session_factory, utcnow

__all__ = ["OpenDataPublisher", "open_data_router", "release_hash", "verify_release"]


def _digest(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def release_hash(release: dict[str, Any]) -> str:
    """SHA-256 of a whole signed release (proof included): what the next revision's `previous` names."""
    return _digest(release)


def verify_release(release: dict[str, Any], trusted_key: bytes | None = None) -> None:
    """Check a release's content digest and signature (against `trusted_key` when given); raise a
    UsageError naming what is wrong."""
    proof = release.get("proof")
    if not isinstance(proof, dict):
        raise UsageError("release has no proof")
    body = {k: v for k, v in release.items() if k != "proof"}
    if _digest(body.get("content")) != body.get("contentSha256"):
        raise UsageError("release content does not match contentSha256")
    key = b64decode_strict(str(proof.get("publicKey", "")), what="publicKey", lengths=(32,))
    if trusted_key is not None and key != trusted_key:
        raise UsageError("release signed by an untrusted key")
    sig = b64decode_strict(str(proof.get("signature", "")), what="signature", lengths=(64,))
    if not verify_ed25519(key, rfc8785.dumps(body), sig):
        raise UsageError("release signature does not verify")


class OpenDataPublisher:
    """Publishes and serves releases of the catalogue's C0 datasets."""

    def __init__(
        self,
        engine: Engine,
        catalogue: DataCatalogue,
        key: SigningKeyPair,
        *,
        publisher: str,
        key_id: str,
        min_k: int = DEFAULT_K,
    ):
        self.sessions = session_factory(engine)
        self.catalogue = catalogue
        self.key = key
        self.publisher = publisher
        self.key_id = key_id
        self.min_k = min_k

    def publish(self, dataset_id: str, content: dict[str, Any], *, note: str = "") -> dict[str, Any]:
        """Sign and store the next revision of a C0 dataset; returns the signed release."""
        decl = self.catalogue.get(dataset_id)
        if not decl.presumed_open:
            raise NotOpenData(
                f"{dataset_id} is {decl.criticality.value}{' personal' if decl.personal else ''}; "
                "only C0 non-personal datasets are published without a contract",
                details={"rule": "open-data-c0", "dataset": dataset_id},
            )
        if not isinstance(content, dict):
            raise UsageError("release content must be a JSON object")
        if decl.aggregate_of is not None and self.catalogue.get(decl.aggregate_of).personal:
            assert_k_anonymous(content, self.min_k)  # derived from personal data: k-anonymous or nothing
        try:
            return self._store_next(
                dataset_id, decl.model_dump(mode="json", exclude_none=True), content, note
            )
        except IntegrityError:
            raise ConflictError(
                f"another release of {dataset_id} was published at the same time; retry"
            ) from None

    def _store_next(
        self, dataset_id: str, declaration: dict[str, Any], content: dict[str, Any], note: str
    ) -> dict[str, Any]:
        from ies.audit import append

        with self.sessions.begin() as session:
            last = session.scalars(
                select(OpenReleaseRow)
                .where(OpenReleaseRow.dataset_id == dataset_id)
                .order_by(OpenReleaseRow.revision.desc())
                .limit(1)
            ).first()
            revision = 1 if last is None else last.revision + 1
            now = utcnow()
            body: dict[str, Any] = {
                "@type": "OpenDataRelease",
                "dataset": declaration,
                "revision": revision,
                "publishedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "publisher": self.publisher,
                "note": note,
                "previous": None
                if last is None
                else {"revision": last.revision, "releaseSha256": release_hash(last.release)},
                "contentSha256": _digest(content),
                "content": content,
            }
            release = {
                **body,
                "proof": {
                    "type": "Ed25519Signature",
                    "canonicalization": "RFC8785",
                    "keyId": self.key_id,
                    "publicKey": self.key.public_key_b64,
                    "signature": b64(self.key.sign(rfc8785.dumps(body))),
                },
            }
            session.add(
                OpenReleaseRow(
                    dataset_id=dataset_id,
                    revision=revision,
                    published_at=now,
                    content_sha256=body["contentSha256"],
                    release=release,
                )
            )
            session.flush()
            append(
                session,
                "policy.open_release",
                self.publisher,
                f"dataset:{dataset_id}",
                {
                    "revision": revision,
                    "contentSha256": body["contentSha256"],
                    "releaseSha256": release_hash(release),
                },
            )
        return release

    def revision(self, dataset_id: str, revision: int | None = None) -> dict[str, Any]:
        with self.sessions() as session:
            query = select(OpenReleaseRow).where(OpenReleaseRow.dataset_id == dataset_id)
            if revision is not None:
                query = query.where(OpenReleaseRow.revision == revision)
            row = session.scalars(query.order_by(OpenReleaseRow.revision.desc()).limit(1)).first()
            if row is None:
                raise NotFoundError(f"no release {revision or ''} of {dataset_id}".replace("  ", " "))
            return dict(row.release)

    def history(self, dataset_id: str) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(OpenReleaseRow)
                .where(OpenReleaseRow.dataset_id == dataset_id)
                .order_by(OpenReleaseRow.revision)
            ).all()
            return [
                {
                    "revision": r.revision,
                    "publishedAt": r.release["publishedAt"],
                    "note": r.release.get("note", ""),
                    "contentSha256": r.content_sha256,
                    "releaseSha256": release_hash(r.release),
                }
                for r in rows
            ]

    def index(self) -> list[dict[str, Any]]:
        with self.sessions() as session:
            latest = dict(
                session.execute(
                    select(OpenReleaseRow.dataset_id, func.max(OpenReleaseRow.revision)).group_by(
                        OpenReleaseRow.dataset_id
                    )
                ).all()
            )
        return [
            {"dataset": d.id, "title": d.title, "latestRevision": latest.get(d.id)}
            for d in self.catalogue
            if d.presumed_open
        ]


def open_data_router(publisher: OpenDataPublisher) -> APIRouter:
    """Public, contract-free routes: the index, a dataset's latest release, its history, any revision."""
    api = APIRouter()

    def guarded(fn: Any, *args: Any) -> JSONResponse:
        try:
            return JSONResponse(fn(*args))
        except IESError as err:
            status, body = to_http(err)
            return JSONResponse({"error": body}, status_code=status)

    @api.get("/open-data")
    def index() -> JSONResponse:
        return guarded(publisher.index)

    @api.get("/open-data/{dataset_id}")
    def latest(dataset_id: str) -> JSONResponse:
        return guarded(publisher.revision, dataset_id)

    @api.get("/open-data/{dataset_id}/revisions")
    def history(dataset_id: str) -> JSONResponse:
        return guarded(lambda d: {"dataset": d, "revisions": publisher.history(d)}, dataset_id)

    @api.get("/open-data/{dataset_id}/revisions/{revision}")
    def one(dataset_id: str, revision: int) -> JSONResponse:
        return guarded(publisher.revision, dataset_id, revision)

    return api
