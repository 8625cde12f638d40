"""DIDResolver over real HTTP: a uvicorn server on 127.0.0.1 (free port) serving the did router."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse

from ies.errors import KeyExpiredOrRevoked, UsageError
from ies.identity.did import (
    DIDDocumentInvalid,
    DIDInvalid,
    DIDMethodNotSupported,
    DIDNotFound,
    DIDResolutionFailed,
    DIDResolver,
    PublishedKey,
    did_key_from_ed25519,
    did_router,
    node_did_document,
)
from ies.identity.keys import NodeKeys, verify_ed25519
from ies.identity.resolver import MAX_DOCUMENT_BYTES

NODE = "did:web:bpp.example"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn in a thread on an OS-chosen port; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Served:
    """What the test server answers: documents by path segments, and the paths it was asked for."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, ...], dict[str, Any]] = {}
        self.asked: list[tuple[str, ...]] = []

    def provide(self, segments: tuple[str, ...]) -> dict[str, Any] | None:
        self.asked.append(segments)
        return self.documents.get(segments)


def _app(served: Served) -> FastAPI:
    app = FastAPI()

    @app.get("/redirect/did.json")
    def redirect() -> RedirectResponse:
        return RedirectResponse("/.well-known/did.json", status_code=302)

    @app.get("/text/did.json")
    def text() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/array/did.json")
    def array() -> JSONResponse:
        return JSONResponse([1, 2])

    @app.get("/huge/did.json")
    def huge() -> PlainTextResponse:
        return PlainTextResponse('{"id": "' + "a" * MAX_DOCUMENT_BYTES + '"}')

    @app.get("/boom/did.json")
    def boom() -> JSONResponse:
        return JSONResponse({"error": "boom"}, status_code=500)

    @app.get("/gone/did.json")
    def gone() -> JSONResponse:
        return JSONResponse({}, status_code=410)

    @app.get("/nostore/did.json")
    def nostore() -> JSONResponse:
        doc = {"id": f"{NODE}:nostore"}
        return JSONResponse(doc, headers={"Cache-Control": "no-store"})

    @app.get("/slow/did.json")
    async def slow() -> JSONResponse:
        await asyncio.sleep(1.0)
        return JSONResponse({"id": f"{NODE}:slow"})

    app.include_router(did_router(served.provide))
    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Served]]:
    served = Served()
    with serve(_app(served)) as base_url:
        yield base_url, served


@pytest.fixture
def live(server: tuple[str, Served]) -> tuple[str, Served]:
    base_url, served = server
    served.documents.clear()
    served.asked.clear()
    return base_url, served


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_override_to_a_base_url_resolves_the_node_and_its_key_verifies(live: Any) -> None:
    base_url, served = live
    keys = NodeKeys.generate("bpp-k1")
    served.documents[()] = node_did_document(NODE, keys)
    with DIDResolver({NODE: base_url}) as resolver:
        doc = resolver.resolve(NODE)
        public = resolver.resolve_verification_method(f"{NODE}#bpp-k1")
        enc = resolver.resolve_verification_method(f"{NODE}#bpp-k1-x25519", purpose="keyAgreement")
    assert doc == served.documents[()]
    assert served.asked == [()]
    assert public == keys.signing.public_key
    assert enc == keys.encryption.public_key
    assert verify_ed25519(public, b"body", keys.signing.sign(b"body"))


def test_a_host_override_also_serves_path_based_dids(live: Any) -> None:
    base_url, served = live
    alice = f"{NODE}:users:alice"
    meter = f"{NODE}:assets:meter:MTR%2F0042"
    served.documents[("users", "alice")] = {"id": alice}
    served.documents[("assets", "meter", "MTR%2F0042")] = {"id": meter}
    with DIDResolver({NODE: base_url + "/"}) as resolver:
        assert resolver.resolve(alice) == {"id": alice}
        assert resolver.resolve(meter) == {"id": meter}
    # the router hands the provider the segments exactly as written in the DID, %2F included
    assert served.asked == [("users", "alice"), ("assets", "meter", "MTR%2F0042")]


