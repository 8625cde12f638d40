"""The one HTTP shape of an error outside the Beckn wire: `{"error": {"code", "message"[, "details"]}}`
with the status `ies.errors` maps the error to. (Beckn actions answer NACK bodies instead.)"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from ies.errors import IESError, to_http

__all__ = ["error_response"]


def error_response(err: IESError) -> JSONResponse:
    status, body = to_http(err)
    return JSONResponse({"error": body}, status_code=status)
