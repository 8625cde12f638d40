"""`python -m ies.policy CONFIG`: run a node with the policy layer installed.

Every node now installs the policy layer as it is built (`NodeRuntime`), so this is the same as
`python -m ies.node`; it stays for existing scripts. The node config's `[node.settings.policy]` table
chooses the catalogue, the sources (`sources = "sandbox"` for synthetic data) and `ot_port`, on which the
operational endpoint gets its own listener.
"""

from __future__ import annotations

import sys

from ies.node.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
