"""The Beckn wire: context and actions, BECKN-006 signatures, the receiving pipeline and the signed client.

A use case writes only handlers: `runtime.router.on("select")(handler)`; the pipeline authenticates,
refuses replays, logs and audits, validates, applies policy and answers with a signed callback.
"""

from ies.exchange.context import ACTIONS, ALL_ACTIONS, CALLBACKS, Context, ack_body, nack_body, new_context
from ies.exchange.inbound import ExchangeRouter, InboundMessage, Reply
from ies.exchange.messagelog import LoggedMessage, MessageLog
from ies.exchange.outbound import Ack, BecknClient
from ies.exchange.signing import build_authorization, digest_b64, parse_authorization, verify_parsed
from ies.exchange.verify import Verifier

__all__ = [
    "ACTIONS",
    "ALL_ACTIONS",
    "CALLBACKS",
    "Ack",
    "BecknClient",
    "Context",
    "ExchangeRouter",
    "InboundMessage",
    "LoggedMessage",
    "MessageLog",
    "Reply",
    "Verifier",
    "ack_body",
    "build_authorization",
    "digest_b64",
    "nack_body",
    "new_context",
    "parse_authorization",
    "verify_parsed",
]