def test_override_to_a_document_url_and_to_a_document(live: Any) -> None:
    base_url, served = live
    other = "did:web:issuer.example"
    served.documents[("docs", "issuer")] = {"id": other}
    inline = {"id": "did:example:123", "verificationMethod": []}
    with DIDResolver({other: f"{base_url}/docs/issuer/did.json", "did:example:123": inline}) as resolver:
        assert resolver.resolve(other) == {"id": other}
        assert resolver.resolve("did:example:123") == inline
        assert resolver.fetch_count == 1
        with pytest.raises(DIDMethodNotSupported, match="only did:key and did:web"):
            resolver.resolve("did:example:456")


def test_loopback_did_web_is_fetched_over_plain_http_without_an_override(live: Any) -> None:
    base_url, served = live
    did = "did:web:" + base_url.removeprefix("http://").replace(":", "%3A")
    served.documents[()] = {"id": did}
    with DIDResolver() as resolver:
        assert resolver.resolve(did) == {"id": did}
    # with the loopback rule off the resolver insists on https, which this plain-http server cannot speak
    with (
        DIDResolver(allow_loopback_http=False) as strict,
        pytest.raises(DIDResolutionFailed, match="https://"),
    ):
        strict.resolve(did)


def test_documents_are_cached_for_the_ttl_then_fetched_again(live: Any) -> None:
    base_url, served = live
    old, new = NodeKeys.generate("k1"), NodeKeys.generate("k2")
    served.documents[()] = node_did_document(NODE, old)
    clock = FakeClock()
    with DIDResolver({NODE: base_url}, cache_ttl_s=60, clock=clock) as resolver:
        first = resolver.resolve(NODE)
        first["id"] = "changed by the caller"  # callers get copies; the cache is unaffected
        served.documents[()] = node_did_document(NODE, new)  # the node rotates
        clock.now += 59
        assert resolver.resolve(NODE)["verificationMethod"][0]["id"] == f"{NODE}#k1"
        assert resolver.fetch_count == 1
        clock.now += 1
        assert resolver.resolve_verification_method(f"{NODE}#k2") == new.signing.public_key
        assert resolver.fetch_count == 2


def test_no_store_answers_are_not_cached_and_the_cache_is_bounded(live: Any) -> None:
    base_url, served = live
    for name in ("a", "b", "c"):
        served.documents[(name,)] = {"id": f"{NODE}:{name}"}
    with DIDResolver({NODE: base_url}, max_cache_entries=2) as resolver:
        resolver.resolve(f"{NODE}:nostore")
        resolver.resolve(f"{NODE}:nostore")
        assert resolver.fetch_count == 2
        for name in ("a", "b", "a", "c", "b"):  # a, b cached; a touched; c evicts b; b fetched again
            resolver.resolve(f"{NODE}:{name}")
        assert resolver.fetch_count == 2 + 4


def test_rotation_over_http_old_key_refused_after_its_valid_until(live: Any) -> None:
    base_url, served = live
    old, new = NodeKeys.generate("k1"), NodeKeys.generate("k2")
    until = datetime.now(UTC) + timedelta(hours=1)
    served.documents[()] = node_did_document(
        NODE, new, previous_keys=[PublishedKey("k1", "Ed25519", old.signing.public_key, valid_until=until)]
    )
    with DIDResolver({NODE: base_url}) as resolver:
        assert resolver.resolve_verification_method(f"{NODE}#k1") == old.signing.public_key
        with pytest.raises(KeyExpiredOrRevoked):
            resolver.resolve_verification_method(f"{NODE}#k1", at=until)
        assert resolver.resolve_verification_method(f"{NODE}#k2", at=until) == new.signing.public_key


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("missing", DIDNotFound, "not found \\(404\\)"),
        ("gone", DIDNotFound, "deactivated \\(410\\)"),
        ("redirect", DIDResolutionFailed, "redirect \\(302\\)"),
        ("boom", DIDResolutionFailed, "HTTP 500"),
        ("text", DIDDocumentInvalid, "did not answer with JSON"),
        ("array", DIDDocumentInvalid, "not an object"),
        ("huge", DIDResolutionFailed, "exceeds"),
        ("wrongid", DIDDocumentInvalid, "is for 'did:web:someone.else'"),
    ],
)
def test_bad_answers_give_clear_errors(live: Any, path: str, error: type[Exception], message: str) -> None:
    base_url, served = live
    served.documents[("wrongid",)] = {"id": "did:web:someone.else"}
    with DIDResolver({NODE: base_url}) as resolver, pytest.raises(error, match=message):
        resolver.resolve(f"{NODE}:{path}")


