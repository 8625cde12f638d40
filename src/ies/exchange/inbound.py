"""The receiving side: one pipeline for every inbound Beckn message, and handlers registered per action.

    raw bytes ─► (a) action known ─► (b) size ─► (c) signature (ies.exchange.verify, steps 1–5)
              ─► (d) JSON ─► (e) context (action matches the path) ─► (f) signer is the sender
              ─► (g) payload validation ─► (h) policy ─► (i) replay guard + message log + audit, one txn
              ─► ACK now; the handler runs after, and its answer goes back as a signed `on_*` callback.

Any failure becomes a NACK carrying the error's stable code (HTTP 401 + WWW-Authenticate for signature
failures); on a NACK nothing is written but the message-log/audit line. Handlers are checked when they
are registered, so a misspelt action fails at start-up, not at the first message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from ies.errors import (
    AuthError,
    IESError,
    InternalError,
    InvalidJSON,
    PayloadTooLarge,
    ReplayedMessage,
    SchemaValidationFailed,
    UnsupportedAction,
)
from ies.exchange.context import (
    ALL_ACTIONS,
    Context,
    ack_body,
    callback_of,
    is_callback,
    nack_body,
    normalise_context,
    ttl_seconds,
)
from ies.exchange.messagelog import LoggedMessage, MessageLog
from ies.exchange.signing import ParsedSignature, digest_b64
from ies.exchange.verify import Verifier, check_sender
from ies.registry.records import KeyRecord

__all__ = ["ExchangeRouter", "InboundMessage", "Reply"]

log = logging.getLogger("ies.exchange")

MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass
class InboundMessage:
    """An authenticated inbound message, as handlers see it."""

    action: str
    context: Context
    body: dict[str, Any]
    raw: bytes
    signature: ParsedSignature
    signer: KeyRecord

    @property
    def message(self) -> dict[str, Any]:
        msg = self.body.get("message")
        return msg if isinstance(msg, dict) else {}


@dataclass
class Reply:
    """What the HTTP layer sends back synchronously."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


RequestHandler = Callable[[InboundMessage], Awaitable[dict[str, Any] | None]]
PayloadValidator = Callable[[str, dict[str, Any]], None]
PolicyCheck = Callable[[InboundMessage], Awaitable[None]]
CallbackSender = Callable[[InboundMessage, str, dict[str, Any]], Awaitable[None]]
CallbackSink = Callable[[InboundMessage], None]
RefusalSink = Callable[[str | None, str, str], None]


def _ids_best_effort(raw: bytes) -> tuple[str | None, str | None]:
    """messageId / transactionId of a body we refuse, so the NACK can name the message it answers."""
    try:
        ctx = normalise_context(orjson.loads(raw)["context"])
    except Exception:
        return None, None
    mid, tid = ctx.get("messageId"), ctx.get("transactionId")
    return (mid[:255] if isinstance(mid, str) else None, tid[:255] if isinstance(tid, str) else None)


def basic_envelope_check(action: str, body: dict[str, Any]) -> None:
    """The minimum every Beckn body must satisfy; richer schema checks plug in beside it."""
    if not isinstance(body.get("context"), dict):
        raise SchemaValidationFailed("body has no context object", details={"path": "$.context"})
    has_message = isinstance(body.get("message"), dict)
    if not has_message and not (is_callback(action) and isinstance(body.get("error"), dict)):
        raise SchemaValidationFailed("body has no message object", details={"path": "$.message"})


