"""Templates a WhatsApp Business Account already holds, in Meta's listing shape (the examples
of Meta's OpenAPI description and its template guides): one of each kind a business comes
with, sendable by Herald or not."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from herald.db import session_factory
from herald.models import User
from tests.conftest import DatabaseUnderTest

POSITIONAL = {
    "name": "order_shipped",
    "language": "en_US",
    "category": "UTILITY",
    "status": "APPROVED",
    "quality_score": {"score": "GREEN"},
    "components": [
        {
            "type": "BODY",
            "text": "Hello {{1}}, your order {{2}} has shipped.",
            "example": {"body_text": [["Sam", "A-100"]]},
        },
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]},
    ],
}
NAMED = {
    "name": "welcome_named",
    "language": "en_US",
    "category": "MARKETING",
    "parameter_format": "NAMED",
    "components": [
        {
            "type": "BODY",
            "text": "Welcome {{first_name}}, enjoy {{discount}} off.",
            "example": {
                "body_text_named_params": [
                    {"param_name": "first_name", "example": "Sam"},
                    {"param_name": "discount", "example": "10%"},
                ]
            },
        }
    ],
}
MEDIA_HEADER = {
    "name": "invoice_ready",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {
            "type": "HEADER",
            "format": "DOCUMENT",
            "example": {"header_handle": ["https://scontent.whatsapp.net/v/invoice.pdf"]},
        },
        {
            "type": "BODY",
            "text": "Your invoice {{1}} is attached.",
            "example": {"body_text": [["INV-7"]]},
        },
    ],
}
TEXT_HEADER = {
    "name": "parcel_on_its_way",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "Parcel {{1}}",
            "example": {"header_text": ["P-42"]},
        },
        {"type": "BODY", "text": "It is on its way."},
    ],
}
BUTTONS = {
    "name": "track_or_call",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "BODY", "text": "Your order {{1}} is ready.", "example": {"body_text": [["A1"]]}},
        {
            "type": "BUTTONS",
            "buttons": [
                {
                    "type": "URL",
                    "text": "Track",
                    "url": "https://shop.example.com/track/{{1}}",
                    "example": ["https://shop.example.com/track/A1"],
                },
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100"},
            ],
        },
    ],
}
COPY_CODE = {
    "name": "summer_coupon",
    "language": "en_US",
    "category": "MARKETING",
    "components": [
        {"type": "BODY", "text": "Summer is here: use your code."},
        {
            "type": "BUTTONS",
            "buttons": [{"type": "COPY_CODE", "text": "Copy offer code", "example": ["SUN10"]}],
        },
    ],
}
OTP = {
    "name": "login_code",
    "language": "en_US",
    "category": "AUTHENTICATION",
    "components": [
        {
            "type": "BODY",
            "text": "*{{1}}* is your verification code. For your security, do not share this code.",
            "add_security_recommendation": True,
        },
        {
            "type": "FOOTER",
            "text": "This code expires in 10 minutes.",
            "code_expiration_minutes": 10,
        },
        {
            "type": "BUTTONS",
            "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}],
        },
    ],
}
CAROUSEL = {
    "name": "summer_carousel",
    "language": "en_US",
    "category": "MARKETING",
    "components": [
        {"type": "BODY", "text": "Our summer picks."},
        {
            "type": "CAROUSEL",
            "cards": [
                {
                    "components": [
                        {
                            "type": "HEADER",
                            "format": "IMAGE",
                            "example": {"header_handle": ["https://scontent.whatsapp.net/a.png"]},
                        },
                        {"type": "BODY", "text": "Sun hat"},
                        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Buy"}]},
                    ]
                },
                {
                    "components": [
                        {
                            "type": "HEADER",
                            "format": "IMAGE",
                            "example": {"header_handle": ["https://scontent.whatsapp.net/b.png"]},
                        },
                        {"type": "BODY", "text": "Beach towel"},
                        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Buy"}]},
                    ]
                },
            ],
        },
    ],
}
EVERY_KIND = [POSITIONAL, NAMED, MEDIA_HEADER, TEXT_HEADER, BUTTONS, COPY_CODE, OTP, CAROUSEL]


async def user_id(db: DatabaseUnderTest, email: str = "ana@example.com") -> int:
    async with session_factory(db.engine)() as session:
        found = await session.execute(select(User.id).where(User.email == email))
        return int(found.scalar_one())


def waba_of(user: int) -> str:
    """The account of a user's built-in emulator channel (channel/service.ensure_default)."""
    return str(100_000_000_000 + user)


async def seed(
    emulator: httpx.AsyncClient, waba_id: str, templates: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    answer = await emulator.post(
        "/_emulator/templates/seed", json={"waba_id": waba_id, "templates": templates}
    )
    assert answer.status_code == 200, answer.text
    placed: list[dict[str, Any]] = answer.json()
    return placed