def test_timeouts_and_closed_ports_are_resolution_failures(live: Any) -> None:
    base_url, _ = live
    slow = DIDResolver({NODE: base_url}, timeout_s=0.2)
    with slow, pytest.raises(DIDResolutionFailed, match=r"did not answer within 0\.2 s"):
        slow.resolve(f"{NODE}:slow")
    with socket.socket() as sock:  # a port nobody listens on: bind it, note it, release it
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with DIDResolver({NODE: f"http://127.0.0.1:{closed}"}) as resolver:
        with pytest.raises(DIDResolutionFailed, match="could not fetch") as info:
            resolver.resolve(NODE)
        assert info.value.code == "DID_RESOLUTION_FAILED"


def test_did_key_resolves_locally_without_http() -> None:
    keys = NodeKeys.generate("k")
    did = did_key_from_ed25519(keys.signing.public_key)
    with DIDResolver() as resolver:
        assert resolver.resolve_verification_method(did) == keys.signing.public_key
        assert resolver.resolve_verification_method(f"{did}#{did.split(':')[2]}") == keys.signing.public_key
        assert resolver.fetch_count == 0
        with pytest.raises(DIDInvalid, match="path or query"):
            resolver.resolve_key(f"{did}/path#x")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"not-a-did": "http://127.0.0.1:1"}, "override key"),
        ({NODE: "ftp://example.com"}, "not an http"),
        ({NODE: {"id": "did:web:other.example"}}, "document's id"),
        ({NODE: 42}, "a document or a URL"),
    ],
)
def test_unusable_overrides_are_usage_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        DIDResolver(overrides)
    assert info.value.exit_code == 2


def test_cache_limits_are_bounded() -> None:
    with pytest.raises(UsageError, match="cache_ttl_s"):
        DIDResolver(cache_ttl_s=86400)
    with pytest.raises(UsageError, match="max_cache_entries"):
        DIDResolver(max_cache_entries=0)


def test_router_headers_and_unknown_paths(live: Any) -> None:
    base_url, served = live
    served.documents[()] = {"@context": ["https://www.w3.org/ns/did/v1"], "id": NODE}
    served.documents[("plain",)] = {"id": f"{NODE}:plain"}
    with httpx.Client(base_url=base_url) as client:
        root = client.get("/.well-known/did.json")
        assert root.status_code == 200
        assert root.headers["content-type"] == "application/did+ld+json"
        assert root.headers["cache-control"] == "max-age=300"
        assert root.json()["id"] == NODE
        assert client.get("/plain/did.json").headers["content-type"] == "application/did+json"
        assert client.get("/nobody/did.json").status_code == 404
        assert client.get("/a/.well-known/did.json").status_code == 404


def test_router_mounted_under_a_prefix_sees_only_the_did_path() -> None:
    asked: list[tuple[str, ...]] = []

    def provide(segments: tuple[str, ...]) -> dict[str, Any]:
        asked.append(segments)
        return {"id": "did:web:x.example:" + ":".join(segments)}

    inner = FastAPI()
    inner.include_router(did_router(provide))
    outer = FastAPI()
    outer.mount("/dids", inner)
    with serve(outer) as base_url:
        answer = httpx.get(f"{base_url}/dids/users/a%2Fb/did.json")
    assert answer.json() == {"id": "did:web:x.example:users:a%2Fb"}
    assert asked == [("users", "a%2Fb")]
