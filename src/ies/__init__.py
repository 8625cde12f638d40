"""ies: a reference node, sandbox and conformance kit for the India Energy Stack.

The package is laid out as the IES building blocks (identity, registry, exchange, schemas, meterdata,
credentials, consent, audit, policy) over a storage foundation (`ies.store`), with use cases in
`ies.usecases` and entry points (`ies.cli`, `ies.node`, `ies.sandbox`, `ies.conformance`) on top.
Imports only point down that stack.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
