"""Nodes load use cases by name: the use case registers handlers and routes on the node it is handed."""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from ies.errors import UsageError
from ies.node.app import NodeRuntime, create_app
from ies.node.config import init_node, load_config


def make_config(tmp_path: Path, usecases: list[str], settings: dict[str, Any] | None = None) -> Path:
    return init_node(
        tmp_path / "n",
        name="seller",
        roles=["BPP"],
        port=18999,
        registry_url="http://127.0.0.1:9",
        usecases=usecases,
        settings=settings,
    )


def test_a_use_case_installs_handlers_routes_and_reads_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi import APIRouter

    module = types.ModuleType("ies.usecases.demo_uc")
    seen: dict[str, Any] = {}

    def install(rt: NodeRuntime) -> None:
        seen["settings"] = rt.cfg.settings.get("demo_uc")

        @rt.router.on("track")
        async def track(_msg: object) -> dict[str, Any]:
            return {"tracking": {}}

        extra = APIRouter()

        @extra.get("/demo-uc/ping")
        def ping() -> dict[str, str]:
            return {"pong": rt.cfg.name}

        rt.routers.append(extra)

    module.install = install  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ies.usecases.demo_uc", module)
    cfg = load_config(make_config(tmp_path, ["demo_uc"], {"demo_uc": {"gate_blocks": 8}}))
    app = create_app(cfg)
    assert seen["settings"] == {"gate_blocks": 8}
    assert app.state.runtime.router.accepts("track")

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://node"
        ) as client:
            return await client.get("/demo-uc/ping")

    assert asyncio.run(call()).json() == {"pong": "seller"}


@pytest.mark.parametrize(
    ("name", "message"), [("no_such_uc", "unknown use case"), ("bad-name", "package name")]
)
def test_unknown_or_malformed_use_case_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    cfg = load_config(make_config(tmp_path, [name]))
    with pytest.raises(UsageError, match=message):
        create_app(cfg)
