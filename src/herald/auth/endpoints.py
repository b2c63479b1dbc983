from __future__ import annotations

from fastapi import APIRouter, Request

from herald.auth import service
from herald.auth.schemas import LoginAnswer, LoginRequest, TokenOut
from herald.deps import RuntimeDep, SessionDep

router = APIRouter(tags=["auth"])


@router.post("/api/login_check")
async def login_check(
    body: LoginRequest, request: Request, session: SessionDep, runtime: RuntimeDep
) -> LoginAnswer:
    address = request.client.host if request.client else "unknown"
    token = await service.login(session, runtime, body.username, body.password, address)
    ttl = runtime.settings.token_ttl_seconds
    return LoginAnswer(data=TokenOut(token=token, expires_in=ttl), token=token)
