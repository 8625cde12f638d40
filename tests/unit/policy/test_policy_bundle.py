"""Building, signing and verifying policy bundles: every tampering is caught before evaluation."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ies.errors import UsageError
from ies.identity.keys import SigningKeyPair
from ies.policy.bundle import build_bundle, pack_bundle, read_source
from ies.policy.errors import (
    BundleCompileFailed,
    BundleHashMismatch,
    BundleMalformed,
    BundleSignatureInvalid,
    BundleUntrustedKey,
)
from ies.policy.manifest import manifest_hash
from ies.policy.sources import DEFAULT_BUNDLE_DIR
from ies.policy.verify import load_bundle, peek_manifest, read_archive

CREATED = datetime(2026, 11, 26, tzinfo=UTC)


def _members(archive: bytes) -> dict[str, bytes]:
    return read_archive(archive)


def _raw_tar(entries: list[tarfile.TarInfo], payloads: list[bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, data in zip(entries, payloads, strict=True):
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return gzip.compress(raw.getvalue())


class TestBuild:
    def test_round_trip_names_every_file_and_hash(
        self, default_archive: bytes, publisher_key: SigningKeyPair
    ) -> None:
        bundle = load_bundle(default_archive, [publisher_key.public_key])
        m = bundle.manifest
        assert (m.name, m.version, m.revision) == ("ies-entitlements", "1.0.0", 1)
        assert set(m.files) == {"access.rego", "itot.rego", "data.json"}
        assert m.publisher.subscriber_id == "regulator.example" and m.publisher.key_id == "reg-k1"
        assert bundle.hash == manifest_hash(bundle.document) and len(bundle.hash) == 64
        assert bundle.signature["manifest_sha256"] == bundle.hash

    def test_same_source_and_key_give_identical_bytes(self, publisher_key: SigningKeyPair) -> None:
        src = read_source(DEFAULT_BUNDLE_DIR)
        one = build_bundle(src, publisher_key, publisher="r", key_id="k", created=CREATED)
        two = build_bundle(src, publisher_key, publisher="r", key_id="k", created=CREATED)
        assert one == two

    def test_a_policy_that_does_not_compile_is_never_signed(
        self, tmp_path: Path, publisher_key: SigningKeyPair
    ) -> None:
        (tmp_path / "bad.rego").write_text("package bad\n\nx := \n")
        (tmp_path / "data.json").write_text("{}")
        src = read_source(tmp_path, name="bad", version="1", revision=1, entrypoints=["bad/x"])
        with pytest.raises(BundleCompileFailed, match=r"bad\.rego"):
            build_bundle(src, publisher_key, publisher="r", key_id="k")

    def test_source_without_metadata_or_data_is_unusable(self, tmp_path: Path) -> None:
        (tmp_path / "a.rego").write_text("package a\nx := 1\n")
        with pytest.raises(UsageError, match=r"data\.json"):
            read_source(tmp_path)
        (tmp_path / "data.json").write_text("{}")
        with pytest.raises(UsageError, match="name, version, revision, entrypoints"):
            read_source(tmp_path)
        with pytest.raises(UsageError, match="not a folder"):
            read_source(tmp_path / "missing")


class TestVerify:
    def test_untrusted_key_is_refused_before_anything_else(self, default_archive: bytes) -> None:
        with pytest.raises(BundleUntrustedKey) as info:
            load_bundle(default_archive, [SigningKeyPair.generate().public_key])
        assert info.value.code == "POL_BUNDLE_UNTRUSTED_KEY"
        assert info.value.details["publisher"] == "regulator.example"

    def test_no_trusted_keys_trusts_nothing(self, default_archive: bytes) -> None:
        with pytest.raises(BundleUntrustedKey):
            load_bundle(default_archive, [])

    def test_edited_module_is_a_hash_mismatch(
        self, default_archive: bytes, publisher_key: SigningKeyPair
    ) -> None:
        members = _members(default_archive)
        members["access.rego"] = members["access.rego"].replace(b'"deny": 0', b'"deny": 3')
        with pytest.raises(BundleHashMismatch, match=r"access\.rego"):
            load_bundle(pack_bundle(members), [publisher_key.public_key])

    def test_edited_data_is_a_hash_mismatch(
        self, default_archive: bytes, publisher_key: SigningKeyPair
    ) -> None:
        members = _members(default_archive)
        data = json.loads(members["data.json"])
        data["ies"]["policy"]["min_k"] = 2
        members["data.json"] = json.dumps(data).encode()
        with pytest.raises(BundleHashMismatch, match=r"data\.json"):
            load_bundle(pack_bundle(members), [publisher_key.public_key])

    def test_extra_and_missing_files_are_refused(
        self, default_archive: bytes, publisher_key: SigningKeyPair
    ) -> None:
        members = _members(default_archive)
        extra = dict(members, **{"evil.rego": b"package ies.access\n"})
        with pytest.raises(BundleHashMismatch) as info:
            load_bundle(pack_bundle(extra), [publisher_key.public_key])
        assert info.value.details["extra"] == ["evil.rego"]
        missing = {k: v for k, v in members.items() if k != "itot.rego"}
        with pytest.raises(BundleHashMismatch) as info:
            load_bundle(pack_bundle(missing), [publisher_key.public_key])
        assert info.value.details["missing"] == ["itot.rego"]

    def test_edited_manifest_breaks_the_signature(
        self, default_archive: bytes, publisher_key: SigningKeyPair
    ) -> None:
        members = _members(default_archive)
        manifest = json.loads(members["manifest.json"])
        manifest["revision"] = 99  # a rollback-protection bypass attempt
        members["manifest.json"] = json.dumps(manifest).encode()
        with pytest.raises(BundleSignatureInvalid):
            load_bundle(pack_bundle(members), [publisher_key.public_key])

    def test_signature_naming_another_publisher_is_refused(
        self, default_archive: bytes, publisher_key: SigningKeyPair
    ) -> None:
        members = _members(default_archive)
        sig = json.loads(members["signature.json"])
        sig["publisher"] = "someone.else"
        members["signature.json"] = json.dumps(sig).encode()
        with pytest.raises(BundleSignatureInvalid, match="different publisher"):
            load_bundle(pack_bundle(members), [publisher_key.public_key])

    def test_repacking_keeps_the_hash(self, default_archive: bytes, publisher_key: SigningKeyPair) -> None:
        members = _members(default_archive)
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:  # other order, other times
            for name in reversed(sorted(members)):
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(members[name]), 1_700_000_000
                tar.addfile(info, io.BytesIO(members[name]))
        again = load_bundle(raw.getvalue(), [publisher_key.public_key])
        assert again.hash == load_bundle(default_archive, [publisher_key.public_key]).hash

    @pytest.mark.parametrize("name", ["../escape.rego", "/abs.rego", "./dot.rego"])
    def test_unsafe_member_names_are_refused(self, name: str, publisher_key: SigningKeyPair) -> None:
        info = tarfile.TarInfo(name)
        info.size = 1
        with pytest.raises(BundleMalformed, match="unsafe"):
            load_bundle(_raw_tar([info], [b"x"]), [publisher_key.public_key])

    def test_links_are_refused(self, publisher_key: SigningKeyPair) -> None:
        info = tarfile.TarInfo("data.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        with pytest.raises(BundleMalformed, match="not a regular file"):
            load_bundle(_raw_tar([info], [b""]), [publisher_key.public_key])

    def test_duplicate_members_are_refused(self, publisher_key: SigningKeyPair) -> None:
        a, b = tarfile.TarInfo("data.json"), tarfile.TarInfo("data.json")
        a.size = b.size = 2
        with pytest.raises(BundleMalformed, match="twice"):
            load_bundle(_raw_tar([a, b], [b"{}", b"{}"]), [publisher_key.public_key])

    @pytest.mark.parametrize("blob", [b"", b"not a bundle", gzip.compress(b"not a tar")])
    def test_garbage_is_malformed_with_exit_code_2(self, blob: bytes, publisher_key: SigningKeyPair) -> None:
        with pytest.raises(BundleMalformed) as info:
            load_bundle(blob, [publisher_key.public_key])
        assert info.value.exit_code == 2

    def test_missing_file_path_is_a_usage_error(self, tmp_path: Path) -> None:
        with pytest.raises(UsageError, match="does not exist"):
            load_bundle(tmp_path / "nope.tar.gz", [])

    def test_peek_reads_the_manifest_without_trusting_it(self, default_archive: bytes) -> None:
        assert peek_manifest(default_archive).publisher.key_id == "reg-k1"