class ExchangeRouter:
    def __init__(
        self,
        *,
        subscriber_id: str,
        verifier: Verifier,
        log: MessageLog,
        send_callback: CallbackSender | None = None,
        on_callback: CallbackSink | None = None,
        on_refused_callback: RefusalSink | None = None,
        validators: list[PayloadValidator] | None = None,
        policy: PolicyCheck | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        self.subscriber_id = subscriber_id
        self.verifier = verifier
        self.log = log
        self.send_callback = send_callback
        self.on_callback = on_callback
        self.on_refused_callback = on_refused_callback
        self.validators = validators if validators is not None else [basic_envelope_check]
        self.policy = policy
        self.max_body_bytes = max_body_bytes
        self.handlers: dict[str, RequestHandler] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- registration -------------------------------------------------------------------------------
    def on(self, action: str) -> Callable[[RequestHandler], RequestHandler]:
        if action not in ALL_ACTIONS:
            raise ValueError(f"unknown Beckn action {action!r}; valid: {', '.join(sorted(ALL_ACTIONS))}")

        def register(fn: RequestHandler) -> RequestHandler:
            self.handlers[action] = fn
            return fn

        return register

    def accepts(self, action: str) -> bool:
        return action in self.handlers or (is_callback(action) and self.on_callback is not None)

    # -- the pipeline ------------------------------------------------------------------------------
    async def receive(self, action: str, authorization: str | None, raw: bytes) -> Reply:
        message_id: str | None = None
        signer_id: str | None = None
        transaction_id: str | None = None
        key_id: str | None = None
        try:
            if action not in ALL_ACTIONS or not self.accepts(action):  # (a)
                raise UnsupportedAction(f"this node does not handle {action!r}")
            if len(raw) > self.max_body_bytes:  # (b)
                raise PayloadTooLarge(f"body of {len(raw)} bytes exceeds {self.max_body_bytes}")
            parsed, signer = await self.verifier.authenticate(authorization, raw)  # (c)
            signer_id, key_id = parsed.subscriber_id, f"{parsed.subscriber_id}|{parsed.key_id}|ed25519"
            try:  # (d)
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise InvalidJSON("body is not valid JSON") from None
            if not isinstance(body, dict) or not isinstance(body.get("context"), dict):
                raise SchemaValidationFailed("body has no context object", details={"path": "$.context"})
            raw_ctx = normalise_context(body["context"])
            message_id = raw_ctx.get("messageId") if isinstance(raw_ctx.get("messageId"), str) else None
            try:  # (e)
                context = Context.model_validate(raw_ctx)
            except ValidationError as exc:
                first = exc.errors()[0]
                path = "$.context." + ".".join(str(p) for p in first["loc"])
                raise SchemaValidationFailed(f"context: {first['msg']}", details={"path": path}) from None
            transaction_id = context.transactionId
            if context.action != action:
                raise SchemaValidationFailed(
                    f"context.action {context.action!r} does not match the endpoint {action!r}",
                    details={"path": "$.context.action"},
                )
            check_sender(parsed, context.sender_id())  # (f)
            for validate in self.validators:  # (g)
                validate(action, body)
            msg = InboundMessage(action, context, body, raw, parsed, signer)
            if self.policy is not None:  # (h)
                await self.policy(msg)
            until = datetime.fromtimestamp(max(parsed.expires, parsed.created), UTC) + timedelta(
                seconds=max(ttl_seconds(context.ttl), 60)
            )
            await self.log.arecord(  # (i)
                self._line(msg.action, signer_id, message_id, transaction_id, "ACK", None, 200, raw, key_id),
                replay_key=(parsed.subscriber_id, action, context.messageId),
                replay_until=until,
            )
        except ReplayedMessage as err:  # the log already holds its NACK line, written in place of the ACK
            return self._nack_reply(err, action, message_id)
        except IESError as err:
            return await self._nack(err, action, raw, signer_id, message_id, transaction_id, key_id)
        except Exception:  # a bug must not crash the server or leak a traceback to the peer
            log.exception("unexpected error receiving %s", action)
            internal = InternalError("internal error")
            return await self._nack(internal, action, raw, signer_id, message_id, transaction_id, key_id)
        self._dispatch(msg)
        return Reply(200, ack_body(context.messageId))

    def _line(
        self,
        action: str,
        sender: str | None,
        message_id: str | None,
        transaction_id: str | None,
        outcome: str,
        code: str | None,
        status: int,
        raw: bytes,
        key_id: str | None,
    ) -> LoggedMessage:
        return LoggedMessage(
            direction="in",
            action=action[:64],
            sender_id=sender,
            receiver=self.subscriber_id,
            message_id=message_id[:255] if message_id else None,
            transaction_id=transaction_id[:255] if transaction_id else None,
            outcome=outcome,
            error_code=code,
            http_status=status,
            digest=digest_b64(raw),
            key_id=key_id,
            body=raw.decode("utf-8", "replace") if outcome == "ACK" else None,
        )

    async def _nack(
        self,
        err: IESError,
        action: str,
        raw: bytes,
        sender: str | None,
        message_id: str | None,
        transaction_id: str | None,
        key_id: str | None,
    ) -> Reply:
        if message_id is None:
            message_id, transaction_id = _ids_best_effort(raw)
        try:
            await self.log.arecord(
                self._line(
                    action, sender, message_id, transaction_id, "NACK", err.code, err.http_status, raw, key_id
                )
            )
        except Exception:
            log.exception("could not record a NACK line")
        return self._nack_reply(err, action, message_id)

    def _nack_reply(self, err: IESError, action: str, message_id: str | None) -> Reply:
        if is_callback(action) and self.on_refused_callback is not None:
            self.on_refused_callback(message_id, action, err.code)
        headers = {}
        if isinstance(err, AuthError) and err.http_status == 401:
            headers["WWW-Authenticate"] = (
                f'Signature realm="{self.subscriber_id}",headers="(created) (expires) digest"'
            )
        return Reply(err.http_status, nack_body(message_id, err.to_dict()), headers)

    # -- after the ACK ---------------------------------------------------------------------------
    def _dispatch(self, msg: InboundMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._run_handler(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_handler(self, msg: InboundMessage) -> None:
        try:
            if is_callback(msg.action) and self.on_callback is not None:
                self.on_callback(msg)
            handler = self.handlers.get(msg.action)
            if handler is None:
                return
            try:
                answer = await handler(msg)
            except IESError as err:
                answer = {"__error__": err.to_dict()}
            except Exception:  # a bug in a handler: tell the peer now rather than let it time out
                log.exception("handler for %s failed", msg.action)
                answer = {"__error__": InternalError("the handler failed").to_dict()}
            if answer is not None and not is_callback(msg.action) and self.send_callback is not None:
                await self.send_callback(msg, callback_of(msg.action), answer)
        except Exception:
            log.exception("handler for %s failed", msg.action)

    async def drain(self) -> None:
        """Wait for handlers still running (used at shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
