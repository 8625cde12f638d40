"""The issuer and verifier roles over HTTP: VC-API routes, holder binding, revocation, DigiLocker pull.

    from ies.credentials.service import install, install_issuer, issuer_router, verifier_router

    install(runtime)                    # a node with the ISSUER role: routes go into runtime.routers
    install_issuer(app, runtime)        # the same on an already built node app
    app.include_router(verifier_router(VerifierState.create(DIDResolver(overrides))))

Issuing (`issuance`) completes the VC 2.0 envelope, validates the subject against its IES schema before
anything is stored, binds the holder (`holder`: did proof JWT or OTP), stamps status entries (Bitstring
Status List for MeterData(Request)Credential, the `dediregistry` entry the ElectricityCredential schema
requires), signs with `ies.credentials.issue` and records the credential and an audit line. Revoking
(`revocation`) sets the bit and records the DeDi hash in one transaction; status lists are served signed
(`status_lists`). DigiLocker pulls (`digilocker`, `pull`) are HMAC-authenticated before the XML is read.
"""

from ies.credentials.service.holder import HolderBinding, HolderBindingFailed, holder_proof_jwt
from ies.credentials.service.install import (
    create_verifier_app,
    install,
    install_issuer,
    issuer_state_from_runtime,
)
from ies.credentials.service.keys import IssuerKeys
from ies.credentials.service.routes import issuer_router, verifier_router
from ies.credentials.service.state import IssuerSettings, IssuerState, VerifierState

__all__ = [
    "HolderBinding",
    "HolderBindingFailed",
    "IssuerKeys",
    "IssuerSettings",
    "IssuerState",
    "VerifierState",
    "create_verifier_app",
    "holder_proof_jwt",
    "install",
    "install_issuer",
    "issuer_router",
    "issuer_state_from_runtime",
    "verifier_router",
]
