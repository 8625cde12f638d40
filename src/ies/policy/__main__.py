"""`python -m ies.policy CONFIG`: run a node with the policy layer installed.

Every node now installs the policy layer as it is built (`NodeRuntime`), so this is the same as
`python -m ies.node`; it stays for existing scripts. The node config's `[node.settings.policy]` table
chooses the catalogue, the sources (`sources = "sandbox"` for synthetic data) and `ot_port`, on which the
operational endpoint gets its own listener.
"""

from __future__ import annotations

import sys

from ies.errors import IESError


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ies.policy CONFIG.toml", file=sys.stderr)
        return 2
    import uvicorn

    from ies.node.app import create_app
    from ies.node.config import load_config
    from ies.policy.install import install

    try:
        cfg = load_config(argv[0])
        app = create_app(cfg)
        install(app.state.runtime, app)
    except IESError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return exc.exit_code
    uvicorn.run(
        app, host=cfg.host, port=cfg.port, log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
