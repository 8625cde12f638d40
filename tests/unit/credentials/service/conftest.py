"""An issuer node and a verifier, each served over real HTTP on 127.0.0.1 (uvicorn in a thread).

Module-scoped: a node folder, its store and keys are created once per test module; tests that change
state (revocations) use credentials of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from vc_service_helpers import DIGILOCKER_KEY, STATUS_TTL_S, Holder, IssuerEnv, ThreadServer, free_port

from ies.credentials.service import create_verifier_app, install_issuer
from ies.identity.keys import SigningKeyPair
from ies.node.app import create_app
from ies.node.config import init_node, load_config


@pytest.fixture
def holder() -> Holder:
    return Holder(SigningKeyPair.generate())


@pytest.fixture(scope="module")
def issuer_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IssuerEnv]:
    home = tmp_path_factory.mktemp("issuer")
    port = free_port()
    cfg_path = init_node(home, name="issuer", roles=["ISSUER"], port=port, registry_url="http://127.0.0.1:9")
    (home / "digilocker.key").write_bytes(DIGILOCKER_KEY)
    previous = os.environ.get("IES_VC_STATUS_TTL_S")
    os.environ["IES_VC_STATUS_TTL_S"] = str(STATUS_TTL_S)
    try:
        cfg = load_config(cfg_path)
        app = create_app(cfg)
        state = install_issuer(app, app.state.runtime)
    finally:
        if previous is None:
            os.environ.pop("IES_VC_STATUS_TTL_S", None)
        else:
            os.environ["IES_VC_STATUS_TTL_S"] = previous
    issuer_server = ThreadServer(app, port)
    verifier_port = free_port()
    verifier_server = ThreadServer(
        create_verifier_app({state.did: cfg.public_url}, status_ttl_s=STATUS_TTL_S), verifier_port
    )
    try:
        yield IssuerEnv(
            url=cfg.public_url,
            verifier_url=f"http://127.0.0.1:{verifier_port}",
            token=(home / "admin.token").read_text("utf-8").strip(),
            state=state,
            home=home,
        )
    finally:
        verifier_server.stop()
        issuer_server.stop()
