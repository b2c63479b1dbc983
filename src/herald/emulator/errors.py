"""Meta's error envelope."""

from __future__ import annotations

import secrets

from fastapi.responses import JSONResponse

MESSAGES = {
    100: "Invalid parameter",
    104: "An access token is required to request this resource",
    190: "Invalid OAuth access token - Cannot parse access token",
    368: "Temporarily blocked for policies violations",
    130429: "Rate limit hit",
    131000: "Something went wrong",
    131026: "Message undeliverable",
    131031: "Business Account locked",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131008: "Required parameter is missing",
    131009: "Parameter value is not valid",
    131053: "Media upload error: the media id is unknown or expired",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    132012: "Parameter format does not match format in the created template",
    132015: "Template is Paused",
    132016: "Template is Disabled",
}


def meta_error(
    code: int,
    details: str,
    status: int = 400,
    subcode: int | None = None,
    message: str | None = None,
) -> JSONResponse:
    error: dict[str, object] = {
        "message": message or MESSAGES.get(code, "Error"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": secrets.token_urlsafe(12),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


class MetaError(Exception):
    """Raised in a route; the emulator app renders it as Meta's error envelope."""

    def __init__(
        self, code: int, details: str, status: int = 400, subcode: int | None = None
    ) -> None:
        super().__init__(details)
        self.code, self.details, self.status, self.subcode = code, details, status, subcode

    def response(self) -> JSONResponse:
        return meta_error(self.code, self.details, self.status, self.subcode)
