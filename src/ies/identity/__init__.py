"""Identity: Ed25519 signing keys, X25519 encryption keys, DIDs (did:key, did:web) and their resolution.

Nothing outside this package touches raw private keys; other blocks hold a `SigningKeyPair` and ask it
to sign.
"""

from ies.identity.keys import (
    EncryptionKeyPair,
    NodeKeys,
    SigningKeyPair,
    b64,
    b64decode_strict,
    load_node_keys,
    save_node_keys,
    verify_ed25519,
)

__all__ = [
    "EncryptionKeyPair",
    "NodeKeys",
    "SigningKeyPair",
    "b64",
    "b64decode_strict",
    "load_node_keys",
    "save_node_keys",
    "verify_ed25519",
]
