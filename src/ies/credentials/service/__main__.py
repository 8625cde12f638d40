"""Run an issuer node or a verifier as its own process.

    python -m ies.credentials.service issuer --config node/config.toml
    python -m ies.credentials.service verifier --port 8300 --override did:web:issuer.ies.local=http://127.0.0.1:8200

Why a runner here: a verifier is a separate party with no node folder, store or keys — it only resolves
DIDs and reads status lists. `ies vc serve-verifier` calls the same code. A node whose config names the
ISSUER role installs the issuer itself (`ies.node.runtime.ROLE_INSTALLERS`), so `python -m ies.node` and
`ies network up` serve it too; `issuer --config` runs the same node app and applies `install_issuer` only
to a node that did not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from ies.errors import IESError, UsageError

__all__ = ["main", "parse_overrides"]


def parse_overrides(values: Sequence[str]) -> dict[str, str]:
    """`DID=URL` pairs as a dict; IESError (UsageError) for a malformed pair."""
    out: dict[str, str] = {}
    for value in values:
        did, sep, url = value.partition("=")
        if not sep or not did.startswith("did:") or not url.startswith(("http://", "https://")):
            raise UsageError(f"--override {value!r} must look like DID=http(s)://base-url")
        out[did] = url
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ies.credentials.service")
    sub = parser.add_subparsers(dest="role", required=True)
    issuer = sub.add_parser("issuer", help="a node with the issuer routes")
    issuer.add_argument("--config", required=True, help="the node's config.toml")
    verifier = sub.add_parser("verifier", help="a verifier process")
    verifier.add_argument("--host", default="127.0.0.1")
    verifier.add_argument("--port", type=int, required=True)
    verifier.add_argument("--override", action="append", default=[], help="DID=URL; repeatable")
    verifier.add_argument("--status-ttl", type=float, default=300.0, help="status list cache bound, seconds")
    verifier.add_argument("--skew", type=int, default=60, help="clock skew tolerated on validity, seconds")
    args = parser.parse_args(argv)
    try:
        if args.role == "issuer":
            from ies.credentials.service.install import install_issuer
            from ies.node.app import create_app
            from ies.node.config import load_config

            cfg = load_config(args.config)
            app = create_app(cfg)
            if getattr(app.state.runtime, "issuer", None) is None:  # the node did not wire ISSUER itself
                install_issuer(app, app.state.runtime)
            host, port = cfg.host, cfg.port
        else:
            from ies.credentials.service.install import create_verifier_app

            if not 0 <= args.skew <= 3600:
                raise UsageError("--skew must be between 0 and 3600 seconds")
            app = create_verifier_app(
                parse_overrides(args.override), status_ttl_s=args.status_ttl, skew_s=args.skew
            )
            host, port = args.host, args.port
    except IESError as err:
        print(f"error [{err.code}]: {err.message}", file=sys.stderr)
        return err.exit_code
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
