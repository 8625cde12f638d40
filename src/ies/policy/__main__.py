"""`python -m ies.policy CONFIG [--ot-port PORT]`: run a node with the policy layer installed.

Until the node app installs the policy layer itself, this is how a sandbox data custodian runs: the same
`create_app` as `python -m ies.node`, plus `ies.policy.install` with the sandbox's synthetic sources.
With `--ot-port` the operational endpoint is also served on its own listener (same process, same
database), as IT/OT segmentation asks.
"""

from __future__ import annotations

import asyncio
import sys

from ies.errors import IESError


def main(argv: list[str]) -> int:
    args = list(argv)
    ot_port: int | None = None
    if "--ot-port" in args:
        i = args.index("--ot-port")
        try:
            ot_port = int(args[i + 1])
        except (IndexError, ValueError):
            print("--ot-port needs a port number", file=sys.stderr)
            return 2
        del args[i : i + 2]
    if len(args) != 1:
        print("usage: python -m ies.policy CONFIG.toml [--ot-port PORT]", file=sys.stderr)
        return 2
    import uvicorn

    from ies.node.app import create_app
    from ies.node.config import load_config
    from ies.policy.install import install
    from ies.policy.operational import operational_app
    from ies.policy.sources import sandbox_sources

    try:
        cfg = load_config(args[0])
        app = create_app(cfg)
        layer = install(app.state.runtime, app, sources=sandbox_sources())
    except IESError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return exc.exit_code
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app,
                host=cfg.host,
                port=cfg.port,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
        )
    ]
    if ot_port is not None:
        ot = operational_app(layer.ot_router)
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    ot, host=cfg.host, port=ot_port, log_level="warning", access_log=False, lifespan="off"
                )
            )
        )

    async def serve() -> None:
        await asyncio.gather(*(s.serve() for s in servers))

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
