"""Every public route, mounted in one list."""

from __future__ import annotations

from fastapi import FastAPI

from herald.analytics.endpoints import router as analytics_router
from herald.auth.endpoints import router as auth_router
from herald.callback.endpoints import router as callback_router
from herald.channel.endpoints import router as channel_router
from herald.channel.health_endpoints import router as channel_health_router
from herald.contact.endpoints import router as contact_router
from herald.conversation.endpoints import router as conversation_router
from herald.health.endpoints import router as health_router
from herald.media.endpoints import router as media_router
from herald.message.endpoints import router as message_router
from herald.meta_webhook.endpoints import router as meta_webhook_router
from herald.opt_out.endpoints import router as opt_out_router
from herald.secret_key.endpoints import router as secret_key_router
from herald.template.endpoints import router as template_router
from herald.user.endpoints import router as user_router

ROUTERS = (
    health_router,
    auth_router,
    user_router,
    contact_router,
    template_router,
    message_router,
    media_router,
    conversation_router,
    analytics_router,
    opt_out_router,
    secret_key_router,
    callback_router,
    channel_health_router,
    channel_router,
    meta_webhook_router,
)


def mount_routes(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
