"""`python -m ies.node CONFIG`: run one node. The network launcher uses this (not the full CLI) so a
node process imports only what it serves and starts fast."""

from __future__ import annotations

import sys

from ies.errors import IESError


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ies.node CONFIG.toml", file=sys.stderr)
        return 2
    import uvicorn

    from ies.node.app import create_app
    from ies.node.config import load_config

    try:
        cfg = load_config(argv[0])
        app = create_app(cfg)
    except IESError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return exc.exit_code
    uvicorn.run(
        app, host=cfg.host, port=cfg.port, log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
